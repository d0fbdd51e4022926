import { EventEmitter } from 'node:events';
import { ExactCache, type CacheTimers } from '../memory/exact-cache';
import { UserError } from '../errors';
import { looksLikeToken, newToken } from '../security/tokens';
import type { Attribute } from '../auth/claims';

export type { CacheTimers } from '../memory/exact-cache';

/** A verified set as kept in memory for the agent's screen. */
export interface AttributeSet {
  attributeSetId: string;
  appointmentId: string;
  requestId: string;
  methodId: string;
  acr?: string;
  attributes: Attribute[];
  /** UTC ISO time the set was stored and when it will be gone at the latest. */
  storedAt: string;
  expiresAt: string;
}

export type AttributeSetInput = Omit<AttributeSet, 'attributeSetId' | 'storedAt' | 'expiresAt'>;

/** What the events tell: references only, so a listener can log or forward it without leaking a value. */
export interface AttributeSetEvent {
  attributeSetId: string;
  appointmentId: string;
}

export interface AttributeCacheOptions {
  /** Default lifetime in seconds (15 minutes). */
  defaultTtlSec?: number;
  /**
   * node-cache's sweep period in seconds (default 60). Expiry does not depend on it: every set has its own timer for
   * its exact lifetime; the sweep is only node-cache's own backstop.
   */
  checkPeriodSec?: number;
  /** Upper bound on sets held at once; beyond it put() refuses rather than letting memory grow without end. */
  maxSets?: number;
  timers?: CacheTimers;
}

export interface AttributeCacheStats {
  sets: number;
  hits: number;
  misses: number;
}

/**
 * The only place attribute values live: in memory, for minutes, never on disk. The store is
 * lib/memory/exact-cache.ts (node-cache 5.1.2 without clones, so it holds the single copy): each set has its own timer
 * for its exact lifetime, and every way out — expiry (ours or node-cache's), delete, flush, close — wipes the object in
 * place (values blanked, list emptied), so nothing can reach the values afterwards. get() hands out a fresh copy for
 * rendering that the caller drops at once. This class adds what is particular to attribute sets: unguessable ids,
 * input checks, per-appointment deletion (call end) and the id-only events the identification service listens to.
 */
export class AttributeCache extends EventEmitter<{ expired: [AttributeSetEvent]; deleted: [AttributeSetEvent] }> {
  private readonly cache: ExactCache<AttributeSet>;
  private readonly defaultTtlSec: number;
  private hits = 0;
  private misses = 0;

  constructor(opts: AttributeCacheOptions = {}) {
    super();
    this.defaultTtlSec = opts.defaultTtlSec ?? 15 * 60;
    this.cache = new ExactCache<AttributeSet>({
      wipe,
      // Ids only: the wipe may already have blanked the values (node-cache's own expiry deletes first).
      onExpired: (_key, set) => this.emit('expired', { attributeSetId: set.attributeSetId, appointmentId: set.appointmentId }),
      maxEntries: opts.maxSets ?? 10_000,
      checkPeriodSec: opts.checkPeriodSec ?? 60,
      ...(opts.timers ? { timers: opts.timers } : {}),
    });
  }

  /** Stores a verified set and returns its new unguessable id (the reference that messages may carry). */
  put(input: AttributeSetInput, ttlSec: number = this.defaultTtlSec): string {
    if (!Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > 24 * 3600) throw new UserError(400, 'invalid_ttl', 'The attribute lifetime must be 1 second to 24 hours');
    if (typeof input.appointmentId !== 'string' || input.appointmentId.length === 0) throw new UserError(400, 'invalid_attribute_set', 'appointmentId is required');
    if (!Array.isArray(input.attributes)) throw new UserError(400, 'invalid_attribute_set', 'attributes must be a list');
    const id = newToken();
    const now = Date.now();
    const set: AttributeSet = {
      attributeSetId: id,
      appointmentId: input.appointmentId,
      requestId: input.requestId,
      methodId: input.methodId,
      ...(input.acr !== undefined ? { acr: input.acr } : {}),
      attributes: input.attributes.map((a) => ({ key: a.key, labelNl: a.labelNl, labelEn: a.labelEn, value: a.value })),
      storedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlSec * 1000).toISOString(),
    };
    if (!this.cache.put(id, set, ttlSec * 1000)) {
      wipe(set);
      throw new UserError(503, 'attribute_cache_full', 'Too many verified attribute sets are held; try again later');
    }
    return id;
  }

  /** A copy of the set, or undefined when unknown, deleted or expired (expiry is checked on read as well). */
  get(id: string): AttributeSet | undefined {
    const set = looksLikeToken(id) ? this.cache.get(id) : undefined;
    if (!set) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { ...set, attributes: set.attributes.map((a) => ({ ...a })) };
  }

  has(id: string): boolean {
    return looksLikeToken(id) && this.cache.get(id) !== undefined;
  }

  /** Deletes and wipes one set; true when it existed. */
  delete(id: string): boolean {
    if (!looksLikeToken(id)) return false;
    const set = this.cache.get(id);
    if (!set) return false;
    const ev = { attributeSetId: set.attributeSetId, appointmentId: set.appointmentId };
    this.cache.delete(id);
    this.emit('deleted', ev);
    return true;
  }

  /** Deletes every set of an appointment (call end); returns their ids. */
  deleteForAppointment(appointmentId: string): string[] {
    return this.idsForAppointment(appointmentId).filter((id) => this.delete(id));
  }

  /** Ids of the live sets of an appointment (no values), e.g. to restore the agent's panel after a reload. */
  idsForAppointment(appointmentId: string): string[] {
    return this.cache.keys().filter((id) => this.cache.get(id)?.appointmentId === appointmentId);
  }

  /** The appointments that have a live set here (ids only), e.g. to keep their call's room on this instance. */
  appointments(): string[] {
    const ids = new Set<string>();
    for (const id of this.cache.keys()) {
      const set = this.cache.get(id);
      if (set) ids.add(set.appointmentId);
    }
    return [...ids];
  }

  stats(): AttributeCacheStats {
    return { sets: this.cache.size, hits: this.hits, misses: this.misses };
  }

  /** Deletes and wipes every set, each reported as 'deleted'. */
  flush(): void {
    for (const id of this.cache.keys()) this.delete(id);
  }

  /** Wipes everything and stops every timer (shutdown and tests). */
  close(): void {
    this.flush();
    this.cache.close();
  }
}

/** Blanks the values in place so no reference to this object can still reach them. */
function wipe(set: AttributeSet): void {
  for (const a of set.attributes) a.value = '';
  set.attributes.length = 0;
}
