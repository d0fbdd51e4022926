import type { Request, RequestHandler } from 'express';
import { createHmac, randomBytes } from 'node:crypto';
import { sendJsonError, wantsJson } from './security';

/** IPs are personal data: limiter keys are HMACs of the address with a per-process key, never the address itself. */
const ipKey = randomBytes(32);
export function hashedIp(req: Request): string {
  const ip = req.ip || req.socket.remoteAddress || 'unknown';
  return createHmac('sha256', ipKey).update(ip).digest('base64url').slice(0, 22);
}

export interface RateLimiter {
  /** Counts one hit; true when the key is still within its budget. */
  hit(key: string): boolean;
  /** Seconds until the key's window ends. */
  retryAfter(key: string): number;
  reset(key: string): void;
}

/**
 * Fixed-window counter in memory, bounded in size so a flood of distinct keys cannot exhaust memory (oldest windows
 * are dropped first). One process only; a multi-instance deployment puts its limits in the reverse proxy as well.
 */
export function createRateLimiter(opts: { windowMs: number; max: number; maxKeys?: number; now?: () => number }): RateLimiter {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 50_000;
  const windows = new Map<string, { start: number; count: number }>();
  const current = (key: string) => {
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= opts.windowMs) {
      w = { start: t, count: 0 };
      windows.delete(key);
      windows.set(key, w);
      while (windows.size > maxKeys) windows.delete(windows.keys().next().value as string);
    }
    return w;
  };
  return {
    hit(key) {
      const w = current(key);
      w.count++;
      return w.count <= opts.max;
    },
    retryAfter(key) {
      const w = windows.get(key);
      return w ? Math.max(1, Math.ceil((w.start + opts.windowMs - now()) / 1000)) : 0;
    },
    reset(key) {
      windows.delete(key);
    },
  };
}

/** Express middleware: 429 with Retry-After when the hashed client address exceeds its budget. */
export function rateLimit(limiter: RateLimiter, message = 'Te veel verzoeken. Probeer het over een paar minuten opnieuw. / Too many requests.'): RequestHandler {
  return (req, res, next) => {
    const key = hashedIp(req);
    if (limiter.hit(key)) return next();
    res.setHeader('Retry-After', String(limiter.retryAfter(key)));
    if (wantsJson(req)) return sendJsonError(res, 429, 'rate_limited', message);
    res.status(429).type('text/plain; charset=utf-8').send(message);
  };
}
