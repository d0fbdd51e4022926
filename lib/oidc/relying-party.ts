import { createHash } from 'node:crypto';
import type * as OC from 'openid-client' with { 'resolution-mode': 'import' };
import { UserError } from '../errors';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import { clientAuthFor, clientFingerprint, urlProblem, type OidcClient } from './client';
import { tracedFetch } from '../trace/context';
import { limitedFetch, ProviderTimeoutError, ResponseTooLargeError } from './http-limits';
import { memoryPendingFlows, type PendingFlowStore } from './pending';

/**
 * The OpenID Connect authorization code flow (PKCE S256, state, nonce) on openid-client, for every place ID Video
 * is a relying party: the residents' identification in a call (lib/auth/oidc.ts) and the staff sign-in
 * (lib/staff/sso.ts). A started request waits in a pending store (lib/oidc/pending.ts; this process's memory by
 * default), keyed by the hash of its state, for ten minutes, bound to a secret the browser holds (the resident's call
 * session, the employee's sign-in cookie) and usable once. What waits there is JSON: the caller's context, the
 * client's id and a fingerprint of its provider and client id, the nonce and PKCE verifier — the client itself (with
 * its credentials) is found by id when the callback comes (`clientById`, or the clients this instance started with),
 * and a client that now points at another provider or client id is refused. finish() never throws for anything a
 * provider or a browser can send: it answers with a reason code.
 *
 * Checks (OpenID Connect Core 1.0 3.1.3.7, RFC 9207, RFC 7636, all through openid-client/oauth4webapi): the `iss` of
 * the authorization response when the provider sends or announces it, the ID token's signature against the
 * provider's JWKS (also over TLS: a token must be provably the provider's), `iss`, `aud`, `exp`, `iat` and `nonce`,
 * and the PKCE verifier at the token endpoint.
 */

export type FlowFailure = 'cancelled' | 'expired' | 'replayed' | 'wrong_session' | 'provider_error' | 'validation_failed' | 'too_large';

export interface RelyingPartyOptions {
  /** Our callback URL exactly as registered with the providers (https, or http on loopback for tests/demo). */
  redirectUri: string;
  /** Clock in ms since the epoch; injectable so tests can age a request. */
  now?: () => number;
  /** Deadline for each call to a provider (discovery, token, JWKS, userinfo). */
  httpTimeoutMs?: number;
  /** How long a started request may be finished (10 minutes). */
  pendingTtlMs?: number;
  /** How long discovery results are reused per client. */
  discoveryTtlMs?: number;
  /** Largest answer accepted from a provider. */
  maxResponseBytes?: number;
  maxPending?: number;
  /** Where started requests wait (default: this process's memory). */
  pending?: PendingFlowStore;
  /** A client by its id, for a callback this instance did not start (several instances, a restart). */
  clientById?: (id: string) => OidcClient | undefined;
}

export interface StartRequest<C, K extends OidcClient> {
  client: K;
  scopes: readonly string[];
  /** Extra authorization request parameters (acr_values, domain_hint…); the flow's own parameters win. */
  extraAuthParams?: Readonly<Record<string, string>>;
  /** The secret the callback's browser must hold (call session, sign-in cookie); only its hash is kept. */
  binding: string;
  /** What the caller needs back at the callback: JSON, references only (no credential, no attribute value). */
  context: C;
  /** The 502's message when the provider cannot be reached. */
  unreachableMessage?: string;
}

export interface FinishRequest {
  /** The callback as the browser requested it: a full URL or path + query (e.g. Express's req.originalUrl). Only its query is used. */
  currentUrl: string | URL;
  binding: string;
}

export type CallbackResult<C, K extends OidcClient = OidcClient> =
  | {
      ok: true;
      context: C;
      client: K;
      /** The ID token as received (for an RP-initiated logout's id_token_hint). */
      idToken: string;
      /** Its validated claims. */
      claims: Record<string, unknown> & { sub: string; iss: string };
      /**
       * The provider's userinfo for this sign-in (sub checked); rejects with errors failureOf() classifies. Undefined
       * when the provider announces no userinfo endpoint.
       */
      userInfo?: () => Promise<Record<string, unknown>>;
    }
  | { ok: false; reason: FlowFailure; context?: C };

