import type { KeyObject } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type { IdContactAlgorithms } from './algorithms';

/**
 * The ID Contact authentication result ("auth_result", the body posted to an attr_url): a JWE whose plaintext is the
 * JSON object `{"njwt": "<JWS>"}`, the JWS carrying `{sub: "id-contact-attributes", status: "succes" | "failed",
 * attributes?: {tag: value}, session_url?, iat, exp}`. Source: id-contact/docs webdocs/docs/concepts/JWE.md and
 * docs/openapi/shared.openapi.yml (attr_url callback); the reference implementation is id-contact-jwt
 * (sign_and_encrypt_auth_result: RSA-OAEP or ECDH-ES with A128CBC-HS256 around RS256 or ES256, exp = iat + 5 minutes).
 *
 * Decryption and signature checks are the maintained `jose` library's; this module only decides which algorithms and
 * keys are acceptable and turns every failure into a reason code. It never throws for anything a sender can send, and
 * no failure carries a value or a key.
 */

export { DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS, type IdContactAlgorithms } from './algorithms';

/** A public key of an auth plugin whose signature we accept; `kid` when the configuration named one (JWK). */
export interface SigningKey {
  key: KeyObject;
  kid?: string;
}

export interface TokenKeys {
  /** Our private key: RSA (RSA-OAEP*) or EC P-256 (ECDH-ES*). */
  decryptionKey: KeyObject;
  signingKeys: readonly SigningKey[];
  algorithms: IdContactAlgorithms;
}

export type TokenFailure =
  | 'too_large'
  | 'malformed_token'
  | 'alg_not_allowed'
  | 'decrypt_failed'
  | 'signature_invalid'
  | 'wrong_subject'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'auth_failed'
  | 'validation_failed';

export type TokenResult =
  | { ok: true; attributes: Record<string, string>; sessionUrl?: string }
  | { ok: false; reason: TokenFailure };

export interface VerifyOptions {
  /** Seconds of clock difference allowed on exp and iat (default 60). */
  clockToleranceSec?: number;
  /** Oldest iat accepted, in seconds (default 600: twice the lifetime ID Contact gives its tokens). */
  maxAgeSec?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Largest token accepted (the compact JWE as text). A result of a few dozen attributes is a few kilobytes. */
export const MAX_TOKEN_CHARS = 64 * 1024;
const MAX_ATTRIBUTES = 50;
const SUBJECT = 'id-contact-attributes';
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

type JoseModule = typeof Jose;
let joseModule: Promise<JoseModule> | undefined;
/** jose is ESM only; a real dynamic import from our CommonJS output. */
export function loadJose(): Promise<JoseModule> {
  joseModule ??= import('jose');
  return joseModule;
}

function codeOf(e: unknown): string {
  return typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
}

/** Which configured keys may have made a signature with this alg (RSA for RS/PS, EC P-256 for ES256). */
function keysFor(alg: string, kid: string | undefined, keys: readonly SigningKey[]): SigningKey[] {
  const type = alg.startsWith('ES') ? 'ec' : 'rsa';
  let fit = keys.filter((k) => k.key.asymmetricKeyType === type);
  // A kid narrows the search only when the configuration names kids; ID Contact's own tokens carry none.
  if (kid !== undefined && fit.some((k) => k.kid !== undefined)) fit = fit.filter((k) => k.kid === kid);
  return fit;
}

function attributesOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) return undefined;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES || !entries.every(([, x]) => typeof x === 'string')) return undefined;
  // A null-prototype copy: a tag named "__proto__" or "constructor" stays a plain key.
  const out = Object.create(null) as Record<string, string>;
  for (const [k, x] of entries) out[k] = x as string;
  return out;
}

/**
 * Decrypts and verifies one ID Contact auth result. Checks, in order: size and compact shape, the JWE's alg/enc
 * against the allow-list, decryption with our key (a JWE for another recipient fails here), the nested `njwt`, the
 * JWS alg against the allow-list (`none` is never accepted), the signature against the configured plugin keys, `sub`,
 * `exp` and `iat` (not expired, not from the future, not older than maxAgeSec, each within the clock tolerance), and
 * `status`. Returns the attributes (tag -> string value) or a reason code.
 */
