import { DEFAULT_CLAIM_LIMITS, mapClaims, type ClaimLimits } from '../auth/claims';
import type { PendingAttempt, PendingIdentificationStore } from '../identification/pending-store';
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
 * the store for ten minutes, like an OIDC state (lib/identification/pending-store.ts: by the attr_url's hash and by
 * the comm_url's hash, references only), so the plugin's POST and the resident's return may land on any instance;
 * "used" is one atomic mark in the store, and the outcome (a reason code) is stored for the resident's return. The
 * core is found by its method prefix among the cores this instance's nodes know. Nothing here stores a value: results
 * go to the identification service.
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
  /** SHA-256 of the attr_url token: the attempt's key in the store. */
  attrKey: string;
  /** SHA-256 of the comm_url token; '' for a session the core started (no return). */
  returnKey: string;
}

/** What came of a result, in the identification service's terms (values only on success, only in `attributes`). */
export type IdContactResult =
  | { ok: true; attempt: IdContactAttempt; attributes: { key: string; labelNl: string; labelEn: string; value: string }[]; extraDropped: boolean }
  | { ok: false; attempt?: IdContactAttempt; reason: IdContactFailure | 'replayed' | 'expired' | 'wrong_session' | 'too_large' | 'validation_failed' | 'bsn_invalid' };

export interface IdContactFlowsOptions {
  /** Where attempts, used marks and outcomes are kept (services.store.pendingIdentifications). */
  pending: PendingIdentificationStore;
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

/** What an attempt's rows hold (references only, never a value or a key). */
interface AttemptPayload {
  attemptId: string;
  core: string;
  tag: string;
  methodId: string;
  appointmentId: string;
  requestId?: string;
  purpose: string;
  attrKey: string;
  returnKey: string;
}

export class IdContactFlows {
  /** The cores this instance's nodes use, by method prefix: an attempt names its core so. */
  private readonly cores = new Map<string, IdContactCore>();
  /** Outcomes being worked out on this instance (a resident returning here waits for the very result). */
  private readonly working = new Map<string, Promise<string>>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(private readonly o: IdContactFlowsOptions) {
    this.now = o.now ?? Date.now;
    this.ttlMs = o.pendingTtlMs ?? 10 * 60_000;
    this.max = o.maxPending ?? 5000;
  }

  /** A node that uses `core` tells it here (at deploy), so attempts of it can be finished on this instance. */
  knowCore(core: IdContactCore): void {
    this.cores.set(core.methodPrefix, core);
  }

  /** Attempts not yet expired, on every instance. */
  pendingCount(): Promise<number> {
    return this.o.pending.countOpen(this.now(), ['idcontact-attr']);
  }

  private async room(): Promise<void> {
    if ((await this.pendingCount()) >= this.max) throw new Error('too many ID Contact attempts in progress');
  }

  private async keep(attempt: IdContactAttempt): Promise<void> {
    const payload: AttemptPayload = {
      attemptId: attempt.attemptId,
      core: attempt.core.methodPrefix,
      tag: attempt.tag,
      methodId: attempt.methodId,
      appointmentId: attempt.appointmentId,
      ...(attempt.requestId !== undefined ? { requestId: attempt.requestId } : {}),
      purpose: attempt.purpose,
      attrKey: attempt.attrKey,
      returnKey: attempt.returnKey,
    };
    const row = { sessionHash: attempt.sessionHash || '0'.repeat(64), payload: { ...payload }, createdAt: attempt.createdAt, expiresAt: attempt.createdAt + this.ttlMs };
    await this.o.pending.put({ kind: 'idcontact-attr', keyHash: attempt.attrKey, ...row });
    if (attempt.returnKey) await this.o.pending.put({ kind: 'idcontact-return', keyHash: attempt.returnKey, ...row });
  }

  private attemptOf(row: PendingAttempt | undefined): IdContactAttempt | undefined {
    if (!row) return undefined;
    const p = row.payload as unknown as AttemptPayload;
    const core = this.cores.get(p.core);
    // A core no node of this instance uses (flows differ between instances): the attempt cannot be finished here.
    if (!core) return undefined;
    return {
      attemptId: p.attemptId,
      core,
      tag: p.tag,
      methodId: p.methodId,
      appointmentId: p.appointmentId,
      ...(p.requestId !== undefined ? { requestId: p.requestId } : {}),
      purpose: p.purpose,
      sessionHash: p.returnKey ? row.sessionHash : '',
      createdAt: row.createdAt,
      attrKey: p.attrKey,
      returnKey: p.returnKey,
    };
  }

  /**
   * Asks the core to start authentication with `tag` and returns where to send the resident. Throws the core
   * client's CoreUnavailableError when the core is down or answers garbage (then nothing is kept).
   */
  async start(input: { core: IdContactCore; tag: string; methodId: string; appointmentId: string; requestId: string; purpose: string; callSessionId: string }): Promise<string> {
    await this.room();
    this.knowCore(input.core);
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
      attrKey: hashToken(attrToken),
      returnKey: hashToken(returnToken),
    };
    const base = this.o.publicBase();
    const clientUrl = await startAuthentication(
      input.core,
      { authMethod: input.tag, commUrl: `${base}${RETURN_PATH}${returnToken}`, attrUrl: `${base}${ATTR_PATH}${attrToken}` },
      this.o.client,
    );
    // Kept only once the core accepted: a failed start leaves nothing that could be used later.
    await this.keep(attempt);
    return clientUrl;
  }

