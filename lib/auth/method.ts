import { createPrivateKey, type KeyObject } from 'node:crypto';
import { UserError } from '../errors';

/** Logos shipped with the package; anything else must be an https URL (or loopback http in tests/demo). */
export const BUILTIN_LOGOS = ['digid', 'yivi', 'eherkenning', 'generic'] as const;
export type BuiltinLogo = (typeof BUILTIN_LOGOS)[number];

export type ClientAuthMethod = 'client_secret_basic' | 'private_key_jwt';
export type ClaimKind = 'bsn' | 'date' | 'text';

/** One allowed claim: the provider's claim name, our stable key, and the labels the agent sees. */
export interface ClaimMapping {
  claim: string;
  key: string;
  labelNl: string;
  labelEn: string;
  kind: ClaimKind;
}

/** Level-of-assurance requirement: `order` lists the acr values from weakest to strongest. */
export interface AcrRequirement {
  minimum: string;
  order: string[];
}

/** Credentials kept apart from the rest so the config can be shown/logged without them. */
export interface AuthMethodCredentials {
  clientSecret?: string;
  /** PEM (PKCS#8 / PKCS#1 / SEC1) or a private JWK, for private_key_jwt. */
  privateKey?: string | Record<string, unknown>;
  /** The `kid` the provider registered for that key (taken from the JWK when absent). */
  privateKeyId?: string;
}

/** One OpenID Connect provider the resident can choose in the call (an `idv-auth-method` config node). */
export interface AuthMethod {
  id: string;
  displayName: string;
  logo: BuiltinLogo | string;
  issuer: string;
  clientId: string;
  clientAuth: ClientAuthMethod;
  credentials: AuthMethodCredentials;
  scopes: string[];
  /** Extra authorization request parameters such as acr_values, kc_idp_hint, ui_locales. */
  extraAuthParams: Record<string, string>;
  acr?: AcrRequirement;
  claims: ClaimMapping[];
  /** Allows http://127.0.0.1 and http://localhost issuers: only for tests and demo mode. */
  allowInsecureLoopback: boolean;
}

/** Parameters the flow itself sets; letting configuration override them would break PKCE/state/nonce binding. */
const RESERVED_PARAMS = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'request', 'request_uri', 'client_secret', 'client_assertion', 'client_assertion_type',
]);

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const KEY_RE = /^[a-z][a-zA-Z0-9_]{0,39}$/;
const CLAIM_RE = /^[A-Za-z0-9_:.\-/#]{1,200}$/;
/** The name and key rules of a claim mapping, as regular-expression sources (for editors that check the same). */
export const CLAIM_RULES = { claim: CLAIM_RE.source, key: KEY_RE.source } as const;

const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/; // RFC 6749 scope-token
const PARAM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * Checks an http(s) URL: https always, http only for loopback when the method explicitly allows it. Returns the
 * problem as text, or undefined when fine. The URL itself is not secret, so it may appear in the message.
 */
export function urlProblem(value: string, allowInsecureLoopback: boolean): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (u.username || u.password) return 'must not contain a user name or password';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && allowInsecureLoopback && isLoopbackHost(u.hostname)) return undefined;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return 'must use https (http on loopback needs allowInsecureLoopback, for tests and demo only)';
  return 'must use https';
}

/** Trimmed text of 1..max characters without control characters (labels, ids, names), else undefined. */
export function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  // Control characters have no business in labels or ids and could forge log lines or headers.
  if (t.length === 0 || t.length > max || /[\u0000-\u001f\u007f]/.test(t)) return undefined;
  return t;
}

/**
 * Checks a list of claim mappings (claim or attribute name -> our key, Dutch and English label, kind), as an OIDC
 * method maps its claims and an ID Contact core maps its attribute tags. Problems go into `fields` under
 * `<field>[i].<part>`; returns the valid mappings (frozen). 1 to 50 entries, names and keys each used once.
 */
