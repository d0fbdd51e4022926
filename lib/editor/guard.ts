import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { pickLang } from '../http/lang';
import type { Branding } from '../http/layout';
import type { RateLimiter } from '../http/rate-limit';
import { clientKey } from '../http/rate-limit';
import { asyncRoute, noStore, sameOrigin } from '../http/security';
import type { StaffAuth } from '../staff/auth';
import type { StaffSso } from '../staff/sso';
import { editorNoAccessPage, editorTokenPage } from '../staff/sso-pages';
import type { EditorSessions, EditorUser } from './sessions';

/**
 * The flow editor's Content-Security-Policy: the strictest one the Node-RED 4.1 editor works with. The editor adds
 * every node type's editor code as inline <script> blocks (jQuery appends the HTML from GET /admin/nodes) and styles
 * elements inline, so 'unsafe-inline' stays for scripts and styles; everything else is locked to this origin: no
 * foreign script, style, font or image, no connection to another host (connect-src also covers the comms WebSocket),
 * no plugins, no framing by anyone (clickjacking), forms and <base> only to ourselves. Monaco (the code editor)
 * starts its language workers from blob: URLs. `catalogues`: palette catalogue origins the browser may fetch (demo
 * mode, where palette installs are allowed; production allows none).
 */
export function editorCsp(catalogues: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    ['connect-src', "'self'", ...catalogues].join(' '),
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Node-RED's own `cors({origin: '*'})` runs first inside its admin app; this (as `httpAdminMiddleware`) undoes it. */
export const stripCorsHeaders: RequestHandler = (_req, res, next) => {
  for (const name of res.getHeaderNames()) if (name.startsWith('access-control-')) res.removeHeader(name);
  next();
};

export interface EditorGuardOptions {
  sessions: EditorSessions;
  staff: Pick<StaffAuth, 'verify' | 'identify' | 'idTokenOf' | 'logout' | 'localAccounts'>;
  /**
   * The staff sign-in through the gemeente's provider. With it the editor signs in like every staff page: its login
   * dialog sends the browser to auth/strategy, which turns this browser's staff session (an administrator's) into an
   * editor token, or sends it to /login first.
   */
  sso?: Pick<StaffSso, 'endSessionUrl'>;
  /** The editor's own path (where it is mounted). */
  editorPath?: string;
  branding?: () => Branding | undefined;
  /** The one sign-in limit per client network, shared with /login. */
  signInLimiter: RateLimiter;
  publicUrl: () => string;
  /** Palette catalogue origins the editor may fetch (demo mode only). */
  catalogues?: readonly string[];
  /**
   * Names of the context stores configured in Node-RED's settings (`contextStorage`); none (the default, as
   * settings.ts has none) means a `?store=` on the context API is refused here, see `refuseUnavailable`.
   */
  contextStores?: readonly string[];
  log: (msg: string) => void;
}

const CLIENT_IDS = new Set(['node-red-editor', 'node-red-admin']);

function tokenError(res: Response, status: number, error: string, description: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.json({ error, error_description: description });
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const [scheme, value] = h.split(' ');
  return scheme === 'Bearer' && value ? value : undefined;
}

function notHere(res: Response, message: string): void {
  res.status(404).setHeader('Cache-Control', 'no-store');
  res.json({ error: 'not_found', message });
}

/**
 * Admin API inputs Node-RED 4.1 itself does not handle in our configuration: it throws a TypeError (which its log
 * shows as an error line) before answering. A message catalogue without a language is refused 400 (see below); the
 * other two features are off here, so they are answered 404 before Node-RED:
 * - `/settings/user/keys*`, the SSH keys of the projects feature: projects are off (settings.ts `editorTheme.projects`),
 *   and Node-RED still mounts the routes, which read `settings.projects.ssh` of a projects module never loaded.
 * - the context API with `?store=` while no context stores are configured: Node-RED compares the name with a store
 *   list that does not exist (`stores.indexOf`). Without a store the API works, and that is all the editor asks then.
 */
function refuseUnavailable(r: Router, contextStores: readonly string[]): void {
  // The node message catalogues without ?lng=: Node-RED hands i18next no language (TypeError, 'indexOf') and answers
  // 400 with that library message as the text. The editor always names the language.
  r.get([/^\/nodes\/messages(?:\/|$)/, /^\/nodes\/.+\/messages\/?$/], (req, res, next) => {
    if (typeof req.query.lng === 'string' && req.query.lng !== '') return next();
    res.status(400).setHeader('Cache-Control', 'no-store');
    res.json({ error: 'language_required', message: 'Say which language the messages are for, e.g. ?lng=nl or ?lng=en-US.' });
  });
  r.use('/settings/user/keys', (_req, res) => notHere(res, 'SSH keys belong to the projects feature, which is switched off.'));
  r.use('/context', (req, res, next) => {
    const store = req.query.store;
    if (store === undefined || (typeof store === 'string' && contextStores.includes(store))) return next();
    notHere(res, contextStores.length ? 'There is no context store by that name.' : 'No context stores are configured: leave out the store parameter.');
  });
}

/**
 * Mounted at the editor's path before Node-RED's admin app. Sends the editor's security headers; refuses
 * cross-origin preflights (Node-RED would answer them with `Access-Control-Allow-Origin: *`); and is the editor's
 * sign-in: POST auth/token (the OAuth 2 password grant the editor and node-red-admin use) counts in the sign-in limit,
 * checks the staff account (admin role), and issues a token of ours; POST auth/revoke ends it. A refused attempt
 * creates nothing. Admin routes of features that are off are answered 404 here (`refuseUnavailable`).
 */
export function editorGuard(o: EditorGuardOptions): Router {
  const r = express.Router();
  const csp = editorCsp(o.catalogues);
  r.use((req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (req.method === 'OPTIONS') {
      // A preflight only ever comes from another origin's page: nothing here is for it.
      res.setHeader('Allow', 'GET, HEAD, POST, PUT, DELETE');
      if (req.headers.origin && !sameOrigin(req, o.publicUrl())) return res.status(403).json({ error: 'forbidden_origin', message: 'Cross-origin requests are not allowed.' });
      return res.status(204).end();
    }
    next();
  });

  refuseUnavailable(r, o.contextStores ?? []);

  const body = [express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 20 }), express.json({ limit: '4kb', strict: true })];
  const editorPath = o.editorPath ?? '/admin';

  if (o.sso) {
    // Node-RED's editor asks this before it shows a login dialog: with type "strategy" and autoLogin it goes straight
    // to loginRedirect (Node-RED's own adminAuth strategy contract), which is ours below, not Node-RED's passport one.
    r.get('/auth/login', noStore, (_req, res) => {
      res.json({ type: 'strategy', prompts: [{ type: 'button', label: 'Aanmelden / Sign in', url: 'auth/strategy' }], autoLogin: true, loginRedirect: 'auth/strategy' });
    });
    r.get('/auth/strategy', noStore, asyncRoute(async (req, res) => {
      const who = await o.staff.identify(req);
      if (!who) return res.redirect(303, `/login?next=${encodeURIComponent(`${editorPath}/auth/strategy`)}`);
      const lang = pickLang(req);
      if (!who.roles.includes('admin')) return res.status(403).type('html').send(editorNoAccessPage(lang, o.branding?.()));
      const { token, expiresInSec } = await o.sessions.issue(who.username, await o.staff.idTokenOf(req));
      res.type('html').send(editorTokenPage(lang, token, expiresInSec, editorPath, o.branding?.()));
    }));
  }

  r.post('/auth/token', ...body, asyncRoute(async (req, res) => {
    const limit = await o.signInLimiter.hit(clientKey(req));
    if (!limit.ok) {
      res.setHeader('Retry-After', String(limit.retryAfterSec));
      return tokenError(res, 429, 'rate_limited', 'Too many sign-in attempts. Try again in a few minutes.');
    }
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!o.staff.localAccounts) return tokenError(res, 400, 'unsupported_grant_type', 'Local accounts are switched off: sign in with the municipality account in the editor.');
    if (b.grant_type !== 'password') return tokenError(res, 400, 'unsupported_grant_type', 'Only the password grant is supported.');
    if (typeof b.client_id !== 'string' || !CLIENT_IDS.has(b.client_id)) return tokenError(res, 401, 'invalid_client', 'Unknown client.');
    if (b.scope !== undefined && b.scope !== '*' && b.scope !== '') return tokenError(res, 400, 'invalid_scope', 'Only the scope * is supported.');
    if (typeof b.username !== 'string' || typeof b.password !== 'string' || !b.username || !b.password) {
      return tokenError(res, 400, 'invalid_request', 'Username and password are required.');
    }
    const result = await o.staff.verify(b.username, b.password);
    if (!result.ok || !result.user.roles.includes('admin')) {
      o.log(`editor sign-in refused (${result.ok ? 'not an administrator' : result.reason})`);
      if (!result.ok && result.reason === 'locked') return tokenError(res, 429, 'rate_limited', 'Signing in is blocked for a while after too many failed attempts.');
      return tokenError(res, 403, 'invalid_grant', 'The username or password is not correct, or the account may not use the flow editor.');
    }
    const { token, expiresInSec } = await o.sessions.issue(result.user.username);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ access_token: token, expires_in: expiresInSec, token_type: 'Bearer' });
  }));

  r.post('/auth/revoke', ...body, asyncRoute(async (req, res) => {
    const caller: EditorUser | null = await o.sessions.validate(bearer(req));
    if (!caller) return res.status(401).end();
    const token = (req.body as { token?: unknown } | undefined)?.token;
    // Only a token of the caller's own: a token is ended by whoever holds it.
    const ended = (await o.sessions.validate(token))?.username === caller.username ? await o.sessions.revoke(token) : {};
    if (!o.sso) return res.status(200).end();
    // Signing out of the editor signs out of ID Video in this browser, and at the provider where it offers that: the
    // editor goes to `redirect` (Node-RED's editor contract for auth/revoke).
    const staffSession = (await o.staff.identify(req))?.username === caller.username ? await o.staff.logout(req, res) : {};
    const idToken = ended.idToken ?? staffSession.idToken;
    const providerUrl = idToken ? await o.sso.endSessionUrl(idToken) : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.json({ redirect: providerUrl ?? '/login?out=1' });
  }));
  return r;
}