  /**
   * An attr_url for a session the core started without a result (start_communication without auth_result: the core
   * then runs the authentication and has the plugin post here). Bound to the new appointment; returns the URL.
   */
  async sessionAttrUrl(input: { core: IdContactCore; appointmentId: string; methodId: string; purpose: string }): Promise<string> {
    await this.room();
    this.knowCore(input.core);
    const attrToken = newToken();
    await this.keep({
      attemptId: newToken(),
      core: input.core,
      tag: '',
      methodId: input.methodId,
      appointmentId: input.appointmentId,
      purpose: input.purpose,
      sessionHash: '',
      createdAt: this.now(),
      attrKey: hashToken(attrToken),
      returnKey: '',
    });
    return `${this.o.publicBase()}${ATTR_PATH}${attrToken}`;
  }

  /**
   * Checks an auth_result the core hands over directly (start_communication): the same checks as accept(), and each
   * result is taken once — the same token again while it could still be valid is 'replayed'.
   */
  async acceptDirect(core: IdContactCore, token: unknown): Promise<Exclude<IdContactResult, { ok: true }> | { ok: true; attributes: { key: string; labelNl: string; labelEn: string; value: string }[]; extraDropped: boolean }> {
    const t = this.now();
    const verified = await verifyAuthResult(token, core.keys, { clockToleranceSec: core.clockToleranceSec, now: this.now });
    if (!verified.ok) return { ok: false, reason: verified.reason };
    // Marked (on every instance) as long as the token could pass the age check (10 minutes) plus the clock tolerance;
    // only a token that passed the checks is marked, so the mark cannot be spent by garbage.
    const key = hashToken((token as string).trim());
    if (!(await this.o.pending.once('idcontact-direct', key, t + 600_000 + core.clockToleranceSec * 1000, t))) {
      for (const k of Object.keys(verified.attributes)) verified.attributes[k] = '';
      return { ok: false, reason: 'replayed' };
    }
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
  async attemptForReturn(token: unknown): Promise<IdContactAttempt | undefined> {
    if (!looksLikeToken(token)) return undefined;
    return this.attemptOf(await this.o.pending.peek('idcontact-return', hashToken(token), this.now()));
  }

  /** The attempt of an attr_url token (used or not), while it may live. */
  async attemptForAttr(token: unknown): Promise<IdContactAttempt | undefined> {
    if (!looksLikeToken(token)) return undefined;
    return this.attemptOf(await this.o.pending.peek('idcontact-attr', hashToken(token), this.now()));
  }

  /** Uses the attempt up: true for the first caller on any instance, false when it was used before. */
  use(attempt: IdContactAttempt): Promise<boolean> {
    return this.o.pending.once('idcontact-used', attempt.attrKey, attempt.createdAt + this.ttlMs, this.now());
  }

  /**
   * Remembers how the attempt ended (a reason code) for the resident's return, on this instance at once and in the
   * store for the others. `outcome` settles when the result has been handled.
   */
  settle<T extends string>(attempt: IdContactAttempt, outcome: Promise<T>): Promise<T> {
    const stored = outcome.then(async (code) => {
      if (attempt.returnKey) {
        // A failed write only costs the resident on another instance the wait ('waiting'); the agent is told anyway.
        await this.o.pending
          .put({ kind: 'idcontact-outcome', keyHash: attempt.returnKey, sessionHash: attempt.sessionHash || '0'.repeat(64), payload: { outcome: code }, createdAt: this.now(), expiresAt: attempt.createdAt + this.ttlMs })
          .catch(() => undefined);
      }
      return code;
    });
    this.working.set(attempt.attrKey, stored);
    stored.finally(() => this.working.delete(attempt.attrKey)).catch(() => undefined);
    return stored;
  }

  /** How the attempt ended, if it has: waits for a result being handled on this instance, else asks the store. */
  async outcomeOf(attempt: IdContactAttempt): Promise<string | undefined> {
    const here = this.working.get(attempt.attrKey);
    if (here) return here;
    if (!attempt.returnKey) return undefined;
    const row = await this.o.pending.peek('idcontact-outcome', attempt.returnKey, this.now());
    return typeof row?.payload.outcome === 'string' ? row.payload.outcome : undefined;
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
    if (!(await this.use(attempt))) return { ok: false, attempt, reason: 'replayed' };
    if (this.now() - attempt.createdAt > this.ttlMs) return { ok: false, attempt, reason: 'expired' };
    if (problem) return { ok: false, attempt, reason: problem };
    const core = attempt.core;
    const verified = await verifyAuthResult(token, core.keys, { clockToleranceSec: core.clockToleranceSec, now: this.now });
    if (!verified.ok) return { ok: false, attempt, reason: verified.reason };
    return { ...this.mapped(core, verified.attributes), attempt };
  }

  close(): void {
    this.cores.clear();
    this.working.clear();
  }
}
