import express, { type Request, type Response, type Router } from 'express';
import { cookieName, clearCookie, readCookies, setCookie } from '../http/cookies';
import { pickLang } from '../http/lang';
import type { Branding } from '../http/layout';
import { clientKey, type RateLimiter } from '../http/rate-limit';
import { asyncRoute } from '../http/security';
import { isUserError } from '../errors';
import { looksLikeToken, newToken } from '../security/tokens';
import { safeNext, type StaffAuth } from './auth';
import { SSO_PATHS, type StaffSso } from './sso';
import { noAccessPage, ssoFailedPage, ssoFailureStatus } from './sso-pages';
import type { Role } from './types';

/** Where an employee lands after signing in without a `next`: the page of their first role. */
export function homeFor(roles: readonly Role[]): string {
  if (roles.includes('agent')) return '/agent';
  if (roles.includes('kcc')) return '/kcc/afspraak';
  if (roles.includes('admin')) return '/admin/';
  return '/staff';
}

export interface SsoRouteOptions {
  /** The sign-in through the gemeente's provider now (undefined: these routes are not there, 404). */
  sso: () => StaffSso | undefined;
  auth: StaffAuth;
  secure: boolean;
  /** The one sign-in limit per client network (every sign-in door). */
  limiter: RateLimiter;
  branding?: () => Branding | undefined;
  log?: (m: string) => void;
}

/** Minutes a started sign-in may take at the provider (the pending request lives as long). */
const BINDING_MAX_AGE_SEC = 10 * 60;

/**
 * The sign-in door of the gemeente's provider on the staff login router:
 * - GET /login/sso?next=…  counts in the sign-in limit, binds the attempt to a cookie of this browser (a random
 *   value; only its hash waits with the attempt) and sends the browser to the provider.
 * - GET /login/sso/callback  the redirect URI: a refused callback (forged or replayed state, another browser, a wrong
 *   issuer or nonce) counts in the sign-in limit too and gets a page saying why; a person without a mapped group the
 *   "no access" page; otherwise a new session and the page asked for (or the page of their role).
 * - GET /login/sso/signed-out  the post-logout redirect URI: back to the sign-in page.
 */
export function addSsoRoutes(r: Router, o: SsoRouteOptions): void {
  const binding = cookieName('idv_sso', o.secure);
  const branding = () => o.branding?.();
  const failed = (req: Request, res: Response, status: number, reason: Parameters<typeof ssoFailedPage>[1]) =>
    res.status(status).type('html').send(ssoFailedPage(pickLang(req), reason, branding()));

  r.all(Object.values(SSO_PATHS), (_req, res, next) => {
    const sso = o.sso();
    if (!sso) return next('router');
    res.locals.idvSso = sso;
    next();
  });
  const sso = (res: Response) => res.locals.idvSso as StaffSso;

  r.get(SSO_PATHS.start, asyncRoute(async (req, res) => {
    const limit = await o.limiter.hit(clientKey(req));
    if (!limit.ok) {
      res.setHeader('Retry-After', String(limit.retryAfterSec));
      return failed(req, res, 429, 'busy');
    }
    const existing = readCookies(req)[binding];
    // One value per browser for ten minutes: two tabs signing in at once both finish.
    const value = looksLikeToken(existing) ? existing : newToken();
    const next = safeNext(req.query.next, '');
    let url: string;
    try {
      url = await sso(res).start(value, next || undefined, req.query.prompt === 'login');
    } catch (e) {
      if (isUserError(e) && e.status === 503) return failed(req, res, 503, 'busy');
      if (isUserError(e) && e.status === 502) return failed(req, res, 502, 'provider_error');
      throw e;
    }
    setCookie(res, binding, value, { secure: o.secure, sameSite: 'Lax', maxAgeSeconds: BINDING_MAX_AGE_SEC });
    res.redirect(303, url);
  }));

  r.get(SSO_PATHS.callback, asyncRoute(async (req, res) => {
    const outcome = await sso(res).finish(req.originalUrl, readCookies(req)[binding] ?? '');
    const lang = pickLang(req);
    if (outcome.kind === 'failed') {
      o.log?.(`staff sign-in callback refused (${outcome.reason})`);
      const limit = await o.limiter.hit(clientKey(req));
      if (!limit.ok) res.setHeader('Retry-After', String(limit.retryAfterSec));
      return failed(req, res, ssoFailureStatus(outcome.reason), outcome.reason);
    }
    if (outcome.kind === 'no_access') {
      return res.status(403).type('html').send(noAccessPage(lang, outcome.reason, outcome.displayName, branding()));
    }
    clearCookie(res, binding, o.secure);
    o.auth.startSession(res, outcome.sessionId);
    res.redirect(303, outcome.next ?? homeFor(outcome.user.roles));
  }));

  r.get(SSO_PATHS.signedOut, (_req, res) => res.redirect(303, '/login?out=1'));

  // OpenID Connect Back-Channel Logout 1.0, section 2.5/2.8: the provider POSTs logout_token as a form; 200 when the
  // sessions ended (or there were none), 400 with error/error_description for a token that is not valid. No cookie,
  // no CSRF token: the token's signature is the proof. Never cached.
  r.post(SSO_PATHS.backchannelLogout, express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 5 }), asyncRoute(async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const outcome = await sso(res).backchannelLogout(body.logout_token);
    if (outcome.ok) return res.status(200).end();
    if (outcome.status === 503) res.setHeader('Retry-After', '30');
    res.status(outcome.status).json({ error: outcome.status === 400 ? 'invalid_request' : 'temporarily_unavailable', error_description: outcome.message });
  }));
}
