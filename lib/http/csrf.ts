import type { Request, Response } from 'express';
import { cookieName, readCookies, setCookie } from './cookies';
import { hmac, newToken, safeEqual } from '../security/tokens';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Signed double-submit CSRF protection: a random cookie (HttpOnly, SameSite=Lax) and, in each form, an HMAC of that
 * cookie under the server's key. A foreign site can neither read the cookie nor compute the HMAC; a cookie planted by
 * a sibling subdomain is useless without the key.
 */
export interface Csrf {
  /** The token to put in a form (sets the cookie when the visitor has none yet). */
  issue(req: Request, res: Response): string;
  verify(req: Request): boolean;
}

export function createCsrf(key: Buffer, secure: boolean): Csrf {
  const name = cookieName('idv_csrf', secure);
  const sign = (cookie: string) => hmac(key, `csrf|${cookie}`);
  const current = (req: Request): string | undefined => {
    const v = readCookies(req)[name];
    return v && /^[A-Za-z0-9_-]{22,64}$/.test(v) ? v : undefined;
  };
  return {
    issue(req, res) {
      let cookie = current(req) ?? (res.locals.idvCsrfCookie as string | undefined);
      if (!cookie) {
        cookie = newToken(16);
        res.locals.idvCsrfCookie = cookie;
        setCookie(res, name, cookie, { secure, sameSite: 'Lax' });
      }
      return sign(cookie);
    },
    verify(req) {
      const cookie = current(req);
      const body = req.body as Record<string, unknown> | undefined;
      const sent = (body && typeof body[CSRF_FIELD] === 'string' ? body[CSRF_FIELD] : undefined) ?? req.get(CSRF_HEADER);
      if (!cookie || typeof sent !== 'string') return false;
      return safeEqual(sign(cookie), sent);
    },
  };
}
