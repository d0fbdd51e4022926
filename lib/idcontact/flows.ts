import { DEFAULT_CLAIM_LIMITS, mapClaims, type ClaimLimits } from '../auth/claims';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import type { IdContactCore } from './config';
import { startAuthentication, type CoreClientOptions } from './core-client';
import { verifyAuthResult, type TokenFailure } from './token';

/**
 * Authentication during communication through an ID Contact core (id-contact/docs webdocs/docs/sessions/
 * auth_during_comm.md), ID Video's side of it. An attempt starts when the resident picks one of the core's methods:
 * ID Video makes two fresh 256-bit tokens and keeps only their hashes, bound to the request, the appointment and the
 * resident's call session:
 *
 * - the attr_url `<base>/auth/idcontact/attributes/<token>`, where the auth plugin POSTs the result (application/jwt);
 * - the comm_url `<base>/auth/idcontact/return/<token>`, where the resident's browser comes back into the call — with
 *   the result in the query (`?status=succes&attributes=<jwe>` from the core, `?result=<jwe>` from a plugin) when no
 *   attr_url was used.
 *
 * The result is accepted once, by whichever way comes first; the other way then answers 'replayed'. Attempts live in
 * memory for ten minutes, like an OIDC state. Nothing here stores a value: results go to the identification service.
 */

/** Reason codes of this path, in the processing log and on idv-receive-attributes' second output. */
export type IdContactFailure = Exclude<TokenFailure, 'too_large' | 'validation_failed'> | 'unknown_attr_url' | 'wrong_content_type';

export interface IdContactAttempt {
  attemptId: string;
  core: IdContactCore;
  tag: string;
  methodId: string;
  appointmentId: string;
  /** The agent's request; absent for a session the core started (start_communication), which has none. */
  requestId?: string;
  purpose: string;
  /** The resident's call session that started it; '' for a session the core started (no call session yet). */
  sessionHash: string;
  createdAt: number;
  used: boolean;
  /** The outcome once the result was handled, for the resident's return to the call. */
  outcome?: Promise<string>;
}

/** What came of a result, in the identification service's terms (values only on success, only in `attributes`). */
export type IdContactResult =
  | { ok: true; attempt: IdContactAttempt; attributes: { key: string; labelNl: string; labelEn: string; value: string }[]; extraDropped: boolean }
  | { ok: false; attempt?: IdContactAttempt; reason: IdContactFailure | 'replayed' | 'expired' | 'wrong_session' | 'too_large' | 'validation_failed' | 'bsn_invalid' };

export interface IdContactFlowsOptions {
  /** Our public base URL (no trailing slash), read per start so a changed idv-settings applies at once. */
  publicBase: () => string;
  now?: () => number;
  pendingTtlMs?: number;
  maxPending?: number;
  client?: CoreClientOptions;
  claimLimits?: ClaimLimits;
}

export const ATTR_PATH = '/auth/idcontact/attributes/';
export const RETURN_PATH = '/auth/idcontact/return/';

