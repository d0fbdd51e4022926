import { createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { sendJsonError, wantsJson } from './security';

/**
 * Rate limits on rate-limiter-flexible (counting, windows, stores) with one way to key a client:
 *
 * - A client is its network: an IPv4 address, or the /64 of an IPv6 address (one subscriber's LAN gets a /64, and
 *   a client rotating through the 2^64 addresses of its own /64 must stay one key). IPv4-mapped IPv6 counts as IPv4.
 * - Addresses are personal data: the stored key is an HMAC of the network, never the address itself (README,
 *   Privacy). The HMAC key is random per process until the composition root derives it from the credential secret
 *   (`useClientKeySecret`), so that every instance of one deployment counts a network under the same key.
 * - Memory is bounded: each key is one counter with an expiry; at most `maxKeys` keys are live at once, and new
 *   networks beyond that share one overflow key (so a flood of networks can neither grow memory without end nor
 *   evict and thereby reset the counters of clients already being counted).
 * - The store is the library's: RateLimiterMemory by default; `store` takes any rate-limiter-flexible limiter
 *   (RateLimiterPostgres from the PostgreSQL store: Services.limiter), which counts across processes.
 */

let ipKey = randomBytes(32);

/** Keys client networks with this secret from now on (lib/services.ts passes one derived from the credential secret). */
export function useClientKeySecret(key: Buffer): void {
  if (key.length < 32) throw new Error('the client key secret must have at least 256 bits');
  ipKey = Buffer.from(key);
}

/** "203.0.113.7" for IPv4 (also when IPv4-mapped), "2001:db8:1:2::/64" for IPv6, "unknown" when unparsable. */
export function clientNetwork(ip: string | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return 'unknown';
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/** The rate-limit key of a request's client: HMAC of its network (see clientNetwork), 22 base64url characters. */
export function clientKey(req: Request): string {
  const network = clientNetwork(req.ip || req.socket.remoteAddress);
  return createHmac('sha256', ipKey).update(network).digest('base64url').slice(0, 22);
}

export interface LimitResult {
  /** True while the key is within its budget. */
  ok: boolean;
  /** Seconds until the key's window ends (at least 1 when refused). */
  retryAfterSec: number;
}

export interface RateLimiter {
  /** Counts `points` (default 1) for the key. */
  hit(key: string, points?: number): Promise<LimitResult>;
  /** The key's state without counting. */
  peek(key: string): Promise<LimitResult>;
  /** Forgets the key's count. */
  reset(key: string): Promise<void>;
}

/** Makes a named rate limit; lib/services.ts gives one whose counters all instances share when the store can. */
export type LimiterFactory = (name: string, o: { windowMs: number; max: number }) => RateLimiter;

export interface RateLimiterOptions {
  windowMs: number;
  max: number;
  /** Live keys at most (memory store only); default 50 000. */
  maxKeys?: number;
  /** A rate-limiter-flexible limiter configured with the same points and duration (e.g. RateLimiterPostgres). */
  store?: RateLimiterAbstract;
}

const OVERFLOW_KEY = 'overflow';

function fromRes(res: RateLimiterRes | null, ok: boolean): LimitResult {
  const ms = res ? Math.max(0, res.msBeforeNext) : 0;
  return { ok, retryAfterSec: ok ? Math.ceil(ms / 1000) : Math.max(1, Math.ceil(ms / 1000)) };
}

export function createRateLimiter(o: RateLimiterOptions): RateLimiter {
  if (!(o.max >= 1) || !(o.windowMs >= 1)) throw new Error('rate limit needs max >= 1 and windowMs >= 1');
  const duration = o.windowMs / 1000;
  const store = o.store ?? new RateLimiterMemory({ points: o.max, duration });
  const bounded = !o.store;
  const maxKeys = o.maxKeys ?? 50_000;
  // Key -> when its window ends, in window order (a renewed window is re-inserted), to know how many keys are live.
  const live = new Map<string, number>();

  const admit = (key: string): string => {
    if (!bounded) return key;
    const t = Date.now();
    const until = live.get(key);
    if (until !== undefined && until > t) return key;
    for (const [k, end] of live) {
      if (end > t) break;
      live.delete(k);
    }
    live.delete(key);
    if (live.size >= maxKeys) return OVERFLOW_KEY;
    live.set(key, t + o.windowMs);
    return key;
  };

  return {
    async hit(key, points = 1) {
      const k = admit(key);
      try {
        return fromRes(await store.consume(k, points), true);
      } catch (e) {
        if (e instanceof RateLimiterRes) return fromRes(e, false);
        throw e;
      }
    },
    async peek(key) {
      const res = await store.get(!bounded || live.has(key) || live.size < maxKeys ? key : OVERFLOW_KEY);
      return fromRes(res, !res || res.consumedPoints <= o.max);
    },
    async reset(key) {
      live.delete(key);
      await store.delete(key);
    },
  };
}

/** Express middleware: 429 with Retry-After when the client's network is over its budget. */
export function rateLimit(limiter: RateLimiter, message = 'Te veel verzoeken. Probeer het over een paar minuten opnieuw. / Too many requests.'): RequestHandler {
  return (req, res, next) => {
    limiter
      .hit(clientKey(req))
      .then((r) => {
        if (r.ok) return next();
        res.setHeader('Retry-After', String(r.retryAfterSec));
        if (wantsJson(req)) return sendJsonError(res, 429, 'rate_limited', message);
        res.status(429).type('text/plain; charset=utf-8').send(message);
      })
      .catch(next);
  };
}
