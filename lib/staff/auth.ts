import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { clearCookie, cookieName, readCookies, setCookie } from '../http/cookies';
import { sendErrorPage } from '../http/errors';
import { pickLang } from '../http/lang';
import { sendJsonError, wantsJson } from '../http/security';
import { openWithToken, sealWithToken } from '../security/seal';
import { hashToken, newToken } from '../security/tokens';
import { dummyHash, verifyPassword } from './password';
import type { Role, StaffIdentity, StaffStore, StaffUser } from './types';

/** The seal purpose of the ID token kept for a sign-out at the provider (staff sessions and editor tokens). */
export const LOGOUT_HINT_PURPOSE = 'staff logout hint';

export interface StaffAuthOptions {
  store: StaffStore;
  /** Behind https: Secure cookies with the __Host- prefix. */
  secure: boolean;
  idleMinutes?: number;
  absoluteHours?: number;
  /** Consecutive failures before the account backs off (doubling from one minute, capped at 15 minutes). */
  maxFailures?: number;
  now?: () => Date;
  loginPath?: string;
  /**
   * Local accounts (a password of ours) may sign in; default true. When false only accounts of the gemeente's
   * identity provider sign in, and sessions of local accounts stop working at once.
   */
  localAccounts?: boolean;
  /**
   * Whether the staff pages (not the flow editor) take local accounts now: an idv-staff-sso node may switch them off
   * for the pages (lib/staff/sso-node-config.ts). Read per request; it can only narrow `localAccounts`.
   */
  pagesLocalAccounts?: () => boolean;
}

export type VerifyResult = { ok: true; user: StaffIdentity } | { ok: false; reason: 'invalid' | 'locked' };
export type LoginResult = { ok: true; sessionId: string; user: StaffIdentity } | { ok: false; reason: 'invalid' | 'locked' };

declare module 'express-serve-static-core' {
  interface Request {
    staff?: StaffIdentity;
  }
}

export interface StaffAuth {
  readonly cookie: string;
  /**
   * Checks a username and password (failures count towards the account's back-off) without starting anything:
   * every sign-in door (the staff form, the editor's token endpoint) starts its own kind of session after it.
   */
  verify(username: string, password: string): Promise<VerifyResult>;
  /** verify() plus a new staff session (the cookie value is returned once; only its hash is stored). */
  login(username: string, password: string): Promise<LoginResult>;
  /**
   * A new session for an account the caller has signed in another way (the identity provider). `idToken` is kept,
   * sealed with the session's secret, for the sign-out at the provider; `ssoSid` the provider session it came from
   * (hashed, for a back-channel logout). Returns the cookie value (once).
   */
  openSession(username: string, idToken?: string, ssoSid?: string): Promise<string>;
  /** Whether local accounts (passwords of ours) may sign in (the environment's setting; the editor's door). */
  readonly localAccounts: boolean;
  /** Whether local accounts may sign in to the staff pages now (`localAccounts` narrowed by an idv-staff-sso node). */
  pagesLocalAccounts(): boolean;
  /** The ID token this browser's session was opened with (an SSO sign-in), e.g. to hand on to an editor token. */
  idTokenOf(req: Request): Promise<string | undefined>;
  /** The signed-in employee of this request, or undefined (unknown, idle or too old sessions are removed). */
  identify(req: Request): Promise<StaffIdentity | undefined>;
  startSession(res: Response, sessionId: string): void;
  /**
   * Ends this browser's session and clears its cookie. Returns the ID token the session was opened with (an SSO
   * sign-in), for the sign-out at the provider.
   */
  logout(req: Request, res: Response): Promise<{ idToken?: string }>;
  /** Middleware: sign-in required (redirect to the login page for pages, 401 for APIs), then one of the roles. */
  requireStaff(...roles: Role[]): RequestHandler;
  purge(): Promise<number>;
}

