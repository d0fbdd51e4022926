import { UserError } from '../errors';
import { createRelyingParty, type FlowFailure, type RelyingPartyOptions } from '../oidc/relying-party';
import { DEFAULT_CLAIM_LIMITS, mapClaims, type Attribute, type ClaimLimits } from './claims';
import { acrSatisfies, type AuthMethod } from './method';

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
}

export interface FinishInput {
  /** The callback as the browser requested it: a full URL or path + query (e.g. Express's req.originalUrl). Only its query is used. */
  currentUrl: string | URL;
  callSessionId: string;
}

export type FinishResult =
  | { ok: true; appointmentId: string; requestId: string; purpose: string; methodId: string; acr?: string; attributes: Attribute[] }
  | { ok: false; reason: FinishFailure; appointmentId?: string; requestId?: string; purpose?: string; methodId?: string };

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
}

export function createOidcFlows(opts: OidcFlowsOptions): OidcFlows {
  const rp = createRelyingParty<Refs, AuthMethod>(opts);
  const claimLimits = opts.claimLimits ?? DEFAULT_CLAIM_LIMITS;
  const refsOf = (c: Refs | undefined) => (c ? { appointmentId: c.appointmentId, requestId: c.requestId, purpose: c.purpose, methodId: c.methodId } : {});

  async function start(input: StartInput): Promise<{ authorizationUrl: string }> {
    const { method } = input;
    for (const [name, v] of [['appointmentId', input.appointmentId], ['callSessionId', input.callSessionId], ['requestId', input.requestId]] as const) {
      if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new UserError(400, 'invalid_auth_request', `${name} is required`);
    }
    if (typeof input.purpose !== 'string' || input.purpose.length > 200) throw new UserError(400, 'invalid_auth_request', 'purpose must be text of at most 200 characters');
    return rp.start({
      client: method,
      scopes: method.scopes,
      extraAuthParams: method.extraAuthParams,
      binding: input.callSessionId,
      context: { appointmentId: input.appointmentId, requestId: input.requestId, purpose: input.purpose, methodId: method.id },
      unreachableMessage: `The identification service "${method.displayName}" cannot be reached right now`,
    });
  }

  async function finish(input: FinishInput): Promise<FinishResult> {
    const r = await rp.finish({ currentUrl: input.currentUrl, binding: input.callSessionId });
    if (!r.ok) return { ok: false, reason: r.reason, ...refsOf(r.context) };
    const refs = refsOf(r.context) as Refs;
    const fail = (reason: FinishFailure): FinishResult => ({ ok: false, reason, ...refs });
    const acr = typeof r.claims.acr === 'string' ? r.claims.acr : undefined;
    if (!acrSatisfies(r.client.acr, acr)) return fail('acr_too_low');
    let userinfo: Record<string, unknown>;
    try {
      if (!r.userInfo) return fail('provider_error');
      userinfo = await r.userInfo();
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