export interface RelyingParty<C, K extends OidcClient = OidcClient> {
  start(r: StartRequest<C, K>): Promise<{ authorizationUrl: string }>;
  finish(r: FinishRequest): Promise<CallbackResult<C, K>>;
  /** The reason code of an error thrown by a success's userInfo(). */
  failureOf(e: unknown): Promise<FlowFailure>;
  /**
   * The provider's RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0) with id_token_hint, client_id and
   * post_logout_redirect_uri, or undefined when the provider announces no end_session_endpoint or cannot be reached.
   */
  endSessionUrl(client: OidcClient, p: { idTokenHint?: string; postLogoutRedirectUri: string }): Promise<string | undefined>;
  /** Discovery now (start-up checks); rejects with a plain message when the provider cannot be used. */
  discover(client: OidcClient): Promise<ProviderFacts>;
  /** Number of requests waiting for their callback (monitoring). */
  pendingCount(): Promise<number>;
  /** Forgets cached discovery, e.g. after a client's configuration changed. */
  forget(clientId: string): void;
}

/** What discovery says about a provider that the callers use beside the flow itself. */
export interface ProviderFacts {
  issuer: string;
  endSessionEndpoint?: string;
  /** Where the provider's signing keys are (logout tokens are checked against them). */
  jwksUri?: string;
  /** The ID token signing algorithms it announces (default RS256, OpenID Connect Discovery 1.0 section 3). */
  signingAlgs: string[];
}

/** What a pending request keeps: references and protocol secrets, never a credential or a value. */
interface PendingPayload {
  clientId: string;
  /** Which provider and client id the request was started with (credentials left out). */
  provider: string;
  context: unknown;
  nonce: string;
  codeVerifier: string;
}

function isPayload(p: Record<string, unknown>): p is Record<string, unknown> & PendingPayload {
  return ['clientId', 'provider', 'nonce', 'codeVerifier'].every((k) => typeof p[k] === 'string') && 'context' in p;
}

/** The provider and client id of a client, without its credentials. */
function providerOf(c: OidcClient): string {
  return createHash('sha256').update(JSON.stringify([c.issuer, c.clientId, c.clientAuth])).digest('hex').slice(0, 32);
}

interface CachedConfig {
  fingerprint: string;
  expiresAt: number;
  config: Promise<OC.Configuration>;
}

