import { EventEmitter } from 'node:events';
import NodeCache from 'node-cache';
import { UserError } from '../errors';
import { looksLikeToken, newToken } from '../security/tokens';
import type { Attribute } from '../auth/claims';

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

/** Timer functions (tests pass a controllable clock). */
export interface CacheTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: CacheTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

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
 * The only place attribute values live: in memory, for minutes, never on disk. node-cache (5.1.2, pinned) runs without
 * clones so the cache holds the single copy; get() hands out a fresh copy for rendering that the caller drops at once.
 *
 * node-cache removes an expired entry only at its next sweep or read, and flushAll() drops entries without telling
 * anyone. So the exactness lives here: each set has a timer for its lifetime that removes it on time, and every path
 * out of the cache — expiry (ours or node-cache's), delete, flush, close — goes through node-cache's `del`, whose
 * event wipes the object in place (values blanked, list emptied): nothing can reach the values afterwards.
 */
export class AttributeCache extends EventEmitter<{ expired: [AttributeSetEvent]; deleted: [AttributeSetEvent] }> {
  private readonly cache: NodeCache;
  private readonly defaultTtlSec: number;
  private readonly maxSets: number;
  private readonly timers: CacheTimers;
  private readonly expiry = new Map<string, unknown>();
  private hits = 0;
  private misses = 0;

  constructor(opts: AttributeCacheOptions = {}) {
    super();
    this.defaultTtlSec = opts.defaultTtlSec ?? 15 * 60;
    this.maxSets = opts.maxSets ?? 10_000;
    this.timers = opts.timers ?? realTimers;
    this.cache = new NodeCache({ stdTTL: this.defaultTtlSec, checkperiod: opts.checkPeriodSec ?? 60, useClones: false, deleteOnExpire: true });
    // Every removal, whatever its cause, ends here: wipe the single copy and drop its timer.
    this.cache.on('del', (key: string, value: AttributeSet) => {
      const handle = this.expiry.get(key);
      if (handle !== undefined) this.timers.clear(handle);
      this.expiry.delete(key);
      wipe(value);
    });
    // node-cache's own expiry (a read or its sweep came first): it has already deleted (and so wiped) the set.
    this.cache.on('expired', (_key: string, value: AttributeSet) => {
      this.emit('expired', { attributeSetId: value.attributeSetId, appointmentId: value.appointmentId });
    });
  }

  /** The set's lifetime is over: out of the cache (wiped by the del handler), then told as 'expired'. */
  private expire(id: string): void {
    this.expiry.delete(id);
    const set = this.cache.get<AttributeSet>(id);
    if (!set) return; // node-cache saw it expire on this very read and reported it
    const ev = { attributeSetId: set.attributeSetId, appointmentId: set.appointmentId };
    this.cache.del(id);
    this.emit('expired', ev);
  }

  /** Stores a verified set and returns its new unguessable id (the reference that messages may carry). */
  put(input: AttributeSetInput, ttlSec: number = this.defaultTtlSec): string {
    if (!Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > 24 * 3600) throw new UserError(400, 'invalid_ttl', 'The attribute lifetime must be 1 second to 24 hours');
    if (typeof input.appointmentId !== 'string' || input.appointmentId.length === 0) throw new UserError(400, 'invalid_attribute_set', 'appointmentId is required');
    if (!Array.isArray(input.attributes)) throw new UserError(400, 'invalid_attribute_set', 'attributes must be a list');
    if (this.cache.keys().length >= this.maxSets) throw new UserError(503, 'attribute_cache_full', 'Too many verified attribute sets are held; try again later');
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
    this.cache.set(id, set, ttlSec);
    this.expiry.set(id, this.timers.set(() => this.expire(id), ttlSec * 1000));
    return id;
  }

  /** A copy of the set, or undefined when unknown, deleted or expired (expiry is checked on read as well). */
  get(id: string): AttributeSet | undefined {
    if (!looksLikeToken(id)) {
      this.misses++;
      return undefined;
    }
    const set = this.cache.get<AttributeSet>(id);
    if (!set) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { ...set, attributes: set.attributes.map((a) => ({ ...a })) };
  }

  has(id: string): boolean {
    return looksLikeToken(id) && this.cache.has(id) && this.cache.get(id) !== undefined;
  }

  /** Deletes and wipes one set; true when it existed. */
  delete(id: string): boolean {
    if (!looksLikeToken(id)) return false;
    const set = this.cache.get<AttributeSet>(id);
    if (!set) return false;
    const ev = { attributeSetId: set.attributeSetId, appointmentId: set.appointmentId };
    this.cache.del(id);
    this.emit('deleted', ev);
    return true;
  }

  /** Deletes every set of an appointment (call end); returns their ids. */
  deleteForAppointment(appointmentId: string): string[] {
    const ids: string[] = [];
    for (const id of this.cache.keys()) {
      const set = this.cache.get<AttributeSet>(id);
      if (set && set.appointmentId === appointmentId && this.delete(id)) ids.push(id);
    }
    return ids;
  }

  /** Ids of the live sets of an appointment (no values), e.g. to restore the agent's panel after a reload. */
  idsForAppointment(appointmentId: string): string[] {
    return this.cache.keys().filter((id) => this.cache.get<AttributeSet>(id)?.appointmentId === appointmentId);
  }

  stats(): AttributeCacheStats {
    return { sets: this.cache.keys().length, hits: this.hits, misses: this.misses };
  }

  /** Deletes and wipes every set (each reported as 'deleted'); node-cache's flushAll alone would wipe nothing. */
  flush(): void {
    for (const id of this.cache.keys()) this.delete(id);
    this.cache.flushAll();
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
