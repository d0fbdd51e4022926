import type { RequestHandler } from 'express';

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

/** Whether a state-changing JSON request may proceed: no Origin (not a browser), our own origin, or a listed one. */
export function originAllowed(origin: string | undefined, host: string | undefined, publicUrl: string, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    const o = new URL(origin);
    if (o.host === host) return true;
    if (o.origin === new URL(publicUrl).origin) return true;
    return allowed.includes(o.origin.toLowerCase());
  } catch {
    return false;
  }
}