type OpenIdClient = typeof OC;
let clientModule: Promise<OpenIdClient> | undefined;
/** openid-client is ESM only; a real dynamic import from our CommonJS output. */
export function loadOpenIdClient(): Promise<OpenIdClient> {
  clientModule ??= import('openid-client');
  return clientModule;
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

function classify(oc: OpenIdClient, e: unknown): FlowFailure {
  if (causeOf(e, ResponseTooLargeError)) return 'too_large';
  if (causeOf(e, ProviderTimeoutError)) return 'provider_error';
  if (e instanceof oc.ResponseBodyError) return e.error === 'invalid_grant' ? 'validation_failed' : 'provider_error';
  if (e instanceof oc.AuthorizationResponseError) return e.error === 'access_denied' ? 'cancelled' : 'provider_error';
  if (e instanceof oc.ClientError) return PROVIDER_CODES.has(e.code ?? '') ? 'provider_error' : 'validation_failed';
  return 'provider_error'; // network errors, DNS, refused connections
}

export function createRelyingParty<C, K extends OidcClient = OidcClient>(opts: RelyingPartyOptions): RelyingParty<C, K> {
  const problem = urlProblem(opts.redirectUri, true);
  if (problem) throw new UserError(400, 'invalid_redirect_uri', `The OIDC redirect URI ${problem}`);
  const now = opts.now ?? Date.now;
  const httpTimeoutMs = opts.httpTimeoutMs ?? 10_000;
  const pendingTtlMs = opts.pendingTtlMs ?? 10 * 60_000;
  const discoveryTtlMs = opts.discoveryTtlMs ?? 5 * 60_000;
  const maxPending = opts.maxPending ?? 5000;
  // A call made on behalf of a processing carries its traceparent (Logboek Dataverwerkingen, lib/trace/context.ts).
  const fetchImpl = tracedFetch(limitedFetch({ timeoutMs: httpTimeoutMs, maxBytes: opts.maxResponseBytes ?? 256 * 1024 }));

  const pending = opts.pending ?? memoryPendingFlows();
  /** Clients this instance started requests with (the callback usually comes back here); others via clientById. */
  const startedWith = new Map<string, K>();
  const configs = new Map<string, CachedConfig>();
  let lastSweep = 0;

  /** Expired requests and tombstones go at most once a second, never in the way of a sign-in. */
  function sweep(): void {
    const t = now();
    if (t - lastSweep < 1000) return;
    lastSweep = t;
    pending.purgeExpired(t).catch(() => undefined);
  }

  function getConfig(oc: OpenIdClient, c: OidcClient): Promise<OC.Configuration> {
    const fp = clientFingerprint(c);
    const hit = configs.get(c.id);
    if (hit && hit.fingerprint === fp && hit.expiresAt > Date.now()) return hit.config;
    const config = (async () => {
      const insecure = c.allowInsecureLoopback && new URL(c.issuer).protocol === 'http:';
      return oc.discovery(new URL(c.issuer), c.clientId, undefined, await clientAuthFor(oc, c), {
        [oc.customFetch]: fetchImpl as OC.CustomFetch,
        timeout: Math.max(1, Math.ceil(httpTimeoutMs / 1000)),
        // Signature checks of the ID token too (JWKS), not only TLS: a token must be provably the provider's own.
        execute: insecure ? [oc.allowInsecureRequests, oc.enableNonRepudiationChecks] : [oc.enableNonRepudiationChecks],
      });
    })();
    const entry: CachedConfig = { fingerprint: fp, expiresAt: Date.now() + discoveryTtlMs, config };
    configs.set(c.id, entry);
    // A failed discovery is not remembered: the next attempt tries again.
    config.catch(() => {
      if (configs.get(c.id) === entry) configs.delete(c.id);
    });
    return config;
  }

  async function start(r: StartRequest<C, K>): Promise<{ authorizationUrl: string }> {
    if (typeof r.binding !== 'string' || r.binding.length === 0 || r.binding.length > 200) throw new UserError(400, 'invalid_auth_request', 'the browser binding is required');
    sweep();
    if ((await pending.countOpen(now())) >= maxPending) throw new UserError(503, 'too_many_auth_requests', 'Too many sign-ins are in progress; try again in a few minutes');
    const oc = await loadOpenIdClient();
    let config: OC.Configuration;
    try {
      config = await getConfig(oc, r.client);
    } catch {
      throw new UserError(502, 'provider_error', r.unreachableMessage ?? 'The identity provider cannot be reached right now');
    }
    const state = newToken();
    const nonce = newToken();
    const codeVerifier = oc.randomPKCECodeVerifier();
    const codeChallenge = await oc.calculatePKCECodeChallenge(codeVerifier);
    const url = oc.buildAuthorizationUrl(config, {
      ...r.extraAuthParams,
      redirect_uri: opts.redirectUri,
      response_type: 'code',
      scope: r.scopes.join(' '),
      state,
      nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    });
    const payload: PendingPayload = { clientId: r.client.id, provider: providerOf(r.client), context: r.context, nonce, codeVerifier };
    const createdAt = now();
    await pending.put({ keyHash: hashToken(state), sessionHash: hashToken(r.binding), payload: { ...payload }, createdAt, expiresAt: createdAt + pendingTtlMs });
    startedWith.set(r.client.id, r.client);
    return { authorizationUrl: url.href };
  }

  async function finish(r: FinishRequest): Promise<CallbackResult<C, K>> {
    sweep();
    // Only the query counts; scheme, host and path are our configured redirect URI, so a spoofed Host header or a
    // proxy's view of the URL cannot change what is sent to the token endpoint. A path+query (req.originalUrl) works.
    let url: URL;
    try {
      const given = new URL(String(r.currentUrl), opts.redirectUri);
      url = new URL(opts.redirectUri);
      url.search = given.search;
    } catch {
      return { ok: false, reason: 'validation_failed' };
    }
    const state = url.searchParams.get('state');
    if (!looksLikeToken(state) || url.searchParams.getAll('state').length !== 1) return { ok: false, reason: 'validation_failed' };
    // Single use, whatever happens next: taken (removed) at once.
    const taken = await pending.take(hashToken(state), now());
    if (taken.status === 'unknown') return { ok: false, reason: 'expired' };
    if (taken.status === 'replayed') return { ok: false, reason: 'replayed' };
    const stored = taken.attempt.payload;
    if (!isPayload(stored)) return { ok: false, reason: 'validation_failed' };
    const context = stored.context as C;
    const fail = (reason: FlowFailure): CallbackResult<C, K> => ({ ok: false, reason, context });

    if (taken.status === 'expired') return fail('expired');
    if (typeof r.binding !== 'string' || !safeEqual(hashToken(r.binding), taken.attempt.sessionHash)) return fail('wrong_session');
    const client = startedWith.get(stored.clientId) ?? (opts.clientById?.(stored.clientId) as K | undefined);
    // The client is gone from the configuration, or now names another provider or client id: the answer cannot be checked.
    if (!client || providerOf(client) !== stored.provider) return fail('expired');
    const p = { client, nonce: stored.nonce, codeVerifier: stored.codeVerifier };
    const error = url.searchParams.get('error');
    if (error !== null) return fail(error === 'access_denied' ? 'cancelled' : 'provider_error');

    const oc = await loadOpenIdClient();
    let config: OC.Configuration;
    try {
      config = await getConfig(oc, p.client);
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
      const claims = tokens.claims();
      if (!claims || typeof tokens.id_token !== 'string') return fail('validation_failed');
      const accessToken = tokens.access_token;
      return {
        ok: true,
        context,
        client,
        idToken: tokens.id_token,
        claims: { ...claims } as Record<string, unknown> & { sub: string; iss: string },
        ...(config.serverMetadata().userinfo_endpoint ? { userInfo: async () => ({ ...(await oc.fetchUserInfo(config, accessToken, claims.sub)) }) } : {}),
      };
    } catch (e) {
      return fail(classify(oc, e));
    }
  }

  return {
    start,
    finish,
    failureOf: async (e) => classify(await loadOpenIdClient(), e),
    async endSessionUrl(client, p) {
      const oc = await loadOpenIdClient();
      let config: OC.Configuration;
      try {
        config = await getConfig(oc, client);
      } catch {
        return undefined;
      }
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      const params: Record<string, string> = { client_id: client.clientId, post_logout_redirect_uri: p.postLogoutRedirectUri };
      if (p.idTokenHint) params.id_token_hint = p.idTokenHint;
      return oc.buildEndSessionUrl(config, params).href;
    },
    async discover(client) {
      const oc = await loadOpenIdClient();
      const config = await getConfig(oc, client);
      const m = config.serverMetadata();
      const algs = Array.isArray(m.id_token_signing_alg_values_supported) ? m.id_token_signing_alg_values_supported.filter((a): a is string => typeof a === 'string' && a !== 'none') : [];
      return {
        issuer: m.issuer,
        ...(typeof m.end_session_endpoint === 'string' ? { endSessionEndpoint: m.end_session_endpoint } : {}),
        ...(typeof m.jwks_uri === 'string' ? { jwksUri: m.jwks_uri } : {}),
        signingAlgs: algs.length ? algs : ['RS256'],
      };
    },
    pendingCount: () => pending.countOpen(now()),
    forget: (clientId) => void configs.delete(clientId),
  };
}
