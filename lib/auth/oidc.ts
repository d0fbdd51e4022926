import { UserError } from '../errors';
import { createRelyingParty, type FlowFailure, type RelyingPartyOptions } from '../oidc/relying-party';
import { DEFAULT_CLAIM_LIMITS, mapClaims, type Attribute, type ClaimLimits } from './claims';
import { acrSatisfies, type AuthMethod } from './method';
import { hashToken, looksLikeToken } from '../security/tokens';
import { withSpan, type SpanContext } from '../trace/context';

/**
 * The in-call identification of a resident over OpenID Connect: the shared relying party (lib/oidc/relying-party.ts:
 * PKCE S256, state, nonce, single use, ten minutes) bound to the resident's call session, plus what identification
 * adds: the method's minimum level of assurance (acr), the claims from the ID token and userinfo, and the method's
 * claim allow-list and mapping. finish() never throws for anything a provider or a browser can send: it answers with
 * a reason code.
 */

export type FinishFailure = FlowFailure | 'acr_too_low' | 'bsn_invalid';

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

export interface OidcFlowsOptions extends RelyingPartyOptions {
  claimLimits?: ClaimLimits;
}

export interface OidcFlows {
  start(input: StartInput): Promise<{ authorizationUrl: string }>;
  finish(input: FinishInput): Promise<FinishResult>;
  /** Number of requests waiting for their callback (monitoring). */
  pendingCount(): Promise<number>;
  /** Forgets cached discovery, e.g. after a method's configuration changed. */
  forgetMethod(methodId: string): void;
}

/** What waits with a started request (JSON, references only). */
interface Refs {
  appointmentId: string;
  requestId: string;
  purpose: string;
  methodId: string;
  /** The verification's trace and span (Logboek Dataverwerkingen), ids only. */
  traceId?: string;
  spanId?: string;
}

/** The state parameter of an authorization URL or a callback, when it has the shape of one of ours. */
function stateIn(url: string | URL): string | undefined {
  try {
    const states = new URL(String(url), 'http://callback.invalid').searchParams.getAll('state');
    return states.length === 1 && looksLikeToken(states[0]) ? states[0] : undefined;
  } catch {
    return undefined;
  }
}

export function createOidcFlows(opts: OidcFlowsOptions): OidcFlows {
  const rp = createRelyingParty<Refs, AuthMethod>(opts);
  const claimLimits = opts.claimLimits ?? DEFAULT_CLAIM_LIMITS;
  const refsOf = (c: Refs | undefined) =>
    c
      ? { appointmentId: c.appointmentId, requestId: c.requestId, purpose: c.purpose, methodId: c.methodId, ...(c.traceId && c.spanId ? { span: { traceId: c.traceId, spanId: c.spanId } } : {}) }
      : {};
  /**
   * The verification's span by the hash of its state, so the token request (made inside the relying party before the
   * pending request's context is handed back) carries its traceparent. Memory only, as long as a state lives; a
   * callback that reaches another instance still gets the span for userinfo from the stored context.
   */
  const spans = new Map<string, { span: SpanContext; until: number }>();
  const SPAN_MEMORY_MS = 10 * 60_000;

  async function start(input: StartInput): Promise<{ authorizationUrl: string }> {
    const { method } = input;
    for (const [name, v] of [['appointmentId', input.appointmentId], ['callSessionId', input.callSessionId], ['requestId', input.requestId]] as const) {
      if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new UserError(400, 'invalid_auth_request', `${name} is required`);
    }
    if (typeof input.purpose !== 'string' || input.purpose.length > 200) throw new UserError(400, 'invalid_auth_request', 'purpose must be text of at most 200 characters');
    const fin = input.finishSpan;
    const started = await withSpan(input.span, () =>
      rp.start({
        client: method,
        scopes: method.scopes,
        extraAuthParams: method.extraAuthParams,
        binding: input.callSessionId,
        context: { appointmentId: input.appointmentId, requestId: input.requestId, purpose: input.purpose, methodId: method.id, ...(fin ? { traceId: fin.traceId, spanId: fin.spanId } : {}) },
        unreachableMessage: `The identification service "${method.displayName}" cannot be reached right now`,
      }),
    );
    const state = stateIn(started.authorizationUrl);
    if (fin && state) {
      const t = Date.now();
      for (const [k, v] of spans) if (v.until < t) spans.delete(k);
      if (spans.size < 10_000) spans.set(hashToken(state), { span: fin, until: t + SPAN_MEMORY_MS });
    }
    return started;
  }

  async function finish(input: FinishInput): Promise<FinishResult> {
    const state = stateIn(input.currentUrl);
    const key = state ? hashToken(state) : undefined;
    const known = key ? spans.get(key)?.span : undefined;
    if (key) spans.delete(key);
    const r = await withSpan(known, () => rp.finish({ currentUrl: input.currentUrl, binding: input.callSessionId }));
    if (!r.ok) return { ok: false, reason: r.reason, ...refsOf(r.context) };
    const refs = refsOf(r.context) as Refs;
    const fail = (reason: FinishFailure): FinishResult => ({ ok: false, reason, ...refs });
    const acr = typeof r.claims.acr === 'string' ? r.claims.acr : undefined;
    if (!acrSatisfies(r.client.acr, acr)) return fail('acr_too_low');
    let userinfo: Record<string, unknown>;
    try {
      if (!r.userInfo) return fail('provider_error');
      const userInfo = r.userInfo;
      userinfo = await withSpan((refs as { span?: SpanContext }).span ?? known, () => userInfo());
    } catch (e) {
      return fail(await rp.failureOf(e));
    }
    const mapped = mapClaims({ ...r.claims, ...userinfo }, r.client.claims, claimLimits);
    if (!mapped.ok) return fail(mapped.reason);
    return { ok: true, ...refs, ...(acr !== undefined ? { acr } : {}), attributes: mapped.attributes };
  }

  return {
    start,
    finish,
    pendingCount: () => rp.pendingCount(),
    forgetMethod: (methodId) => rp.forget(methodId),
  };
}
