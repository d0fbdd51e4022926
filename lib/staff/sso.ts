import { memoryPendingFlows, type PendingFlowStore } from '../oidc/pending';
import { createRelyingParty, type FlowFailure, type RelyingParty } from '../oidc/relying-party';
import { typedLine } from '../text/typed-text';
import type { StaffAuth } from './auth';
import { checkLogoutToken, jtiHash, loadJose, sidHash } from './backchannel-logout';
import { claimAt, rolesFromClaims, type StaffSsoSettings } from './sso-config';
import type { Role, StaffIdentity, StaffStore } from './types';

/**
 * Staff sign-in through the gemeente's own OpenID provider, on the relying party the residents' identification uses
 * too (lib/oidc/relying-party.ts: code flow, PKCE S256, state and nonce bound to a sign-in cookie, single use, iss
 * checked). At each sign-in the account linked to the person (`iss` + `sub`) gets the display name, e-mail and roles
 * from the ID token (and userinfo when the ID token lacks the roles or username claim). Roles are read from the
 * account on every request, so a group removed at the provider takes effect for every session of that person at
 * their next sign-in anywhere; a person without a mapped group keeps no role and loses all sessions at once.
 */

export type NoAccessReason = 'no_role' | 'groups_overage' | 'disabled' | 'username_taken' | 'username_invalid';

export type SsoOutcome =
  | { kind: 'signed_in'; sessionId: string; user: StaffIdentity; next?: string }
  | { kind: 'no_access'; reason: NoAccessReason; displayName?: string }
  | { kind: 'failed'; reason: FlowFailure };

export interface StaffSsoOptions {
  settings: StaffSsoSettings;
  store: StaffStore;
  auth: Pick<StaffAuth, 'openSession'>;
  /** The public base URL (IDV_PUBLIC_URL, or where the runtime listens): read when a sign-in starts. */
  publicUrl: () => string;
  log: (line: string) => void;
  now?: () => number;
  httpTimeoutMs?: number;
  /**
   * Where started sign-ins wait for their callback (default: this process's memory). Several instances behind one
   * address need a shared one (the pending-OIDC-state table of the PostgreSQL store).
   */
  pending?: PendingFlowStore;
  /**
   * Marks a logout token's `jti` used until `expiresAt` (ms): true the first time (default: this process's memory;
   * the store's `once` makes it hold across instances).
   */
  once?: (keyHash: string, expiresAt: number, nowMs: number) => Promise<boolean>;
}

export type BackchannelOutcome =
  | { ok: true; ended: number }
  /** 400 for a token that is not valid, 503 when it cannot be checked now; `message` says why in one sentence. */
  | { ok: false; status: 400 | 503; message: string };

export interface StaffSso {
  readonly settings: StaffSsoSettings;
  /** <public URL>/login/sso/callback: register it at the provider. */
  redirectUri(): string;
  /** <public URL>/login/sso/signed-out: register it as post-logout redirect URI. */
  postLogoutRedirectUri(): string;
  /**
   * The provider's authorization URL for this browser (`binding`: its sign-in cookie); `next` a local path;
   * `forceLogin` asks the provider to ask again (`prompt=login`), to switch accounts.
   */
  start(binding: string, next?: string, forceLogin?: boolean): Promise<string>;
  /** The callback: never throws for what a provider or browser can send. */
  finish(currentUrl: string, binding: string): Promise<SsoOutcome>;
  /** The provider's sign-out URL (RP-initiated logout), or undefined when it offers none. */
  endSessionUrl(idToken?: string): Promise<string | undefined>;
  /** <public URL>/login/sso/backchannel-logout: register it as back-channel logout URI. */
  backchannelLogoutUri(): string;
  /**
   * OpenID Connect Back-Channel Logout 1.0: checks the provider's logout token (lib/staff/backchannel-logout.ts), marks
   * its jti used, and ends every session and editor token of the person it names (`sub`, or whoever signed in
   * through the provider session `sid`). A bad token changes nothing.
   */
  backchannelLogout(logoutToken: unknown): Promise<BackchannelOutcome>;
  /** Discovery now, for the start-up check: the problem in words, or undefined when the provider can be used. */
  check(): Promise<string | undefined>;
}

interface Context {
  next?: string;
}

export const SSO_PATHS = {
  start: '/login/sso',
  callback: '/login/sso/callback',
  signedOut: '/login/sso/signed-out',
  backchannelLogout: '/login/sso/backchannel-logout',
} as const;

/** Oldest logout token accepted, in seconds: its jti mark is kept that long (plus the clock skew). */
const LOGOUT_TOKEN_MAX_AGE_SEC = 600;

