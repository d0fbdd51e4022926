import { createHash } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

/**
 * Checks a logout token of OpenID Connect Back-Channel Logout 1.0 (https://openid.net/specs/openid-connect-backchannel-1_0.html,
 * section 2.6 "Logout Token Validation"), with jose:
 * - a JWS signed with one of the provider's keys (its `jwks_uri`) under an algorithm it announces; never `none`;
 * - `iss` = the provider, `aud` contains our client id, `iat` present, not in the future and at most `maxAgeSec` old
 *   (the spec lets the RP refuse old ones; it bounds how long `jti` marks must be kept), `exp` honoured when present;
 * - `jti` present (single use is the caller's: it marks it in the store);
 * - `events` an object with the member http://schemas.openid.net/event/backchannel-logout, itself a JSON object;
 * - no `nonce` (an ID token is no logout token), a `sub` and/or a `sid`;
 * - a `typ` header, when present, `logout+jwt` (section 2.4) or the generic `JWT`.
 * Problems come back as a sentence a provider's operator understands, never the library's text or the token.
 */

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenClaims {
  issuer: string;
  subject?: string;
  sid?: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
}

export type LogoutTokenCheck =
  | { ok: true; claims: LogoutTokenClaims }
  /** `unavailable`: the provider's keys cannot be fetched now (the provider may retry); otherwise the token is bad. */
  | { ok: false; unavailable?: boolean; message: string };

export interface LogoutTokenOptions {
  issuer: string;
  clientId: string;
  /** The provider's key set (jose's remote JWK set for its jwks_uri). */
  keys: Jose.JWTVerifyGetKey;
  algorithms: string[];
  nowMs: number;
  /** Oldest `iat` accepted, in seconds (default 600). */
  maxAgeSec?: number;
  /** Clock difference allowed with the provider, in seconds (default 60). */
  skewSec?: number;
}

let joseModule: Promise<typeof Jose> | undefined;
/** jose is ESM only; a real dynamic import from our CommonJS output. */
export function loadJose(): Promise<typeof Jose> {
  joseModule ??= import('jose');
  return joseModule;
}

const MAX_TOKEN_CHARS = 16_384;
const bad = (message: string): LogoutTokenCheck => ({ ok: false, message });

/** The stored form of a provider session id: SHA-256 hex of issuer and sid (staff_sessions.sso_sid, migration 016). */
export function sidHash(issuer: string, sid: string): string {
  return createHash('sha256').update(`${issuer}\n${sid}`).digest('hex');
}

/** The single-use mark of a logout token: SHA-256 hex of issuer and jti. */
export function jtiHash(issuer: string, jti: string): string {
  return createHash('sha256').update(`logout\n${issuer}\n${jti}`).digest('hex');
}

export async function checkLogoutToken(token: unknown, o: LogoutTokenOptions): Promise<LogoutTokenCheck> {
  if (typeof token !== 'string' || !token) return bad('The request has no logout_token.');
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return bad('The logout_token is not a signed JWT.');
  const jose = await loadJose();
  let header: Jose.ProtectedHeaderParameters;
  try {
    header = jose.decodeProtectedHeader(token);
  } catch {
    return bad('The logout_token is not a signed JWT.');
  }
  if (typeof header.alg !== 'string' || header.alg === 'none' || !o.algorithms.includes(header.alg)) return bad('The logout_token is not signed with an algorithm the provider announces.');
  if (header.typ !== undefined && !['logout+jwt', 'application/logout+jwt', 'jwt'].includes(String(header.typ).toLowerCase())) {
    return bad('The logout_token has a type other than logout+jwt.');
  }
  const maxAge = o.maxAgeSec ?? 600;
  const skew = o.skewSec ?? 60;
  let payload: Jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, o.keys, {
      issuer: o.issuer,
      audience: o.clientId,
      algorithms: o.algorithms,
      requiredClaims: ['iat', 'jti', 'events'],
      maxTokenAge: maxAge,
      clockTolerance: skew,
      currentDate: new Date(o.nowMs),
    }));
  } catch (e) {
    return describe(e, jose);
  }
  const iat = payload.iat as number;
  if (iat * 1000 > o.nowMs + skew * 1000) return bad('The logout_token was issued in the future.');
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) return bad('The logout_token has no usable jti.');
  const events = payload.events as unknown;
  const event = events && typeof events === 'object' && !Array.isArray(events) ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== 'object' || Array.isArray(event)) return bad('The logout_token does not carry the back-channel logout event.');
  if ('nonce' in payload) return bad('A logout_token must not carry a nonce.');
  const sub = payload.sub;
  const sid = (payload as { sid?: unknown }).sid;
  if (sub !== undefined && (typeof sub !== 'string' || !sub || sub.length > 255)) return bad('The logout_token has an unusable sub.');
  if (sid !== undefined && (typeof sid !== 'string' || !sid || sid.length > 255)) return bad('The logout_token has an unusable sid.');
  if (sub === undefined && sid === undefined) return bad('The logout_token names neither a sub nor a sid.');
  return { ok: true, claims: { issuer: o.issuer, jti: payload.jti, iat, ...(sub ? { subject: sub } : {}), ...(sid ? { sid: sid as string } : {}) } };
}

function describe(e: unknown, jose: typeof Jose): LogoutTokenCheck {
  const { errors } = jose;
  if (e instanceof errors.JWKSTimeout || (e instanceof Error && !(e instanceof errors.JOSEError))) {
    return { ok: false, unavailable: true, message: "The provider's signing keys cannot be fetched right now." };
  }
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSSignatureVerificationFailed) return bad("The logout_token is not signed with the provider's key.");
  if (e instanceof errors.JWTExpired) return bad(e.claim === 'iat' ? 'The logout_token is too old.' : 'The logout_token has expired.');
  if (e instanceof errors.JWTClaimValidationFailed) {
    const claim = e.claim;
    if (claim === 'iss') return bad('The logout_token is from another issuer.');
    if (claim === 'aud') return bad('The logout_token is not meant for this client.');
    if (claim === 'iat') return bad('The logout_token is too old or has an unusable iat.');
    return bad(`The logout_token lacks a valid ${['jti', 'events'].includes(claim) ? claim : 'claim'}.`);
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return bad('The logout_token is not signed with an algorithm the provider announces.');
  return bad('The logout_token is not a valid signed JWT.');
}
