import { createHash, webcrypto } from 'node:crypto';
import type * as OC from 'openid-client' with { 'resolution-mode': 'import' };
import { UserError } from '../errors';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import { DEFAULT_CLAIM_LIMITS, mapClaims, type Attribute, type ClaimLimits } from './claims';
import { tracedFetch, withSpan, type SpanContext } from '../trace/context';
import { limitedFetch, ProviderTimeoutError, ResponseTooLargeError } from './http-limits';
import { acrSatisfies, importPrivateKey, urlProblem, type AuthMethod } from './method';

/**
 * The in-call OpenID Connect flow (authorization code + PKCE S256, state, nonce), built on openid-client. The pending
 * request lives only in memory, keyed by the hash of its state, for ten minutes, bound to the resident's call session
 * and usable once. finish() never throws for anything a provider or a browser can send: it answers with a reason code.
 */

export type FinishFailure =
  | 'cancelled'
  | 'expired'
  | 'replayed'
  | 'wrong_session'
  | 'provider_error'
  | 'validation_failed'
  | 'acr_too_low'
  | 'bsn_invalid'
  | 'too_large';

export interface StartInput {
  method: AuthMethod;
  appointmentId: string;
  /** The resident's call session (cookie value or its id); only its hash is kept. */
  callSessionId: string;
  /** Why the agent asks (verwerkingsdoel); kept for the processing log. */
  purpose: string;
  requestId: string;
  /** The processing this start belongs to (method chosen): its traceparent goes with the discovery call. */
  span?: SpanContext;
  /** The verification's span: its traceparent goes with the token and userinfo calls of the callback. */
  finishSpan?: SpanContext;
}

export interface FinishInput {
  /** The callback as the browser requested it: a full URL or path + query (e.g. Express's req.originalUrl). Only its query is used. */
  currentUrl: string | URL;
  callSessionId: string;
}

/** `span`: the verification's span given at start (its traceparent went to the provider's token and userinfo calls). */
export type FinishResult =
  | { ok: true; appointmentId: string; requestId: string; purpose: string; methodId: string; acr?: string; attributes: Attribute[]; span?: SpanContext }
  | { ok: false; reason: FinishFailure; appointmentId?: string; requestId?: string; purpose?: string; methodId?: string; span?: SpanContext };

export interface OidcFlowsOptions {
  /** Our callback URL exactly as registered with the providers (https, or http on loopback for tests/demo). */
  redirectUri: string;
  /** Clock in ms since the epoch; injectable so tests can age a request. */
  now?: () => number;
  /** Deadline for each call to a provider (discovery, token, JWKS, userinfo). */
  httpTimeoutMs?: number;
  /** How long a started request may be finished (10 minutes). */
  pendingTtlMs?: number;
  /** How long discovery results are reused per method. */
  discoveryTtlMs?: number;
  /** Largest answer accepted from a provider. */
  maxResponseBytes?: number;
  claimLimits?: ClaimLimits;
  maxPending?: number;
}

export interface OidcFlows {
  start(input: StartInput): Promise<{ authorizationUrl: string }>;
  finish(input: FinishInput): Promise<FinishResult>;
  /** Number of requests waiting for their callback (monitoring). */
  pendingCount(): number;
  /** Forgets cached discovery, e.g. after a method's configuration changed. */
  forgetMethod(methodId: string): void;
}

interface Pending {
  method: AuthMethod;
  appointmentId: string;
  requestId: string;
  purpose: string;
  sessionHash: string;
  nonce: string;
  codeVerifier: string;
  createdAt: number;
  span?: SpanContext;
}

interface CachedConfig {
  fingerprint: string;
  expiresAt: number;
  config: Promise<OC.Configuration>;
}

type OpenIdClient = typeof OC;
let clientModule: Promise<OpenIdClient> | undefined;
/** openid-client is ESM only; a real dynamic import from our CommonJS output. */
function loadClient(): Promise<OpenIdClient> {
  clientModule ??= import('openid-client');
  return clientModule;
}

/** Identifies the method's connection settings (credentials hashed) so a changed config is rediscovered. */
function fingerprint(m: AuthMethod): string {
  return createHash('sha256')
    .update(JSON.stringify([m.issuer, m.clientId, m.clientAuth, m.credentials.clientSecret ?? '', m.credentials.privateKey ?? '', m.credentials.privateKeyId ?? '', m.allowInsecureLoopback]))
    .digest('hex');
}

async function clientAuthFor(oc: OpenIdClient, m: AuthMethod): Promise<OC.ClientAuth> {
  if (m.clientAuth === 'client_secret_basic') {
    if (!m.credentials.clientSecret) throw new Error(`auth method ${m.id}: no client secret configured`);
    return oc.ClientSecretBasic(m.credentials.clientSecret);
  }
  if (!m.credentials.privateKey) throw new Error(`auth method ${m.id}: no private key configured`);
  const ko = importPrivateKey(m.credentials.privateKey);
  const der = ko.export({ format: 'der', type: 'pkcs8' });
  const algorithm =
    ko.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : ko.asymmetricKeyType === 'ec'
        ? { name: 'ECDSA', namedCurve: 'P-256' }
        : { name: 'Ed25519' };
  const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return oc.PrivateKeyJwt({ key: key as unknown as OC.CryptoKey, ...(m.credentials.privateKeyId ? { kid: m.credentials.privateKeyId } : {}) });
}

