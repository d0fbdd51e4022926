import type { Request, RequestHandler } from 'express';

/**
 * CORS for the JSON API, off unless the administrator lists origins (the gemeente's own front end). Exact origin
 * match, no credentials: the API needs no cookies, so a listed site can book but never act as a signed-in user.
 */
export function corsAllowList(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.append('Vary', 'Origin');
    const origin = req.headers.origin;
    const ok = typeof origin === 'string' && allowed.has(origin.toLowerCase());
    if (ok) res.setHeader('Access-Control-Allow-Origin', origin);
    if (req.method !== 'OPTIONS') return next();
    if (ok) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Accept');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    // A preflight from an origin not on the list gets no allow headers: the browser then refuses the real request.
    res.status(204).end();
  };
}

/**
 * Whether a state-changing JSON request may proceed: no Origin (not a browser), our own origin, or a listed one.
 * "Origin: null" is what a browser sends for a same-origin post under Referrer-Policy no-referrer, but also from
 * sandboxed frames: only the browser-set Sec-Fetch-Site tells them apart.
 */
export function originAllowed(req: Request, publicUrl: string, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return req.headers['sec-fetch-site'] === 'same-origin';
  try {
    const o = new URL(origin);
    if (o.host === req.headers.host) return true;
    if (o.origin === new URL(publicUrl).origin) return true;
    return allowed.includes(o.origin.toLowerCase());
  } catch {
    return false;
  }
}