export async function verifyAuthResult(token: unknown, keys: TokenKeys, o: VerifyOptions = {}): Promise<TokenResult> {
  if (typeof token !== 'string') return { ok: false, reason: 'malformed_token' };
  const compact = token.trim();
  if (compact.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'too_large' };
  if (!COMPACT_JWE.test(compact)) return { ok: false, reason: 'malformed_token' };
  const jose = await loadJose();
  const now = o.now ?? Date.now;
  const tolerance = o.clockToleranceSec ?? 60;

  let header: Jose.ProtectedHeaderParameters;
  try {
    header = jose.decodeProtectedHeader(compact);
  } catch {
    return { ok: false, reason: 'malformed_token' };
  }
  if (!keys.algorithms.keyManagement.includes(String(header.alg)) || !keys.algorithms.contentEncryption.includes(String(header.enc))) {
    return { ok: false, reason: 'alg_not_allowed' };
  }
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await jose.compactDecrypt(compact, keys.decryptionKey, {
      keyManagementAlgorithms: keys.algorithms.keyManagement,
      contentEncryptionAlgorithms: keys.algorithms.contentEncryption,
    }));
  } catch (e) {
    return { ok: false, reason: codeOf(e) === 'ERR_JOSE_ALG_NOT_ALLOWED' ? 'alg_not_allowed' : 'decrypt_failed' };
  }

  let jws: unknown;
  try {
    jws = (JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext)) as { njwt?: unknown } | null)?.njwt;
  } catch {
    return { ok: false, reason: 'malformed_token' };
  }
  if (typeof jws !== 'string' || jws.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed_token' };

  let jwsHeader: Jose.ProtectedHeaderParameters;
  try {
    jwsHeader = jose.decodeProtectedHeader(jws);
  } catch {
    return { ok: false, reason: 'malformed_token' };
  }
  const alg = String(jwsHeader.alg);
  if (!keys.algorithms.signature.includes(alg)) return { ok: false, reason: 'alg_not_allowed' };
  const candidates = keysFor(alg, typeof jwsHeader.kid === 'string' ? jwsHeader.kid : undefined, keys.signingKeys);
  if (candidates.length === 0) return { ok: false, reason: 'signature_invalid' };

  for (const candidate of candidates) {
    let payload: Jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(jws, candidate.key, {
        algorithms: [alg],
        subject: SUBJECT,
        requiredClaims: ['sub', 'iat', 'exp'],
        clockTolerance: tolerance,
        maxTokenAge: o.maxAgeSec ?? 600,
        currentDate: new Date(now()),
      }));
    } catch (e) {
      const code = codeOf(e);
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') continue; // another configured key may have signed it
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'token_expired' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
        const claim = (e as { claim?: string }).claim;
        if (claim === 'sub') return { ok: false, reason: 'wrong_subject' };
        // jose reports an iat older than maxTokenAge as expired (above); this one lies in the future.
        if (claim === 'iat' && (e as { reason?: string }).reason === 'check_failed') return { ok: false, reason: 'token_not_yet_valid' };
        if (claim === 'nbf') return { ok: false, reason: 'token_not_yet_valid' };
        return { ok: false, reason: 'validation_failed' };
      }
      if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED') return { ok: false, reason: 'alg_not_allowed' };
      // A key of the wrong shape for this alg, a malformed JWS: not this key's signature.
      if (e instanceof TypeError || code === 'ERR_JWS_INVALID') continue;
      return { ok: false, reason: 'validation_failed' };
    }
    const status = payload.status;
    // "succes" is the protocol's spelling (id-contact-proto AuthStatus); "success" is accepted as the same.
    if (status === 'failed') return { ok: false, reason: 'auth_failed' };
    if (status !== 'succes' && status !== 'success') return { ok: false, reason: 'validation_failed' };
    const attributes = attributesOf(payload.attributes);
    if (!attributes) return { ok: false, reason: 'validation_failed' };
    const sessionUrl = typeof payload.session_url === 'string' && payload.session_url.length <= 2000 ? payload.session_url : undefined;
    return { ok: true, attributes, ...(sessionUrl ? { sessionUrl } : {}) };
  }
  return { ok: false, reason: 'signature_invalid' };
}