/** Finds a typed cause anywhere in an error's cause chain (openid-client wraps what our fetch throws). */
function causeOf<T>(e: unknown, type: abstract new (...a: never[]) => T): T | undefined {
  for (let cur = e, depth = 0; cur && depth < 8; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (cur instanceof type) return cur;
  }
  return undefined;
}

// Codes of openid-client/oauth4webapi meaning "the provider's answer is unusable or unreachable" rather than
// "the answer failed our checks".
const PROVIDER_CODES = new Set([
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_RESPONSE_IS_NOT_JSON',
  'OAUTH_PARSE_ERROR',
  'OAUTH_MISSING_SERVER_METADATA',
  'OAUTH_INVALID_SERVER_METADATA',
  'OAUTH_HTTP_REQUEST_FORBIDDEN',
  'OAUTH_REQUEST_PROTOCOL_FORBIDDEN',
  'OAUTH_UNSUPPORTED_OPERATION',
]);

function classify(oc: OpenIdClient, e: unknown): FinishFailure {
  if (causeOf(e, ResponseTooLargeError)) return 'too_large';
  if (causeOf(e, ProviderTimeoutError)) return 'provider_error';
  if (e instanceof oc.ResponseBodyError) return e.error === 'invalid_grant' ? 'validation_failed' : 'provider_error';
  if (e instanceof oc.AuthorizationResponseError) return e.error === 'access_denied' ? 'cancelled' : 'provider_error';
  if (e instanceof oc.ClientError) return PROVIDER_CODES.has(e.code ?? '') ? 'provider_error' : 'validation_failed';
  return 'provider_error'; // network errors, DNS, refused connections
}