export function validateClaimMappings(list: unknown, fields: Record<string, string>, field: string): ClaimMapping[] {
  const claims: ClaimMapping[] = [];
  if (!Array.isArray(list) || list.length === 0 || list.length > 50) {
    fields[field] = `list 1 to 50 ${field} to keep`;
    return claims;
  }
  const keys = new Set<string>();
  const names = new Set<string>();
  list.forEach((c: unknown, i: number) => {
    const m = (c && typeof c === 'object' ? c : {}) as Record<string, unknown>;
    const claim = typeof m.claim === 'string' && CLAIM_RE.test(m.claim) ? m.claim : undefined;
    const key = typeof m.key === 'string' && KEY_RE.test(m.key) ? m.key : undefined;
    const labelNl = text(m.labelNl, 80);
    const labelEn = text(m.labelEn, 80);
    const kind = m.kind === undefined ? 'text' : m.kind === 'bsn' || m.kind === 'date' || m.kind === 'text' ? m.kind : undefined;
    if (!claim) fields[`${field}[${i}].claim`] = 'a claim name';
    else if (names.has(claim)) fields[`${field}[${i}].claim`] = 'listed twice';
    if (!key) fields[`${field}[${i}].key`] = 'letters, digits and _, starting with a lowercase letter';
    else if (keys.has(key)) fields[`${field}[${i}].key`] = 'used twice';
    if (!labelNl) fields[`${field}[${i}].labelNl`] = 'required, at most 80 characters';
    if (!labelEn) fields[`${field}[${i}].labelEn`] = 'required, at most 80 characters';
    if (!kind) fields[`${field}[${i}].kind`] = 'bsn, date or text';
    if (claim && key && labelNl && labelEn && kind) {
      names.add(claim);
      keys.add(key);
      claims.push(Object.freeze({ claim, key, labelNl, labelEn, kind }));
    }
  });
  return claims;
}

/**
 * Imports the private key for private_key_jwt. Throws a plain Error without the key material in the message.
 * Supported: RSA (RS256), EC P-256 (ES256), Ed25519.
 */
