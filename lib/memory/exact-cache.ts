import NodeCache from 'node-cache';

/** Timer functions (tests pass a controllable clock). */
export interface CacheTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: CacheTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ExactCacheOptions<T> {
  /** Blanks a value in place when it leaves the cache, whatever the cause (Buffer.fill(0), strings emptied). */
  wipe(value: T): void;
  /** Called once a value's lifetime ran out, before it is wiped: references only, never the content. */
  onExpired?(key: string, value: T): void;
  /** Upper bound on entries held at once; put() refuses beyond it. */
  maxEntries: number;
  /** node-cache's own sweep (seconds); expiry does not depend on it. Default 60. */
  checkPeriodSec?: number;
  timers?: CacheTimers;
}

/**
 * Memory-only storage with exact expiry for everything a call holds for minutes (verified attribute sets,
 * lib/attributes/cache.ts; the call's chat; shared documents): node-cache without clones holds the single copy; each entry has its own timer for its exact lifetime
 * (node-cache alone removes an expired entry only at its next sweep or read); every way out — expiry, delete, flush,
 * close — goes through node-cache's `del`, whose event wipes the value in place, so no reference can reach the content
 * afterwards.
 */
export class ExactCache<T> {
  private readonly cache: NodeCache;
  private readonly timers: CacheTimers;
  private readonly expiry = new Map<string, unknown>();

  constructor(private readonly o: ExactCacheOptions<T>) {
    this.timers = o.timers ?? realTimers;
    this.cache = new NodeCache({ stdTTL: 0, checkperiod: o.checkPeriodSec ?? 60, useClones: false, deleteOnExpire: true });
    this.cache.on('del', (key: string, value: T) => {
      const handle = this.expiry.get(key);
      if (handle !== undefined) this.timers.clear(handle);
      this.expiry.delete(key);
      this.o.wipe(value);
    });
    // node-cache's own expiry came first (a read or its sweep): told here; its del event has wiped or will wipe it.
    this.cache.on('expired', (key: string, value: T) => this.o.onExpired?.(key, value));
  }

  get size(): number {
    return this.cache.keys().length;
  }

  /** Stores `value` for exactly `ttlMs` (replacing an entry of the same key). False when the cache is full. */
  put(key: string, value: T, ttlMs: number): boolean {
    if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new Error('ttlMs must be positive');
    if (!this.cache.has(key) && this.size >= this.o.maxEntries) return false;
    this.cache.del(key);
    this.cache.set(key, value, Math.ceil(ttlMs / 1000));
    this.expiry.set(key, this.timers.set(() => this.expire(key), ttlMs));
    return true;
  }

  /** Moves the end of an entry's life to `ttlMs` from now (a chat that is still being used). */
  extend(key: string, ttlMs: number): void {
    if (!this.cache.has(key)) return;
    const handle = this.expiry.get(key);
    if (handle !== undefined) this.timers.clear(handle);
    this.cache.ttl(key, Math.ceil(ttlMs / 1000));
    this.expiry.set(key, this.timers.set(() => this.expire(key), ttlMs));
  }

  /** The stored value itself (not a copy): callers read it and never keep it. */
  get(key: string): T | undefined {
    return this.cache.get<T>(key);
  }

  keys(): string[] {
    return this.cache.keys();
  }

  /** Removes (and wipes) one entry; true when it existed. */
  delete(key: string): boolean {
    return this.cache.del(key) > 0;
  }

  private expire(key: string): void {
    this.expiry.delete(key);
    const value = this.cache.get<T>(key);
    if (value === undefined) return;
    this.o.onExpired?.(key, value);
    this.cache.del(key);
  }

  /** Removes and wipes everything. */
  flush(): void {
    for (const key of this.cache.keys()) this.cache.del(key);
  }

  close(): void {
    this.flush();
    this.cache.close();
  }
}
