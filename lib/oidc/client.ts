import { createHash, createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import type * as OC from 'openid-client' with { 'resolution-mode': 'import' };

/**
 * How ID Video connects to one OpenID provider as a client (relying party): issuer, client id and the client
 * authentication. Shared by the residents' identification methods (lib/auth/method.ts) and the staff sign-in
 * (lib/staff/sso-config.ts), so both check and use a connection the same way.
 */

export type ClientAuthMethod = 'client_secret_basic' | 'private_key_jwt';

/** Credentials kept apart from the rest so a configuration can be shown/logged without them. */
export interface OidcClientCredentials {
  clientSecret?: string;
  /** PEM (PKCS#8 / PKCS#1 / SEC1) or a private JWK, for private_key_jwt. */
  privateKey?: string | Record<string, unknown>;
  /** The `kid` the provider registered for that key (taken from the JWK when absent). */
  privateKeyId?: string;
  /**
   * The X.509 certificate (PEM) registered for the key. When given, the client assertion names it by thumbprint
   * (`x5t#S256` and `x5t` header parameters, RFC 7515 4.1.7/4.1.8), which Microsoft Entra ID requires.
   */
  certificate?: string;
}

/** One client registration at one OpenID provider. */
export interface OidcClient {
  /** Our own name for it (cache key, logs): lower-case letters, digits, - and _. */
  id: string;
  issuer: string;
  clientId: string;
  clientAuth: ClientAuthMethod;
  credentials: OidcClientCredentials;
  /** Allows http://127.0.0.1 and http://localhost issuers: only for tests and demo mode. */
  allowInsecureLoopback: boolean;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * Checks an http(s) URL: https always, http only for loopback when explicitly allowed. Returns the problem as text,
 * or undefined when fine. The URL itself is not secret, so it may appear in the message.
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

/** The certificate's thumbprints for a JWS header; throws a plain Error when it is no certificate of that key. */
export function certificateThumbprints(pem: string, key?: KeyObject): { x5t: string; 'x5t#S256': string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new Error('the certificate could not be read (expected a PEM certificate)');
  }
  if (key && !cert.checkPrivateKey(key)) throw new Error('the certificate does not belong to the private key');
  return {
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    'x5t#S256': createHash('sha256').update(cert.raw).digest('base64url'),
  };
}

function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (t.length === 0 || t.length > max || /[\u0000-\u001f\u007f]/.test(t)) return undefined;
  return t;
}

/**
 * Checks the connection part of a client configuration (`issuer`, `clientId`, `clientAuth`, `credentials`), writing
 * each problem into `fields` (field name -> message, never a secret). Returns the clean parts, or undefined for a
 * part that is wrong.
 */
export function checkClientConnection(
  o: Record<string, unknown>,
  fields: Record<string, string>,
  allowInsecureLoopback: boolean,
): { issuer?: string; clientId?: string; clientAuth?: ClientAuthMethod; credentials: OidcClientCredentials } {
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
  const credentials: OidcClientCredentials = {};
  if (clientAuth === 'client_secret_basic') {
    if (typeof cred.clientSecret !== 'string' || cred.clientSecret.length < 16 || cred.clientSecret.length > 512) {
      fields.clientSecret = 'required for client_secret_basic, 16 to 512 characters';
    } else credentials.clientSecret = cred.clientSecret;
  } else if (clientAuth === 'private_key_jwt') {
    const pk = cred.privateKey;
    let key: KeyObject | undefined;
    if (typeof pk !== 'string' && !(pk && typeof pk === 'object')) fields.privateKey = 'required for private_key_jwt (PEM or JWK)';
    else {
      try {
        key = importPrivateKey(pk as string | Record<string, unknown>);
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
    if (cred.certificate !== undefined && cred.certificate !== '') {
      if (typeof cred.certificate !== 'string' || cred.certificate.length > 20_000) fields.certificate = 'a PEM certificate';
      else {
        try {
          certificateThumbprints(cred.certificate, key);
          credentials.certificate = cred.certificate;
        } catch (e) {
          fields.certificate = (e as Error).message;
        }
      }
    }
  }
  return { issuer, clientId, clientAuth, credentials };
}

/** Parameters the flow itself sets; letting configuration override them would break PKCE/state/nonce binding. */
const RESERVED_PARAMS = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'request', 'request_uri', 'client_secret', 'client_assertion', 'client_assertion_type',
]);
const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/; // RFC 6749 scope-token
const PARAM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Scopes from a list or a space-separated string (RFC 6749 3.3 scope-tokens), without duplicates, `openid` first
 * when missing. A problem goes into `fields.scopes`.
 */