export function importPrivateKey(key: string | Record<string, unknown>): KeyObject {
  let ko: KeyObject;
  try {
    ko = typeof key === 'string' ? createPrivateKey(key) : createPrivateKey({ key: key as never, format: 'jwk' });
  } catch {
    throw new Error('the private key could not be read (expected a PEM or a private JWK)');
  }
  if (ko.type !== 'private') throw new Error('the key is not a private key');
  const t = ko.asymmetricKeyType;
  if (t === 'rsa' && (ko.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA keys must be at least 2048 bits');
  if (t === 'ec' && ko.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('EC keys must use the P-256 curve');
  if (t !== 'rsa' && t !== 'ec' && t !== 'ed25519') throw new Error('the key must be RSA, EC P-256 or Ed25519');
  return ko;
}

/**
 * Validates an auth method configuration from the editor or a file. Returns a clean, frozen copy; throws a UserError
 * (400, 'invalid_auth_method') listing every problem per field. Secrets never appear in messages.
 */
export function validateAuthMethod(input: unknown): AuthMethod {
  const fields: Record<string, string> = {};
  const o = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const allowInsecureLoopback = o.allowInsecureLoopback === true;

  const id = typeof o.id === 'string' && ID_RE.test(o.id) ? o.id : undefined;
  if (!id) fields.id = 'lowercase letters, digits, - and _, at most 40 characters';
  const displayName = text(o.displayName, 80);
  if (!displayName) fields.displayName = 'required, at most 80 characters';

  let logo: string | undefined;
  if (typeof o.logo === 'string' && (BUILTIN_LOGOS as readonly string[]).includes(o.logo)) logo = o.logo;
  else if (typeof o.logo === 'string' && o.logo.length <= 2000 && !urlProblem(o.logo, allowInsecureLoopback)) logo = o.logo;
  else fields.logo = `one of ${BUILTIN_LOGOS.join(', ')} or an https URL`;

  let issuer: string | undefined;
  if (typeof o.issuer !== 'string' || o.issuer.length > 2000) fields.issuer = 'required';
  else {
    const p = urlProblem(o.issuer, allowInsecureLoopback);
    if (p) fields.issuer = `the issuer ${p}`;
    else if (/[?#]/.test(o.issuer)) fields.issuer = 'the issuer must not have a query or fragment';
    else issuer = o.issuer;
  }

  const clientId = text(o.clientId, 255);
  if (!clientId) fields.clientId = 'required, at most 255 characters';

  const clientAuth = o.clientAuth === 'client_secret_basic' || o.clientAuth === 'private_key_jwt' ? o.clientAuth : undefined;
  if (!clientAuth) fields.clientAuth = 'client_secret_basic or private_key_jwt';

  const cred = (o.credentials && typeof o.credentials === 'object' ? o.credentials : {}) as Record<string, unknown>;
  const credentials: AuthMethodCredentials = {};
  if (clientAuth === 'client_secret_basic') {
    if (typeof cred.clientSecret !== 'string' || cred.clientSecret.length < 16 || cred.clientSecret.length > 512) {
      fields.clientSecret = 'required for client_secret_basic, 16 to 512 characters';
    } else credentials.clientSecret = cred.clientSecret;
  } else if (clientAuth === 'private_key_jwt') {
    const pk = cred.privateKey;
    if (typeof pk !== 'string' && !(pk && typeof pk === 'object')) fields.privateKey = 'required for private_key_jwt (PEM or JWK)';
    else {
      try {
        importPrivateKey(pk as string | Record<string, unknown>);
        credentials.privateKey = pk as string | Record<string, unknown>;
      } catch (e) {
        fields.privateKey = (e as Error).message;
      }
    }
    const kid = cred.privateKeyId ?? (pk && typeof pk === 'object' ? (pk as Record<string, unknown>).kid : undefined);
    if (kid !== undefined) {
      if (typeof kid !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(kid)) fields.privateKeyId = 'printable characters, at most 200';
      else credentials.privateKeyId = kid;
    }
  }

  const scopes: string[] = [];
  const rawScopes = typeof o.scopes === 'string' ? o.scopes.split(/\s+/).filter(Boolean) : o.scopes;
  if (!Array.isArray(rawScopes) || rawScopes.length > 30 || !rawScopes.every((s) => typeof s === 'string' && SCOPE_RE.test(s))) {
    fields.scopes = 'a list of scope names';
  } else {
    for (const s of rawScopes as string[]) if (!scopes.includes(s)) scopes.push(s);
    if (!scopes.includes('openid')) scopes.unshift('openid');
  }

  const extraAuthParams: Record<string, string> = {};
  if (o.extraAuthParams !== undefined && o.extraAuthParams !== null) {
    if (typeof o.extraAuthParams !== 'object' || Array.isArray(o.extraAuthParams)) fields.extraAuthParams = 'name/value pairs';
    else {
      for (const [k, v] of Object.entries(o.extraAuthParams as Record<string, unknown>)) {
        if (!PARAM_RE.test(k)) fields.extraAuthParams = `parameter name "${k.slice(0, 64)}" is not allowed`;
        else if (RESERVED_PARAMS.has(k)) fields.extraAuthParams = `parameter "${k}" is set by ID Video itself`;
        else if (typeof v !== 'string' || v.length > 1000 || /[\u0000-\u001f]/.test(v)) fields.extraAuthParams = `value of "${k}" must be text`;
        else extraAuthParams[k] = v;
      }
      if (Object.keys(extraAuthParams).length > 20) fields.extraAuthParams = 'at most 20 parameters';
    }
  }

  let acr: AcrRequirement | undefined;
  if (o.acr !== undefined && o.acr !== null) {
    const a = o.acr as Record<string, unknown>;
    const order = a.order;
    if (!Array.isArray(order) || order.length === 0 || order.length > 20 || !order.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)) {
      fields.acr = 'order must list the acr values from weakest to strongest';
    } else if (new Set(order).size !== order.length) fields.acr = 'acr values in the order must be unique';
    else if (typeof a.minimum !== 'string' || !order.includes(a.minimum)) fields.acr = 'the minimum acr must be one of the listed values';
    else acr = { minimum: a.minimum, order: [...(order as string[])] };
  }

  const claims = validateClaimMappings(o.claims, fields, 'claims');

  if (Object.keys(fields).length > 0 || !id || !displayName || !logo || !issuer || !clientId || !clientAuth) {
    const list = Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; ');
    throw new UserError(400, 'invalid_auth_method', `Authentication method configuration is invalid (${list})`, fields);
  }
  return Object.freeze({
    id, displayName, logo, issuer, clientId, clientAuth,
    credentials: Object.freeze(credentials),
    scopes: Object.freeze(scopes) as string[],
    extraAuthParams: Object.freeze(extraAuthParams),
    ...(acr ? { acr: Object.freeze(acr) } : {}),
    claims: Object.freeze(claims.map((c) => Object.freeze(c))) as ClaimMapping[],
    allowInsecureLoopback,
  });
}

/** Rank of an acr value in the method's order; -1 when unknown or absent. */
export function acrRank(req: AcrRequirement, acr: unknown): number {
  return typeof acr === 'string' ? req.order.indexOf(acr) : -1;
}

/** True when the delivered acr meets the method's minimum (always true when the method sets no minimum). */
export function acrSatisfies(req: AcrRequirement | undefined, acr: unknown): boolean {
  if (!req) return true;
  const got = acrRank(req, acr);
  return got >= 0 && got >= req.order.indexOf(req.minimum);
}

/** What the resident's method-choice pop-up may show: no issuer, client or credentials. */
export interface PublicMethodView {
  id: string;
  displayName: string;
  logo: string;
}

export function publicMethodView(m: AuthMethod): PublicMethodView {
  return { id: m.id, displayName: m.displayName, logo: m.logo };
}