export class IdContactFlows {
  private readonly byAttr = new Map<string, IdContactAttempt>();
  private readonly byReturn = new Map<string, IdContactAttempt>();
  /** Hashes of auth_results taken directly (start_communication), until they could no longer pass the age check. */
  private readonly seenDirect = new Map<string, number>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(private readonly o: IdContactFlowsOptions) {
    this.now = o.now ?? Date.now;
    this.ttlMs = o.pendingTtlMs ?? 10 * 60_000;
    this.max = o.maxPending ?? 5000;
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, a] of this.byAttr) if (t - a.createdAt > this.ttlMs) this.byAttr.delete(k);
    for (const [k, a] of this.byReturn) if (t - a.createdAt > this.ttlMs) this.byReturn.delete(k);
  }

  pendingCount(): number {
    this.sweep();
    return [...this.byAttr.values()].filter((a) => !a.used).length;
  }

  /**
   * Asks the core to start authentication with `tag` and returns where to send the resident. Throws the core
   * client's CoreUnavailableError when the core is down or answers garbage (then nothing is kept).
   */
  async start(input: { core: IdContactCore; tag: string; methodId: string; appointmentId: string; requestId: string; purpose: string; callSessionId: string }): Promise<string> {
    this.sweep();
    if (this.byAttr.size >= this.max) throw new Error('too many ID Contact attempts in progress');
    const attrToken = newToken();
    const returnToken = newToken();
    const attempt: IdContactAttempt = {
      attemptId: newToken(),
      core: input.core,
      tag: input.tag,
      methodId: input.methodId,
      appointmentId: input.appointmentId,
      requestId: input.requestId,
      purpose: input.purpose,
      sessionHash: hashToken(input.callSessionId),
      createdAt: this.now(),
      used: false,
    };
    const base = this.o.publicBase();
    const clientUrl = await startAuthentication(
      input.core,
      { authMethod: input.tag, commUrl: `${base}${RETURN_PATH}${returnToken}`, attrUrl: `${base}${ATTR_PATH}${attrToken}` },
      this.o.client,
    );
    // Kept only once the core accepted: a failed start leaves nothing that could be used later.
    this.byAttr.set(hashToken(attrToken), attempt);
    this.byReturn.set(hashToken(returnToken), attempt);
    return clientUrl;
  }

  /**
   * An attr_url for a session the core started without a result (start_communication without auth_result: the core
   * then runs the authentication and has the plugin post here). Bound to the new appointment; returns the URL.
   */
  sessionAttrUrl(input: { core: IdContactCore; appointmentId: string; methodId: string; purpose: string }): string {
    this.sweep();
    if (this.byAttr.size >= this.max) throw new Error('too many ID Contact attempts in progress');
    const attrToken = newToken();
    this.byAttr.set(hashToken(attrToken), {
      attemptId: newToken(),
      core: input.core,
      tag: '',
      methodId: input.methodId,
      appointmentId: input.appointmentId,
      purpose: input.purpose,
      sessionHash: '',
      createdAt: this.now(),
      used: false,
    });
    return `${this.o.publicBase()}${ATTR_PATH}${attrToken}`;
  }

  /**
   * Checks an auth_result the core hands over directly (start_communication): the same checks as accept(), and each
   * result is taken once — the same token again while it could still be valid is 'replayed'.
   */
  async acceptDirect(core: IdContactCore, token: unknown): Promise<Exclude<IdContactResult, { ok: true }> | { ok: true; attributes: { key: string; labelNl: string; labelEn: string; value: string }[]; extraDropped: boolean }> {
    const t = this.now();
    for (const [k, until] of this.seenDirect) if (t > until) this.seenDirect.delete(k);
    const key = typeof token === 'string' ? hashToken(token.trim()) : '';
    if (key && this.seenDirect.has(key)) return { ok: false, reason: 'replayed' };
    const verified = await verifyAuthResult(token, core.keys, { clockToleranceSec: core.clockToleranceSec, now: this.now });
    if (!verified.ok) return { ok: false, reason: verified.reason };
    // Remembered as long as the token could pass the age check (10 minutes) plus the clock tolerance.
    if (this.seenDirect.size < this.max) this.seenDirect.set(key, t + 600_000 + core.clockToleranceSec * 1000);
    return this.mapped(core, verified.attributes);
  }

  private mapped(core: IdContactCore, raw: Record<string, string>): { ok: true; attributes: { key: string; labelNl: string; labelEn: string; value: string }[]; extraDropped: boolean } | { ok: false; reason: 'bsn_invalid' | 'too_large' | 'validation_failed' } {
    const mapped = mapClaims(raw, core.attributes, this.o.claimLimits ?? DEFAULT_CLAIM_LIMITS);
    const listed = new Set(core.attributes.map((a) => a.claim));
    const extraDropped = Object.keys(raw).some((tag) => !listed.has(tag));
    for (const k of Object.keys(raw)) raw[k] = '';
    if (!mapped.ok) return { ok: false, reason: mapped.reason };
    return { ok: true, attributes: mapped.attributes, extraDropped };
  }

  /** The attempt of a comm_url token (used or not), while it may live. */
  attemptForReturn(token: unknown): IdContactAttempt | undefined {
    if (!looksLikeToken(token)) return undefined;
    this.sweep();
    return this.byReturn.get(hashToken(token));
  }

  /** The attempt of an attr_url token (used or not), while it may live. */
  attemptForAttr(token: unknown): IdContactAttempt | undefined {
    if (!looksLikeToken(token)) return undefined;
    this.sweep();
    return this.byAttr.get(hashToken(token));
  }

  /** True when the resident's call session is the one that started the attempt. */
  sameSession(attempt: IdContactAttempt, callSessionId: string | undefined): boolean {
    return typeof callSessionId === 'string' && safeEqual(hashToken(callSessionId), attempt.sessionHash);
  }

  /**
   * Uses the attempt up (whatever comes of it) and checks the result: `problem` is what the HTTP layer already found
   * (wrong content type, too large) before reading the token. Decrypts and verifies, then keeps only the attributes
   * the core's configuration maps — a BSN must pass the elfproef, the result as a whole is refused otherwise.
   */
  async accept(attempt: IdContactAttempt | undefined, token: unknown, problem?: 'wrong_content_type' | 'too_large'): Promise<IdContactResult> {
    if (!attempt) return { ok: false, reason: 'unknown_attr_url' };
    if (attempt.used) return { ok: false, attempt, reason: 'replayed' };
    attempt.used = true;
    if (this.now() - attempt.createdAt > this.ttlMs) return { ok: false, attempt, reason: 'expired' };
    if (problem) return { ok: false, attempt, reason: problem };
    const core = attempt.core;
    const verified = await verifyAuthResult(token, core.keys, { clockToleranceSec: core.clockToleranceSec, now: this.now });
    if (!verified.ok) return { ok: false, attempt, reason: verified.reason };
    return { ...this.mapped(core, verified.attributes), attempt };
  }

  close(): void {
    this.byAttr.clear();
    this.byReturn.clear();
    this.seenDirect.clear();
  }
}