export function createOidcFlows(opts: OidcFlowsOptions): OidcFlows {
  const problem = urlProblem(opts.redirectUri, true);
  if (problem) throw new UserError(400, 'invalid_redirect_uri', `The OIDC redirect URI ${problem}`);
  const now = opts.now ?? Date.now;
  const httpTimeoutMs = opts.httpTimeoutMs ?? 10_000;
  const pendingTtlMs = opts.pendingTtlMs ?? 10 * 60_000;
  const discoveryTtlMs = opts.discoveryTtlMs ?? 5 * 60_000;
  const maxPending = opts.maxPending ?? 5000;
  const claimLimits = opts.claimLimits ?? DEFAULT_CLAIM_LIMITS;
  // Each call to a provider carries the identification's traceparent (Logboek Dataverwerkingen, W3C Trace Context).
  const fetchImpl = tracedFetch(limitedFetch({ timeoutMs: httpTimeoutMs, maxBytes: opts.maxResponseBytes ?? 256 * 1024 }));

  const pending = new Map<string, Pending>();
  /** Hashes of states already used, kept until they would have expired, to tell 'replayed' from 'expired'. */
  const consumed = new Map<string, number>();
  const configs = new Map<string, CachedConfig>();
  let lastSweep = 0;

  function sweep(): void {
    const t = now();
    if (t - lastSweep < 1000 && pending.size < maxPending) return;
    lastSweep = t;
    for (const [k, p] of pending) if (t - p.createdAt > pendingTtlMs) pending.delete(k);
    for (const [k, until] of consumed) if (t > until) consumed.delete(k);
  }

  function getConfig(oc: OpenIdClient, m: AuthMethod): Promise<OC.Configuration> {
    const fp = fingerprint(m);
    const hit = configs.get(m.id);
    if (hit && hit.fingerprint === fp && hit.expiresAt > Date.now()) return hit.config;
    const config = (async () => {
      const insecure = m.allowInsecureLoopback && new URL(m.issuer).protocol === 'http:';
      return oc.discovery(new URL(m.issuer), m.clientId, undefined, await clientAuthFor(oc, m), {
        [oc.customFetch]: fetchImpl as OC.CustomFetch,
        timeout: Math.max(1, Math.ceil(httpTimeoutMs / 1000)),
        // Signature checks of the ID token too (JWKS), not only TLS: a broker's token must be provably its own.
        execute: insecure ? [oc.allowInsecureRequests, oc.enableNonRepudiationChecks] : [oc.enableNonRepudiationChecks],
      });
    })();
    const entry: CachedConfig = { fingerprint: fp, expiresAt: Date.now() + discoveryTtlMs, config };
    configs.set(m.id, entry);
    // A failed discovery is not remembered: the next resident tries again.
    config.catch(() => {
      if (configs.get(m.id) === entry) configs.delete(m.id);
    });
    return config;
  }

  async function start(input: StartInput): Promise<{ authorizationUrl: string }> {
    const { method } = input;
    for (const [name, v] of [['appointmentId', input.appointmentId], ['callSessionId', input.callSessionId], ['requestId', input.requestId]] as const) {
      if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new UserError(400, 'invalid_auth_request', `${name} is required`);
    }
    if (typeof input.purpose !== 'string' || input.purpose.length > 200) throw new UserError(400, 'invalid_auth_request', 'purpose must be text of at most 200 characters');
    sweep();
    if (pending.size >= maxPending) throw new UserError(503, 'too_many_auth_requests', 'Too many identifications are in progress; try again in a few minutes');
    const oc = await loadClient();
    let config: OC.Configuration;
    try {
      config = await withSpan(input.span, () => getConfig(oc, method));
    } catch {
      throw new UserError(502, 'provider_error', `The identification service "${method.displayName}" cannot be reached right now`);
    }
    const state = newToken();
    const nonce = newToken();
    const codeVerifier = oc.randomPKCECodeVerifier();
    const codeChallenge = await oc.calculatePKCECodeChallenge(codeVerifier);
    const url = oc.buildAuthorizationUrl(config, {
      ...method.extraAuthParams,
      redirect_uri: opts.redirectUri,
      response_type: 'code',
      scope: method.scopes.join(' '),
      state,
      nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    });
    pending.set(hashToken(state), {
      method,
      appointmentId: input.appointmentId,
      requestId: input.requestId,
      purpose: input.purpose,
      sessionHash: hashToken(input.callSessionId),
      nonce,
      codeVerifier,
      createdAt: now(),
      ...(input.finishSpan ? { span: input.finishSpan } : {}),
    });
    return { authorizationUrl: url.href };
  }

  async function finish(input: FinishInput): Promise<FinishResult> {
    sweep();
    // Only the query counts; scheme, host and path are our configured redirect URI, so a spoofed Host header or a
    // proxy's view of the URL cannot change what is sent to the token endpoint. A path+query (req.originalUrl) works.
    let url: URL;
    try {
      const given = new URL(String(input.currentUrl), opts.redirectUri);
      url = new URL(opts.redirectUri);
      url.search = given.search;
    } catch {
      return { ok: false, reason: 'validation_failed' };
    }
    const state = url.searchParams.get('state');
    if (!looksLikeToken(state) || url.searchParams.getAll('state').length !== 1) return { ok: false, reason: 'validation_failed' };
    const key = hashToken(state);
    const p = pending.get(key);
    if (!p) return { ok: false, reason: consumed.has(key) ? 'replayed' : 'expired' };
    // Single use, whatever happens next.
    pending.delete(key);
    consumed.set(key, p.createdAt + pendingTtlMs);
    const ref = { appointmentId: p.appointmentId, requestId: p.requestId, purpose: p.purpose, methodId: p.method.id, ...(p.span ? { span: p.span } : {}) };
    const fail = (reason: FinishFailure): FinishResult => ({ ok: false, reason, ...ref });

    if (now() - p.createdAt > pendingTtlMs) return fail('expired');
    if (typeof input.callSessionId !== 'string' || !safeEqual(hashToken(input.callSessionId), p.sessionHash)) return fail('wrong_session');
    const error = url.searchParams.get('error');
    if (error !== null) return fail(error === 'access_denied' ? 'cancelled' : 'provider_error');

    return withSpan(p.span, () => exchange(p, url, state, fail, ref));
  }

  /** Token, ID token checks and userinfo for a callback (run inside the verification's span). */
  async function exchange(p: Pending, url: URL, state: string, fail: (reason: FinishFailure) => FinishResult, ref: Omit<Extract<FinishResult, { ok: true }>, 'ok' | 'acr' | 'attributes'>): Promise<FinishResult> {
    const oc = await loadClient();
    let config: OC.Configuration;
    try {
      config = await getConfig(oc, p.method);
    } catch {
      return fail('provider_error');
    }
    try {
      const tokens = await oc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: p.codeVerifier,
        expectedNonce: p.nonce,
        expectedState: state,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) return fail('validation_failed');
      const acr = typeof idClaims.acr === 'string' ? idClaims.acr : undefined;
      if (!acrSatisfies(p.method.acr, acr)) return fail('acr_too_low');
      const userinfo = await oc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      const claims: Record<string, unknown> = { ...idClaims, ...userinfo };
      const mapped = mapClaims(claims, p.method.claims, claimLimits);
      if (!mapped.ok) return fail(mapped.reason);
      return { ok: true, ...ref, ...(acr !== undefined ? { acr } : {}), attributes: mapped.attributes };
    } catch (e) {
      return fail(classify(oc, e));
    }
  }

  return {
    start,
    finish,
    pendingCount: () => pending.size,
    forgetMethod: (methodId) => void configs.delete(methodId),
  };
}
