import { createHash, webcrypto } from 'node:crypto';
import type * as OC from 'openid-client' with { 'resolution-mode': 'import' };
import { UserError } from '../errors';
import type { PendingIdentificationStore } from '../identification/pending-store';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import { DEFAULT_CLAIM_LIMITS, mapClaims, type Attribute, type ClaimLimits } from './claims';
import { limitedFetch, ProviderTimeoutError, ResponseTooLargeError } from './http-limits';
import { acrSatisfies, importPrivateKey, urlProblem, type AuthMethod } from './method';

/**
 * The in-call OpenID Connect flow (authorization code + PKCE S256, state, nonce), built on openid-client. The pending
 * request lives in the store (lib/identification/pending-store.ts), keyed by the hash of its state, for ten minutes,
 * bound to the resident's call session and usable once (taken with one atomic delete), so the callback may land on
 * any instance: that instance finds the nonce and PKCE verifier there and the method by its id in its own flows.
 * Attribute values never go there. finish() never throws for anything a provider or a browser can send: it answers
 * with a reason code.
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
}

export interface FinishInput {
  /** The callback as the browser requested it: a full URL or path + query (e.g. Express's req.originalUrl). Only its query is used. */
  currentUrl: string | URL;
  callSessionId: string;
}

export type FinishResult =
  | { ok: true; appointmentId: string; requestId: string; purpose: string; methodId: string; acr?: string; attributes: Attribute[] }
  | { ok: false; reason: FinishFailure; appointmentId?: string; requestId?: string; purpose?: string; methodId?: string };

export interface OidcFlowsOptions {
  /** Our callback URL exactly as registered with the providers (https, or http on loopback for tests/demo). */
  redirectUri: string;
  /** Where started requests wait for their callback (the store's, shared by every instance). */
  pending: PendingIdentificationStore;
  /**
   * The method of a pending request by id, for a callback that lands on an instance which did not start it (the
   * instance's own idv-request-auth methods). Methods started here are known without it.
   */
  methodById?: (id: string) => AuthMethod | undefined;
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
  /** Number of requests waiting for their callback, on every instance (monitoring). */
  pendingCount(): Promise<number>;
  /** Forgets cached discovery, e.g. after a method's configuration changed. */
  forgetMethod(methodId: string): void;
}

/** What a pending request keeps in the store: references and protocol secrets, never a credential or a value. */
interface PendingPayload {
  methodId: string;
  /** Which provider and client the request was started with (a method id pointing elsewhere now is refused). */
  provider: string;
  appointmentId: string;
  requestId: string;
  purpose: string;
  nonce: string;
  codeVerifier: string;
}

function isPayload(p: Record<string, unknown>): p is Record<string, unknown> & PendingPayload {
  return ['methodId', 'provider', 'appointmentId', 'requestId', 'purpose', 'nonce', 'codeVerifier'].every((k) => typeof p[k] === 'string');
}

/** The provider and client of a method, without its credentials. */
function providerOf(m: AuthMethod): string {
  return createHash('sha256').update(JSON.stringify([m.issuer, m.clientId, m.clientAuth])).digest('hex').slice(0, 32);
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
  const fetchImpl = limitedFetch({ timeoutMs: httpTimeoutMs, maxBytes: opts.maxResponseBytes ?? 256 * 1024 });

  const pending = opts.pending;
  /** Methods this instance started requests with (the callback may come back here); others via methodById. */
  const startedWith = new Map<string, AuthMethod>();
  const configs = new Map<string, CachedConfig>();
  let lastSweep = 0;

  /** Expired requests and tombstones go at most once a minute; never in the resident's way. */
  function sweep(): void {
    const t = now();
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    pending.purgeExpired(t).catch(() => undefined);
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
    if ((await pending.countOpen(now(), ['oidc'])) >= maxPending) throw new UserError(503, 'too_many_auth_requests', 'Too many identifications are in progress; try again in a few minutes');
    const oc = await loadClient();
    let config: OC.Configuration;
    try {
      config = await getConfig(oc, method);
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
    const payload: PendingPayload = {
      methodId: method.id,
      provider: providerOf(method),
      appointmentId: input.appointmentId,
      requestId: input.requestId,
      purpose: input.purpose,
      nonce,
      codeVerifier,
    };
    const createdAt = now();
    await pending.put({ kind: 'oidc', keyHash: hashToken(state), sessionHash: hashToken(input.callSessionId), payload: { ...payload }, createdAt, expiresAt: createdAt + pendingTtlMs });
    startedWith.set(method.id, method);
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
    // Single use, whatever happens next: taken (deleted) in one statement, on whichever instance this is.
    const taken = await pending.take('oidc', hashToken(state), now());
    if (taken.status === 'unknown') return { ok: false, reason: 'expired' };
    if (taken.status === 'replayed') return { ok: false, reason: 'replayed' };
    const stored = taken.attempt.payload;
    if (!isPayload(stored)) return { ok: false, reason: 'validation_failed' };
    const ref = { appointmentId: stored.appointmentId, requestId: stored.requestId, purpose: stored.purpose, methodId: stored.methodId };
    const fail = (reason: FinishFailure): FinishResult => ({ ok: false, reason, ...ref });

    if (taken.status === 'expired') return fail('expired');
    if (typeof input.callSessionId !== 'string' || !safeEqual(hashToken(input.callSessionId), taken.attempt.sessionHash)) return fail('wrong_session');
    const known = startedWith.get(stored.methodId) ?? opts.methodById?.(stored.methodId);
    // The method is gone from the flows, or now names another provider or client: this answer cannot be checked.
    if (!known || providerOf(known) !== stored.provider) return fail('expired');
    const p = { method: known, nonce: stored.nonce, codeVerifier: stored.codeVerifier };
    const error = url.searchParams.get('error');
    if (error !== null) return fail(error === 'access_denied' ? 'cancelled' : 'provider_error');

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
    pendingCount: () => pending.countOpen(now(), ['oidc']),
    forgetMethod: (methodId) => void configs.delete(methodId),
  };
}