export function createStaffAuth(o: StaffAuthOptions): StaffAuth {
  const now = o.now ?? (() => new Date());
  const idleMs = (o.idleMinutes ?? 30) * 60_000;
  const absoluteMs = (o.absoluteHours ?? 10) * 3_600_000;
  const maxFailures = o.maxFailures ?? 5;
  const cookie = cookieName('idv_staff', o.secure);
  const loginPath = o.loginPath ?? '/login';
  const localAccounts = o.localAccounts ?? true;
  const pagesLocalAccounts = () => localAccounts && (o.pagesLocalAccounts?.() ?? true);

  const sessionIdFrom = (req: Request): string | undefined => {
    const v = readCookies(req)[cookie];
    return v && /^[A-Za-z0-9_-]{43}$/.test(v) ? v : undefined;
  };

  const auth: StaffAuth = {
    cookie,
    localAccounts,
    pagesLocalAccounts,
    async verify(username, password) {
      const name = String(username ?? '').trim().toLowerCase().slice(0, 64);
      const found = name ? await o.store.getUser(name) : undefined;
      // An account of the identity provider has no password here: it is refused like an unknown one, without
      // counting failures (which would lock it), and after the same work.
      const user = found && !found.sso ? found : undefined;
      // Verify against a dummy hash for unknown users so timing does not reveal which usernames exist.
      const ok = await verifyPassword(String(password ?? '').slice(0, 1024), user?.passwordHash ?? (await dummyHash()));
      if (!user || user.disabled || !localAccounts) return { ok: false, reason: 'invalid' };
      const t = now();
      if (user.lockedUntil && new Date(user.lockedUntil) > t) return { ok: false, reason: 'locked' };
      if (!ok) {
        const failures = user.failedLogins + 1;
        const lock =
          failures >= maxFailures
            ? new Date(t.getTime() + Math.min(15, 2 ** (failures - maxFailures)) * 60_000).toISOString()
            : undefined;
        await o.store.recordFailure(user.username, lock);
        return { ok: false, reason: lock ? 'locked' : 'invalid' };
      }
      await o.store.resetFailures(user.username);
      return { ok: true, user: { username: user.username, displayName: user.displayName, roles: user.roles } };
    },
    async login(username, password) {
      if (!pagesLocalAccounts()) return { ok: false, reason: 'invalid' };
      const result = await auth.verify(username, password);
      if (!result.ok) return result;
      const sessionId = await auth.openSession(result.user.username);
      return { ok: true, sessionId, user: result.user };
    },
    async openSession(username, idToken, ssoSid) {
      const sessionId = newToken();
      const hint = idToken ? sealWithToken(sessionId, LOGOUT_HINT_PURPOSE, idToken) : undefined;
      await o.store.createSession(hashToken(sessionId), username, now().toISOString(), hint, ssoSid);
      return sessionId;
    },
    async identify(req) {
      if (req.staff) return req.staff;
      const id = sessionIdFrom(req);
      if (!id) return undefined;
      const user = await liveSessionUser(o.store, hashToken(id), now().getTime(), idleMs, absoluteMs, pagesLocalAccounts());
      if (!user) return undefined;
      req.staff = { username: user.username, displayName: user.displayName, roles: user.roles };
      return req.staff;
    },
    startSession(res, sessionId) {
      setCookie(res, cookie, sessionId, { secure: o.secure, sameSite: 'Lax', maxAgeSeconds: absoluteMs / 1000 });
    },
    async idTokenOf(req) {
      const id = sessionIdFrom(req);
      const hint = id ? (await o.store.getSession(hashToken(id)))?.logoutHint : undefined;
      return id && hint ? openWithToken(id, LOGOUT_HINT_PURPOSE, hint) : undefined;
    },
    async logout(req, res) {
      const id = sessionIdFrom(req);
      const idToken = await auth.idTokenOf(req);
      if (id) await o.store.deleteSession(hashToken(id));
      clearCookie(res, cookie, o.secure);
      return idToken ? { idToken } : {};
    },
    requireStaff(...roles) {
      return (req: Request, res: Response, next: NextFunction) => {
        auth
          .identify(req)
          .then((who) => {
            res.setHeader('Cache-Control', 'no-store');
            if (!who) {
              if (wantsJson(req) || req.method !== 'GET') {
                return sendJsonError(res, 401, 'sign_in_required', 'Meld u eerst aan. / Please sign in first.');
              }
              const next = encodeURIComponent(req.originalUrl.slice(0, 512));
              return res.redirect(303, `${loginPath}?next=${next}`);
            }
            if (roles.length && !roles.some((r) => who.roles.includes(r))) {
              if (wantsJson(req)) return sendJsonError(res, 403, 'forbidden', 'U heeft hier geen toegang. / You have no access here.');
              const nl = pickLang(req) === 'nl';
              return sendErrorPage(req, res, 403, nl ? 'Geen toegang' : 'No access',
                nl ? 'U bent aangemeld, maar uw account heeft geen toegang tot deze pagina.' : 'You are signed in, but your account has no access to this page.');
            }
            next();
          })
          .catch(next);
      };
    },
    async purge() {
      const t = now().getTime();
      return o.store.purgeSessions(new Date(t - absoluteMs).toISOString(), new Date(t - idleMs).toISOString());
    },
  };
  return auth;
}

/**
 * The enabled user of a stored session, or undefined. A session past its idle or absolute limit is deleted; a live one
 * is touched at most once a minute (writing on every request would serialise all traffic on the database).
 * `t` is the time in ms since the epoch. With `localAccounts` false, a session of a local account is not live.
 * Roles are read from the account on every request, so a role an SSO sign-in removed is gone from every session.
 */
export async function liveSessionUser(
  store: StaffStore,
  idHash: string,
  t: number,
  idleMs: number,
  absoluteMs: number,
  localAccounts = true,
): Promise<StaffUser | undefined> {
  const s = await store.getSession(idHash);
  if (!s) return undefined;
  if (t - new Date(s.createdAt).getTime() > absoluteMs || t - new Date(s.lastSeenAt).getTime() > idleMs) {
    await store.deleteSession(idHash);
    return undefined;
  }
  const user = await store.getUser(s.username);
  if (!user || user.disabled || (!localAccounts && !user.sso)) return undefined;
  if (t - new Date(s.lastSeenAt).getTime() > 60_000) await store.touchSession(idHash, new Date(t).toISOString());
  return user;
}

/** Only a local path may be a post-login target: never another host (open redirect). */
export function safeNext(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 512) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\r\n]/.test(value)) return fallback;
  return value;
}