const USERNAME_RE = /^[a-z0-9._@-]{1,64}$/;
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,189}$/;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export function createStaffSso(o: StaffSsoOptions): StaffSso {
  const s = o.settings;
  let rp: RelyingParty<Context> | undefined;
  let rpFor = '';
  // One store for the life of the runtime: a relying party made anew for another public URL keeps the started ones.
  const pending = o.pending ?? memoryPendingFlows();
  const redirectUri = () => `${o.publicUrl()}${SSO_PATHS.callback}`;
  /** One relying party per redirect URI (the public URL is known only once the runtime listens). */
  const party = (): RelyingParty<Context> => {
    const uri = redirectUri();
    if (!rp || rpFor !== uri) {
      rp = createRelyingParty<Context>({ redirectUri: uri, now: o.now, httpTimeoutMs: o.httpTimeoutMs, pending, clientById: (id) => (id === s.client.id ? s.client : undefined) });
      rpFor = uri;
    }
    return rp;
  };

  async function finish(currentUrl: string, binding: string): Promise<SsoOutcome> {
    const r = await party().finish({ currentUrl, binding });
    if (!r.ok) return { kind: 'failed', reason: r.reason };
    let claims: Record<string, unknown> = r.claims;
    // Keycloak puts realm roles in the access token only unless told otherwise, ADFS few claims in the ID token:
    // userinfo may carry what the ID token lacks. The ID token's own claims win.
    // A provider without a userinfo endpoint: what the ID token has is all there is. A failing one fails the sign-in
    // (rather than reading "no groups" and taking the person's roles away).
    if (r.userInfo && (claimAt(claims, s.rolesClaim) === undefined || claimAt(claims, s.usernameClaim) === undefined)) {
      try {
        claims = { ...(await r.userInfo()), ...claims };
      } catch (e) {
        return { kind: 'failed', reason: await party().failureOf(e) };
      }
    }
    const issuer = r.claims.iss;
    const subject = r.claims.sub;
    if (typeof subject !== 'string' || !subject || subject.length > 255) return { kind: 'failed', reason: 'validation_failed' };
    const claimedName = text(claimAt(claims, s.usernameClaim))?.toLowerCase();
    const linked = await o.store.getSsoUser(issuer, subject);
    const username = linked?.username ?? (claimedName && USERNAME_RE.test(claimedName) ? claimedName : undefined);
    const displayName =
      typedLine(text(claims.name) ?? [text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' '), 100) || username || '';
    if (!username) {
      o.log(`staff sign-in refused: the ${s.usernameClaim} claim is missing or not a valid username (letters, digits, . _ @ -)`);
      return { kind: 'no_access', reason: 'username_invalid', displayName };
    }
    const email = typeof claims.email === 'string' && claims.email.length <= 254 && EMAIL_RE.test(claims.email) ? claims.email : undefined;

    const mapped = rolesFromClaims(claims, s);
    const roles: Role[] = mapped.ok ? mapped.roles : [];
    if (!mapped.ok && !linked) {
      o.log(`staff sign-in refused: no mapped role (${describe(mapped, s.rolesClaim)})`);
      return { kind: 'no_access', reason: mapped.reason === 'overage' ? 'groups_overage' : 'no_role', displayName };
    }
    const saved = await o.store.saveSsoUser({ issuer, subject, username, displayName, ...(email ? { email } : {}), roles }, new Date(o.now?.() ?? Date.now()).toISOString());
    if (!saved.ok) {
      o.log(`staff sign-in refused: the username "${username}" from the provider is already an account of its own; remove that account (staff-account remove) to let this person have it`);
      return { kind: 'no_access', reason: 'username_taken', displayName };
    }
    if (!mapped.ok) {
      // No group any more: the account keeps no role, and every session and editor token of it ends now.
      const ended = await o.store.deleteSessionsOf(saved.username);
      o.log(`staff sign-in refused: no mapped role any more (${describe(mapped, s.rolesClaim)}); ${ended} session(s) ended`);
      return { kind: 'no_access', reason: mapped.reason === 'overage' ? 'groups_overage' : 'no_role', displayName };
    }
    if (saved.disabled) {
      o.log('staff sign-in refused: the account is disabled in ID Video');
      return { kind: 'no_access', reason: 'disabled', displayName };
    }
    const sid = typeof r.claims.sid === 'string' && r.claims.sid && r.claims.sid.length <= 255 ? sidHash(issuer, r.claims.sid) : undefined;
    const sessionId = await o.auth.openSession(saved.username, r.idToken, sid);
    return { kind: 'signed_in', sessionId, user: { username: saved.username, displayName, roles }, ...(r.context.next ? { next: r.context.next } : {}) };
  }

  const usedJti = new Map<string, number>();
  const once =
    o.once ??
    (async (key: string, expiresAt: number, nowMs: number) => {
      for (const [k, t] of usedJti) if (t <= nowMs) usedJti.delete(k);
      if (usedJti.has(key)) return false;
      usedJti.set(key, expiresAt);
      return true;
    });
  let keys: { uri: string; set: Parameters<typeof checkLogoutToken>[1]['keys'] } | undefined;

  async function backchannelLogout(token: unknown): Promise<BackchannelOutcome> {
    let facts;
    try {
      facts = await party().discover(s.client);
    } catch {
      return { ok: false, status: 503, message: "The gemeente's sign-in service cannot be reached right now to check the logout token." };
    }
    if (!facts.jwksUri) return { ok: false, status: 503, message: 'The provider announces no jwks_uri: its logout tokens cannot be checked.' };
    if (!keys || keys.uri !== facts.jwksUri) {
      const jose = await loadJose();
      keys = { uri: facts.jwksUri, set: jose.createRemoteJWKSet(new URL(facts.jwksUri), { timeoutDuration: o.httpTimeoutMs ?? 10_000 }) };
    }
    const nowMs = o.now?.() ?? Date.now();
    const checked = await checkLogoutToken(token, { issuer: facts.issuer, clientId: s.client.clientId, keys: keys.set, algorithms: facts.signingAlgs, nowMs, maxAgeSec: LOGOUT_TOKEN_MAX_AGE_SEC });
    if (!checked.ok) {
      o.log(`staff back-channel logout refused: ${checked.message}`);
      return { ok: false, status: checked.unavailable ? 503 : 400, message: checked.message };
    }
    const c = checked.claims;
    // Kept until the token would be too old anyway (plus the allowed clock difference).
    if (!(await once(jtiHash(c.issuer, c.jti), (c.iat + LOGOUT_TOKEN_MAX_AGE_SEC + 120) * 1000, nowMs))) {
      o.log('staff back-channel logout refused: the logout token was used before');
      return { ok: false, status: 400, message: 'This logout_token was used before.' };
    }
    const people = new Set<string>();
    if (c.subject) {
      const user = await o.store.getSsoUser(c.issuer, c.subject);
      if (user) people.add(user.username);
    }
    if (c.sid) for (const u of await o.store.usersWithSsoSid(sidHash(c.issuer, c.sid))) people.add(u);
    let ended = 0;
    for (const u of people) ended += await o.store.deleteSessionsOf(u);
    o.log(`staff back-channel logout: ${ended} session(s) of ${people.size} person(s) ended`);
    return { ok: true, ended };
  }

  return {
    settings: s,
    redirectUri,
    backchannelLogoutUri: () => `${o.publicUrl()}${SSO_PATHS.backchannelLogout}`,
    backchannelLogout,
    postLogoutRedirectUri: () => `${o.publicUrl()}${SSO_PATHS.signedOut}`,
    async start(binding, next, forceLogin) {
      const { authorizationUrl } = await party().start({
        client: s.client,
        scopes: s.scopes,
        extraAuthParams: forceLogin ? { ...s.extraAuthParams, prompt: 'login' } : s.extraAuthParams,
        binding,
        context: next ? { next } : {},
        unreachableMessage: "The gemeente's sign-in service cannot be reached right now",
      });
      return authorizationUrl;
    },
    async finish(currentUrl, binding) {
      try {
        return await finish(currentUrl, binding);
      } catch (e) {
        // The store failed (the provider's answers are all handled above): the person may try again.
        o.log(`staff sign-in failed: ${(e as Error).name}`);
        return { kind: 'failed', reason: 'provider_error' };
      }
    },
    endSessionUrl: (idToken) => party().endSessionUrl(s.client, { ...(idToken ? { idTokenHint: idToken } : {}), postLogoutRedirectUri: `${o.publicUrl()}${SSO_PATHS.signedOut}` }),
    async check() {
      try {
        await party().discover(s.client);
        return undefined;
      } catch {
        return `the staff sign-in provider ${s.client.issuer} cannot be used now (no valid discovery document at ${s.client.issuer.replace(/\/$/, '')}/.well-known/openid-configuration naming that issuer)`;
      }
    },
  };
}

function describe(m: { reason: string; values: number }, claim: string): string {
  if (m.reason === 'absent') return `no "${claim}" claim in the ID token or userinfo`;
  if (m.reason === 'overage') return `the provider left "${claim}" out: too many groups (Entra ID group overage)`;
  return `"${claim}" has ${m.values} value(s), none mapped`;
}