export function checkScopes(raw: unknown, fields: Record<string, string>): string[] {
  const scopes: string[] = [];
  const list = typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : raw;
  if (!Array.isArray(list) || list.length > 30 || !list.every((s) => typeof s === 'string' && SCOPE_RE.test(s))) {
    fields.scopes = 'a list of scope names';
    return scopes;
  }
  for (const s of list as string[]) if (!scopes.includes(s)) scopes.push(s);
  if (!scopes.includes('openid')) scopes.unshift('openid');
  return scopes;
}

/**
 * Extra authorization request parameters (acr_values, kc_idp_hint, domain_hint, prompt…) as name/value pairs; the
 * flow's own parameters cannot be overridden. A problem goes into `fields.extraAuthParams`.
 */
export function checkExtraAuthParams(raw: unknown, fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    fields.extraAuthParams = 'name/value pairs';
    return out;
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!PARAM_RE.test(k)) fields.extraAuthParams = `parameter name "${k.slice(0, 64)}" is not allowed`;
    else if (RESERVED_PARAMS.has(k)) fields.extraAuthParams = `parameter "${k}" is set by ID Video itself`;
    else if (typeof v !== 'string' || v.length > 1000 || /[\u0000-\u001f]/.test(v)) fields.extraAuthParams = `value of "${k}" must be text`;
    else out[k] = v;
  }
  if (Object.keys(out).length > 20) fields.extraAuthParams = 'at most 20 parameters';
  return out;
}

/** Identifies a client's connection settings (credentials hashed) so a changed configuration is rediscovered. */
export function clientFingerprint(c: OidcClient): string {
  const cr = c.credentials;
  return createHash('sha256')
    .update(JSON.stringify([c.issuer, c.clientId, c.clientAuth, cr.clientSecret ?? '', cr.privateKey ?? '', cr.privateKeyId ?? '', cr.certificate ?? '', c.allowInsecureLoopback]))
    .digest('hex');
}

/** openid-client's client authentication for a configured client. Throws a plain Error (no secret) when incomplete. */
export async function clientAuthFor(oc: typeof OC, c: OidcClient): Promise<OC.ClientAuth> {
  if (c.clientAuth === 'client_secret_basic') {
    if (!c.credentials.clientSecret) throw new Error(`OIDC client ${c.id}: no client secret configured`);
    return oc.ClientSecretBasic(c.credentials.clientSecret);
  }
  if (!c.credentials.privateKey) throw new Error(`OIDC client ${c.id}: no private key configured`);
  const ko = importPrivateKey(c.credentials.privateKey);
  const der = ko.export({ format: 'der', type: 'pkcs8' });
  const algorithm =
    ko.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : ko.asymmetricKeyType === 'ec'
        ? { name: 'ECDSA', namedCurve: 'P-256' }
        : { name: 'Ed25519' };
  const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  const thumbprints = c.credentials.certificate ? certificateThumbprints(c.credentials.certificate) : undefined;
  return oc.PrivateKeyJwt(
    { key: key as unknown as OC.CryptoKey, ...(c.credentials.privateKeyId ? { kid: c.credentials.privateKeyId } : {}) },
    thumbprints ? { [oc.modifyAssertion]: (header: Record<string, unknown>) => void Object.assign(header, thumbprints) } : undefined,
  );
}
