import { EventEmitter } from 'node:events';
import type { AppointmentStore } from '../appointments/store';
import { AttributeCache, type AttributeSet } from '../attributes/cache';
import { roomHoldsOf } from '../call/room-holds';
import type { ProcessingLog, ProcessingLogEntry } from '../attributes/processing-log';
import { createOidcFlows, type OidcFlows, type OidcFlowsOptions } from '../auth/oidc';
import type { Attribute } from '../auth/claims';
import type { AuthMethod } from '../auth/method';
import type { IdContactCore } from '../idcontact/config';
import { CoreUnavailableError, fetchSessionOptions } from '../idcontact/core-client';
import { IdContactFlows, type IdContactAttempt, type IdContactResult } from '../idcontact/flows';
import { CoreLogos } from '../idcontact/logos';
import { appointmentStoreOf } from '../call/deps';
import { UserError } from '../errors';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import type { CallSession } from '../links';
import type { Services } from '../services';
import { callServiceChannels, type IdentificationChannels } from './channels';
import { pendingFlowsOf } from './pending-store';
import { RequestRegistry, type AuthRequest } from './requests';
import { agentNoticeFor, agentText, type AgentNotice } from './texts';
import type { AgentNoticeMessage, AskedEvent, FailedEvent, FailureReason, NewRequest, OfferedMethod, PopupView, VerificationResult, VerifiedEvent } from './types';
import { publicBase } from '../access/public-base';
import { metricsOf } from '../runtime/metrics';
import { dataSubjectId } from '../trace/data-subject';
import { newSpanId, newTraceId, parseTraceparent, spanFor, traceparent } from '../trace/context';

export interface IdentificationServiceOptions {
  services: Services;
  channels?: IdentificationChannels;
  /** Clock for the request and state lifetimes (tests age a request with it). */
  now?: () => number;
  /** Overrides of the OIDC flow limits (timeouts, sizes) — tests make providers "slow" within seconds. */
  flows?: Partial<Omit<OidcFlowsOptions, 'redirectUri' | 'now'>>;
  /** node-cache sweep period in seconds (expiry does not depend on it: each set has its own timer). */
  checkPeriodSec?: number;
}

const PURPOSE_RE = /^[^\u0000-\u001f\u007f<>]{1,200}$/;
const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
const APPOINTMENT_RE = /^[A-Za-z0-9_-]{1,100}$/;
const NOTICES_KEPT = 20;
/** How long a handled callback is remembered: as long as its state could have been used (lib/auth/oidc.ts). */
const RETURN_MEMORY_MS = 10 * 60_000;
const MAX_RETURNS = 5000;

/** The callback's state parameter when it has the shape of one of ours, else undefined. */
function stateOf(currentUrl: string): string | undefined {
  try {
    const states = new URL(currentUrl, 'http://callback.invalid').searchParams.getAll('state');
    return states.length === 1 && looksLikeToken(states[0]) ? states[0] : undefined;
  } catch {
    return undefined;
  }
}

export const BUILTIN_LOGO_PATH = '/auth/logos/';

function logoUrl(m: AuthMethod): string {
  return /^https?:/.test(m.logo) ? m.logo : `${BUILTIN_LOGO_PATH}${m.logo}.svg`;
}

/** An idv-auth-method as a pop-up method. */
export function oidcOffer(m: AuthMethod): OfferedMethod {
  return { kind: 'oidc', id: m.id, displayName: m.displayName, logoUrl: logoUrl(m), claims: m.claims, oidc: m };
}

/** The built-in tile for a well-known ID Contact tag, when the core's own image cannot be had. */
function builtinLogoForTag(tag: string): string {
  const name = tag.includes('digid') ? 'digid' : tag.includes('irma') || tag.includes('yivi') ? 'yivi' : tag.includes('eherkenning') ? 'eherkenning' : 'generic';
  return `${BUILTIN_LOGO_PATH}${name}.svg`;
}

/** How long the resident's return from an ID Contact method waits for the plugin's POST to the attr_url. */
const RETURN_WAIT_MS = 3000;
/** What the processing log names as appointment when a result arrives for an attr_url nobody issued. */
export const UNKNOWN_APPOINTMENT = 'unknown';

/**
 * The identification during a call, process-wide: open requests, the OIDC flows, the attribute cache (the only place
 * values live), the processing log and what the agent and resident are told. Nodes and routes are thin around it.
 */
export const DEFAULT_PURPOSES = ['Vaststellen identiteit voor uw aanvraag', 'Controle van uw gegevens bij uw melding'];

export class IdentificationService extends EventEmitter<{ verified: [VerifiedEvent]; failed: [FailedEvent]; asked: [AskedEvent] }> {
  readonly cache: AttributeCache;
  readonly log: ProcessingLog;
  readonly requests: RequestRegistry;
  private readonly services: Services;
  /** Ends this service's part in the room holds (lib/call/room-holds.ts) at close. */
  private readonly releaseHold: () => void;
  private readonly channels: IdentificationChannels;
  private readonly appointments: AppointmentStore;
  private readonly now: () => number;
  private readonly flowOptions: IdentificationServiceOptions['flows'];
  private flows: OidcFlows | undefined;
  private idcFlows: IdContactFlows | undefined;
  /** Images of the auth methods ID Contact cores offer, served from our origin (lib/idcontact/logos). */
  readonly coreLogos = new CoreLogos();
  private publicBaseUrl: string;
  private redirectUri: string;
  private ttlSec = 15 * 60;
  /** Sets whose values the agent fetched: 'shown' is logged once per set. */
  private readonly shown = new Set<string>();
  /** Method of each live set, for what the agent is told on expiry. */
  /** Per live attribute set: references for the records that follow it, incl. the pseudonymised data subject (no value). */
  private readonly setMeta = new Map<string, { appointmentId: string; methodId: string; keys: string[]; purpose?: string; traceId?: string; spanId?: string; subject?: string }>();
  /** Processing activity URI per purpose (idv-request-auth), for the Logboek fields of each record. */
  private activities: Record<string, string> = {};
  private readonly notices = new Map<string, AgentNoticeMessage[]>();
  /**
   * Callbacks already handled, by the hash of their state: the call session that brought it and its outcome (a
   * promise, so a double submit waits for the first). Kept as long as a state may live (10 minutes).
   */
  private readonly returns = new Map<string, { sessionHash: string; at: number; outcome: Promise<'ok' | FailureReason> }>();
  private seq = 0;
  private purposes: string[] = [...DEFAULT_PURPOSES];
  private stopCallEnded: (() => void) | undefined;

  constructor(o: IdentificationServiceOptions) {
    super();
    this.services = o.services;
    this.channels = o.channels ?? callServiceChannels(o.services);
    this.appointments = appointmentStoreOf(o.services);
    this.now = o.now ?? Date.now;
    this.flowOptions = o.flows;
    this.publicBaseUrl = o.services.config.publicUrl;
    this.redirectUri = `${o.services.config.publicUrl}/auth/callback`;
    this.cache = new AttributeCache({ defaultTtlSec: this.ttlSec, checkPeriodSec: o.checkPeriodSec });
    this.log = o.services.store.processingLog;
    this.requests = new RequestRegistry({ now: this.now });
    this.cache.on('expired', (e) => void this.expired(e.attributeSetId, e.appointmentId));
    this.releaseHold = roomHoldsOf(o.services).addSource(() => this.cache.appointments());
  }

  /** The callback URL registered with the providers: <public URL>/auth/callback. */
  callbackUrl(): string {
    return this.redirectUri;
  }

  /** Follows the public URL of idv-settings (IDV_PUBLIC_URL wins); a change starts fresh OIDC flows. */
  setPublicUrl(publicUrl: string | undefined): void {
    const base = publicBase(this.services.config, publicUrl);
    const uri = `${base}/auth/callback`;
    this.publicBaseUrl = base;
    if (uri !== this.redirectUri) {
      this.redirectUri = uri;
      this.flows = undefined;
    }
  }

  /** The attribute lifetime from idv-settings (1–60 minutes; default 15). */
  setAttributeTtlMinutes(minutes: number | undefined): void {
    const m = minutes ?? 15;
    if (!Number.isInteger(m) || m < 1 || m > 60) throw new UserError(400, 'invalid_ttl', 'attributeTtlMinutes must be 1 to 60');
    this.ttlSec = m * 60;
  }

  /** The purposes the agent picks from on the panel (set by idv-request-auth). */
  setPurposes(list: readonly string[] | undefined): void {
    const clean = (list ?? []).map((p) => p.trim()).filter((p) => PURPOSE_RE.test(p));
    this.purposes = clean.length ? [...new Set(clean)].slice(0, 20) : [...DEFAULT_PURPOSES];
  }

  /** Per purpose, the URI of its processing activity in the gemeente's register (set by idv-request-auth). */
  setProcessingActivities(map: Record<string, string> | undefined): void {
    this.activities = { ...(map ?? {}) };
  }

  /**
   * The Logboek fields of a record in an identification's trace: the trace, the parent span (the request, or the
   * verification for what happens to the set) and the processing activity of the purpose.
   */
  private traced(t: { traceId?: string; parentSpanId?: string; spanId?: string; purpose?: string }): Partial<ProcessingLogEntry> {
    const activity = t.purpose ? this.activities[t.purpose] : undefined;
    return {
      ...(t.traceId ? { traceId: t.traceId } : {}),
      ...(t.spanId ? { spanId: t.spanId } : {}),
      ...(t.traceId && t.parentSpanId ? { parentSpanId: t.parentSpanId } : {}),
      ...(activity ? { processingActivityId: activity } : {}),
    };
  }

  purposeList(): string[] {
    return [...this.purposes];
  }

  /**
   * The panel's button: only for the agent's own appointment and a listed purpose. Emits 'asked' for idv-request-auth;
   * returns false when no such node listens (nothing would happen).
   */
  async ask(appointmentId: string, username: string, purpose: unknown, traceparentHeader?: unknown): Promise<boolean> {
    const appointment = APPOINTMENT_RE.test(appointmentId) ? await this.appointments.get(appointmentId) : null;
    if (!appointment || appointment.status !== 'booked' || appointment.agent.toLowerCase() !== username.toLowerCase()) {
      throw new UserError(404, 'not_found', 'Deze afspraak bestaat niet of is niet voor u ingepland. / Not found.');
    }
    if (typeof purpose !== 'string' || !this.purposes.includes(purpose)) throw new UserError(400, 'invalid_purpose', 'Kies een doel uit de lijst. / Choose a purpose from the list.');
    if (this.listenerCount('asked') === 0) throw new UserError(503, 'not_configured', 'Identificatie is nog niet ingericht. / Identification is not set up.');
    const caller = parseTraceparent(traceparentHeader);
    this.emit('asked', { appointmentId, agent: username.toLowerCase(), purpose, ...(caller ? { traceparent: traceparent(caller) } : {}) });
    return true;
  }

  /** For tests and the benchmark: seconds instead of minutes. */
  setAttributeTtlSeconds(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new UserError(400, 'invalid_ttl', 'TTL must be 1 to 3600 seconds');
    this.ttlSec = seconds;
  }

  private oidc(): OidcFlows {
    this.flows ??= createOidcFlows({
      ...this.flowOptions,
      redirectUri: this.redirectUri,
      now: this.now,
      // In the store: the callback may land on any instance, which finds the method by id among its own.
      pending: pendingFlowsOf(this.services.store.pendingIdentifications, 'oidc'),
      clientById: (id) => this.methods.get(id),
    });
    return this.flows;
  }

  /** The ID Contact attempts (attr_url and comm_url tokens), built on first use. */
  idContact(): IdContactFlows {
    this.idcFlows ??= new IdContactFlows({ pending: this.services.store.pendingIdentifications, publicBase: () => this.publicBaseUrl, now: this.now, ...(this.flowOptions?.httpTimeoutMs ? { client: { timeoutMs: this.flowOptions.httpTimeoutMs } } : {}) });
    return this.idcFlows;
  }

  /**
   * The auth methods an ID Contact core offers for its purpose, as pop-up methods (ids `<prefix>-<tag>`), with their
   * images fetched from the core's origin. Throws CoreUnavailableError when the core is down or answers garbage.
   */
  private async idContactMethods(core: IdContactCore): Promise<OfferedMethod[]> {
    const offered = await fetchSessionOptions(core, this.flowOptions?.httpTimeoutMs ? { timeoutMs: this.flowOptions.httpTimeoutMs } : {});
    return Promise.all(
      offered.map(async (m): Promise<OfferedMethod> => {
        const own = m.imageUrl ? await this.coreLogos.pathFor(m.imageUrl) : undefined;
        return { kind: 'idcontact', id: `${core.methodPrefix}-${m.tag}`, displayName: m.name, logoUrl: own ?? builtinLogoForTag(m.tag), claims: core.attributes, core, tag: m.tag };
      }),
    );
  }

  private watchCalls(): void {
    this.stopCallEnded ??= this.channels.onCallEnded((appointmentId) => void this.callEnded(appointmentId));
  }

  private async record(entry: ProcessingLogEntry): Promise<void> {
    await this.log.record(entry);
  }

  /** Logging must not take the resident's way back down with it; the failure itself is reported (without values). */
  private async recordQuietly(entry: ProcessingLogEntry): Promise<void> {
    try {
      await this.log.record(entry);
    } catch (e) {
      this.services.log.error(`processing log write failed (${entry.action}): ${(e as Error).message}`);
    }
  }

  /** Tells the appointment's agent, and keeps the notice for a panel that reloads or polls. */
  async notifyAgent(appointmentId: string, state: AgentNotice, extra: Partial<AgentNoticeMessage> = {}, agent?: string): Promise<number> {
    const username = agent ?? (await this.appointments.get(appointmentId).catch(() => null))?.agent;
    const message: AgentNoticeMessage = {
      type: 'identification',
      seq: ++this.seq,
      at: new Date(this.now()).toISOString(),
      appointmentId,
      state,
      text: agentText(state),
      ...extra,
    };
    const list = this.notices.get(appointmentId) ?? [];
    list.push(message);
    while (list.length > NOTICES_KEPT) list.shift();
    this.notices.set(appointmentId, list);
    if (!username) return 0;
    return this.channels.toAgent(username, { ...message });
  }

  /** Notices of an appointment newer than `after` (the panel's last seen seq). */
  noticesFor(appointmentId: string, after = 0): AgentNoticeMessage[] {
    return (this.notices.get(appointmentId) ?? []).filter((n) => n.seq > after);
  }

  /**
   * The agent asks for identification. Refuses (403) an appointment that is not the agent's own — and says so to that
   * agent — and anything malformed (400). Logs 'requested', pushes the pop-up to the resident.
   */
  async request(input: NewRequest): Promise<{ request: AuthRequest; delivered: number }> {
    const agent = typeof input.agent === 'string' ? input.agent.trim().toLowerCase() : '';
    if (!USERNAME_RE.test(agent)) throw new UserError(400, 'invalid_agent', 'msg.agent must be the username of the employee who asks');
    const appointmentId = typeof input.appointmentId === 'string' ? input.appointmentId : '';
    if (!APPOINTMENT_RE.test(appointmentId)) throw new UserError(400, 'invalid_appointment', 'msg.appointment.id is missing or malformed');
    const purpose = typeof input.purpose === 'string' ? input.purpose.trim() : '';
    if (!PURPOSE_RE.test(purpose)) throw new UserError(400, 'invalid_purpose', 'msg.purpose must say why (1 to 200 characters, no < > or control characters)');

    const appointment = await this.appointments.get(appointmentId);
    if (!appointment || appointment.status !== 'booked' || appointment.agent.toLowerCase() !== agent) {
      await this.notifyAgent(appointmentId, 'not_your_appointment', {}, agent).catch(() => 0);
      throw new UserError(403, 'not_your_appointment', `agent ${agent} may not ask for identification in appointment ${appointmentId}`);
    }

    let methods = input.methods.map(oidcOffer);
    if (input.idContact) {
      try {
        const fromCore = await this.idContactMethods(input.idContact);
        methods.push(...fromCore.filter((m) => !methods.some((o) => o.id === m.id)));
      } catch (e) {
        if (!(e instanceof CoreUnavailableError)) throw e;
        // The agent reads why; the log keeps the reason code. Other methods (OIDC) are still offered.
        await this.recordQuietly({ appointmentId, actor: 'system', action: 'failed', purpose, detail: 'core_unavailable' });
        await this.notifyAgent(appointmentId, 'unavailable', { reason: 'core_unavailable' }, agent).catch(() => 0);
        if (methods.length === 0) {
          await this.channels.toResident(appointmentId, 'identificationUnavailable', {}).catch(() => 0);
          throw new UserError(502, 'core_unavailable', 'The ID Contact core cannot be reached or answered something else than its protocol; nothing was asked of the resident');
        }
      }
    }
    if (input.onlyMethodIds !== undefined && input.onlyMethodIds !== null) {
      const ids = input.onlyMethodIds;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) throw new UserError(400, 'invalid_methods', 'msg.methods must be a list of method ids');
      const unknown = ids.filter((id) => !methods.some((m) => m.id === id));
      if (unknown.length) throw new UserError(400, 'invalid_methods', `msg.methods names methods this node does not offer: ${unknown.map((u) => String(u).slice(0, 40)).join(', ')}`);
      methods = methods.filter((m) => ids.includes(m.id));
    }
    if (methods.length === 0) throw new UserError(400, 'no_methods', 'no authentication method to offer');

    const mapped = new Set(methods.flatMap((m) => m.claims.map((c) => c.key)));
    const asked = input.attributeKeys && input.attributeKeys.length ? [...new Set(input.attributeKeys)] : [...mapped];
    const notMapped = asked.filter((k) => !mapped.has(k));
    if (notMapped.length) throw new UserError(400, 'invalid_attributes', `no offered method provides: ${notMapped.join(', ')}`);

    // The caller's trace continued (same trace id, a new span, the caller's span as parent), or a new one.
    const { parentSpanId: callerSpan, ...trace } = spanFor(input.traceparent);
    const request = this.requests.create({ appointmentId, agent, purpose, methodIds: methods.map((m) => m.id), attributeKeys: asked, methods, ...trace });
    this.rememberMethodNames(methods);
    await this.record({ appointmentId, actor: agent, action: 'requested', purpose, attributeKeys: asked, ...this.traced({ ...trace, ...(callerSpan ? { parentSpanId: callerSpan } : {}), purpose }) });
    this.watchCalls();
    const delivered = await this.channels.toResident(appointmentId, 'identificationRequest', this.popupView(request));
    await this.notifyAgent(appointmentId, delivered > 0 ? 'requested' : 'not_delivered', { requestId: request.requestId }, agent);
    return { request, delivered };
  }

  popupView(r: AuthRequest): PopupView {
    const attributes = r.attributeKeys.map((key) => {
      const c = r.methods.flatMap((m) => m.claims).find((x) => x.key === key);
      return { key, labelNl: c?.labelNl ?? key, labelEn: c?.labelEn ?? key };
    });
    return {
      requestId: r.requestId,
      purpose: r.purpose,
      methods: r.methods.map((m) => ({ id: m.id, displayName: m.displayName, logoUrl: m.logoUrl })),
      attributes,
      startPath: '/auth/start',
    };
  }

  /**
   * Whether the agent can see verified data of this resident's call right now (a live set exists). A yes/no for the
   * resident's page, so its text follows deletion, expiry and the end of the call; never which data or its values.
   */
  sharedWithAgent(session: CallSession): boolean {
    return session.role === 'resident' && this.cache.idsForAppointment(session.appointmentId).length > 0;
  }

  /** The open pop-up of the resident's call, if any (after a reload, a reconnect, or when the push did not arrive). */
  pendingFor(session: CallSession): PopupView | undefined {
    if (session.role !== 'resident') return undefined;
    const r = this.requests.forAppointment(session.appointmentId);
    return r ? this.popupView(r) : undefined;
  }

  /**
   * The resident chose a method: returns the provider's authorization URL for a 303. The request must be open and
   * belong to this call session's appointment; state and nonce are bound to the session cookie.
   */
  async start(requestId: unknown, methodId: unknown, session: CallSession | undefined, sessionCookie: string | undefined): Promise<string> {
    if (!session || !sessionCookie || session.role !== 'resident') throw new UserError(401, 'call_session_required', 'Open het gesprek via de link in uw e-mail.');
    const r = this.requests.get(requestId);
    if (!r || r.appointmentId !== session.appointmentId) throw new UserError(404, 'request_unknown', 'Deze inlogvraag bestaat niet (meer). Ga terug naar het gesprek.');
    const method = r.methods.find((m) => m.id === methodId);
    if (!method) throw new UserError(400, 'method_unknown', 'Kies een van de aangeboden manieren om in te loggen.');
    let url: string;
    // The choice is a processing of its own in the request's trace; the verification's span is fixed now, so the
    // provider's token and userinfo calls carry it before we know the outcome.
    const chosen = { traceId: r.traceId, spanId: newSpanId(), parentSpanId: r.spanId, purpose: r.purpose };
    const span = r.traceId ? { traceId: r.traceId, spanId: chosen.spanId } : undefined;
    const finishSpan = r.traceId ? { traceId: r.traceId, spanId: newSpanId() } : undefined;
    try {
      if (method.kind === 'oidc') {
        ({ authorizationUrl: url } = await this.oidc().start({ method: method.oidc, appointmentId: r.appointmentId, callSessionId: sessionCookie, purpose: r.purpose, requestId: r.requestId, ...(span ? { span } : {}), ...(finishSpan ? { finishSpan } : {}) }));
      } else {
        url = await this.idContact().start({ core: method.core, tag: method.tag, methodId: method.id, appointmentId: r.appointmentId, requestId: r.requestId, purpose: r.purpose, callSessionId: sessionCookie });
      }
    } catch (e) {
      const code = e instanceof CoreUnavailableError ? 'core_unavailable' : e instanceof UserError && e.code === 'provider_error' ? 'provider_error' : 'internal';
      await this.recordQuietly({ appointmentId: r.appointmentId, actor: 'system', action: 'failed', purpose: r.purpose, methodId: method.id, detail: code, ...this.traced(chosen) });
      await this.notifyAgent(r.appointmentId, code === 'core_unavailable' ? 'unavailable' : 'failed', { requestId: r.requestId, methodId: method.id, methodName: method.displayName, reason: code === 'core_unavailable' ? code : 'provider_error' }, r.agent).catch(() => 0);
      if (e instanceof CoreUnavailableError) throw new UserError(502, 'provider_error', `The identification service "${method.displayName}" cannot be reached right now`);
      throw e;
    }
    await this.record({ appointmentId: r.appointmentId, actor: 'resident', action: 'method_chosen', purpose: r.purpose, methodId: method.id, attributeKeys: r.attributeKeys, ...this.traced(chosen) });
    await this.notifyAgent(r.appointmentId, 'method_chosen', { requestId: r.requestId, methodId: method.id, methodName: method.displayName }, r.agent);
    return url;
  }

  /** The resident pressed "Annuleren" in the pop-up. */
  async decline(requestId: unknown, session: CallSession | undefined): Promise<void> {
    if (!session || session.role !== 'resident') throw new UserError(401, 'call_session_required', 'No call session');
    const open = this.requests.get(requestId);
    if (!open || open.appointmentId !== session.appointmentId) throw new UserError(404, 'request_unknown', 'This request is not open');
    const r = this.requests.take(requestId) as AuthRequest;
    await this.recordQuietly({ appointmentId: r.appointmentId, actor: 'resident', action: 'failed', purpose: r.purpose, detail: 'declined', ...this.traced({ traceId: r.traceId, parentSpanId: r.spanId, purpose: r.purpose }) });
    await this.notifyAgent(r.appointmentId, 'cancelled', { requestId: r.requestId, reason: 'declined' }, r.agent);
    this.emit('failed', { reason: 'declined', appointmentId: r.appointmentId, requestId: r.requestId });
  }

  /**
   * The provider sent the resident back. Returns the outcome code for the resident's return banner: 'ok' or a reason.
   * On success the values go into the cache and nowhere else; on any failure nothing is stored.
   *
   * The same call session coming back with the same callback again (a reload, back/forward, a double submit) gets
   * the first outcome again and changes nothing: no second log row, no notice to the agent, no retry prompt. The
   * same callback from any other session is a replay and is refused (the state is single use), as before.
   */
  async finish(currentUrl: string, session: CallSession | undefined, sessionCookie: string | undefined): Promise<'ok' | FailureReason> {
    const state = stateOf(currentUrl);
    if (!state || !sessionCookie) return this.finishOnce(currentUrl, session, sessionCookie);
    const key = hashToken(state);
    const sessionHash = hashToken(sessionCookie);
    const t = this.now();
    for (const [k, r] of this.returns) if (t - r.at > RETURN_MEMORY_MS) this.returns.delete(k);
    const seen = this.returns.get(key);
    if (seen && safeEqual(seen.sessionHash, sessionHash)) return seen.outcome;
    const outcome = this.finishOnce(currentUrl, session, sessionCookie);
    // The first answer for a state is the one remembered; a replay from another session does not replace it.
    if (!seen && this.returns.size < MAX_RETURNS) this.returns.set(key, { sessionHash, at: t, outcome });
    return outcome;
  }

  private async finishOnce(currentUrl: string, session: CallSession | undefined, sessionCookie: string | undefined): Promise<'ok' | FailureReason> {
    const result = await this.oidc().finish({ currentUrl, callSessionId: sessionCookie ?? '' });
    return this.conclude(result, session?.appointmentId);
  }

  /**
   * The one way a method's result ends, whichever kind of method it came from (OIDC callback, ID Contact attr_url or
   * comm_url): on success the asked attributes go into the cache and nowhere else, 'verified' is logged and emitted;
   * on any failure nothing is stored, the reason is logged against the appointment and the agent is told in plain
   * words. A request that went away meanwhile (call ended, the agent asked again) keeps nothing. Attributes that were
   * not asked for are dropped (the log says so with 'unrequested_dropped'); when none of the asked ones are left the
   * result is refused as 'attributes_missing'.
   */
  private async conclude(result: VerificationResult, fallbackAppointmentId?: string): Promise<'ok' | FailureReason> {
    const request = result.requestId ? this.requests.get(result.requestId) : undefined;
    const verification = { traceId: result.span?.traceId, spanId: result.span?.spanId, parentSpanId: request?.spanId, purpose: result.purpose };
    const fail = async (reason: FailureReason, methodId?: string): Promise<FailureReason> => {
      const appointmentId = result.appointmentId ?? fallbackAppointmentId;
      // A result for someone else's request ends that request (its state is used up); it is logged against it.
      if (result.requestId) this.requests.take(result.requestId);
      if (appointmentId) {
        await this.recordQuietly({ appointmentId, actor: 'resident', action: 'failed', ...(result.purpose ? { purpose: result.purpose } : {}), ...(methodId ? { methodId } : {}), detail: reason, ...this.traced(verification) });
        await this.notifyAgent(appointmentId, agentNoticeFor(reason), { ...(result.requestId ? { requestId: result.requestId } : {}), ...(methodId ? { methodId } : {}), reason }).catch(() => 0);
      }
      this.emit('failed', { reason, ...(appointmentId ? { appointmentId } : {}), ...(result.requestId ? { requestId: result.requestId } : {}), ...(methodId ? { methodId } : {}) });
      return reason;
    };
    if (!result.ok) return fail(result.reason, result.methodId);
    const wipeAll = () => {
      for (const a of result.attributes) a.value = '';
    };
    // The request went away meanwhile (call ended, the agent asked again): the answer is not kept.
    if (!request || request.appointmentId !== result.appointmentId) {
      wipeAll();
      return fail('expired', result.methodId);
    }
    const keep = new Set(request.attributeKeys);
    const attributes = result.attributes.filter((a) => keep.has(a.key));
    const detail = result.detail ?? (attributes.length < result.attributes.length ? 'unrequested_dropped' : undefined);
    if (attributes.length === 0) {
      wipeAll();
      return fail('attributes_missing', result.methodId);
    }
    this.requests.take(request.requestId);
    const attributeKeys = attributes.map((a) => a.key);
    let attributeSetId: string | undefined;
    try {
      attributeSetId = this.cache.put({ appointmentId: result.appointmentId, requestId: result.requestId, methodId: result.methodId, ...(result.acr ? { acr: result.acr } : {}), attributes }, this.ttlSec);
      // With several instances the set pins the call's room here (it may be stored before anyone joined).
      await roomHoldsOf(this.services).placed(result.appointmentId);
      const spanId = verification.spanId ?? newSpanId();
      const traceId = verification.traceId ?? newTraceId();
      // Logboek dpl.core.data_subject_id: a keyed pseudonym of the verified BSN (lib/trace/data-subject.ts), never the BSN.
      const bsn = attributes.find((a) => a.key === 'bsn')?.value;
      const subject = bsn ? dataSubjectId(this.services.secret, bsn) : undefined;
      this.setMeta.set(attributeSetId, { appointmentId: result.appointmentId, methodId: result.methodId, keys: attributeKeys, purpose: result.purpose, traceId, spanId, ...(subject ? { subject } : {}) });
      await this.record({ appointmentId: result.appointmentId, actor: 'resident', action: 'verified', purpose: result.purpose, methodId: result.methodId, attributeKeys, ...(detail ? { detail } : {}), ...(subject ? { dataSubjectId: subject } : {}), ...this.traced({ ...verification, traceId, spanId }) });
    } catch (e) {
      // Nothing half-written: a set that could not be logged is not kept.
      if (attributeSetId) this.dropSet(attributeSetId);
      wipeAll();
      this.services.log.error(`identification could not be stored: ${(e as Error).name}: ${(e as Error).message}`);
      return fail('internal', result.methodId);
    }
    wipeAll();
    this.watchCalls();
    this.emit('verified', {
      attributeSetId,
      appointmentId: result.appointmentId,
      requestId: result.requestId,
      purpose: result.purpose,
      methodId: result.methodId,
      attributeKeys,
      ...(result.acr ? { acr: result.acr } : {}),
    });
    return 'ok';
  }

  /** An ID Contact result in the service's terms, then concluded; a replay changes nothing but the log. */
  private async concludeIdContact(r: IdContactResult): Promise<'ok' | FailureReason> {
    const a = r.attempt;
    if (!a) {
      await this.recordQuietly({ appointmentId: UNKNOWN_APPOINTMENT, actor: 'system', action: 'failed', detail: r.ok ? 'internal' : r.reason });
      return r.ok ? 'internal' : r.reason;
    }
    if (!r.ok && r.reason === 'replayed') {
      // The first result of this attempt stands (verified or not); a second one is only noted.
      await this.recordQuietly({ appointmentId: a.appointmentId, actor: 'system', action: 'failed', purpose: a.purpose, methodId: a.methodId, detail: 'replayed' });
      return 'replayed';
    }
    // A session the core started: no agent's request to answer, the core's purpose decided what is asked.
    if (a.requestId === undefined) {
      if (r.ok) return (await this.storeStarted({ appointmentId: a.appointmentId, purpose: a.purpose, methodId: a.methodId, attributes: r.attributes, extraDropped: r.extraDropped })).outcome;
      await this.recordQuietly({ appointmentId: a.appointmentId, actor: 'resident', action: 'failed', purpose: a.purpose, methodId: a.methodId, detail: r.reason });
      await this.notifyAgent(a.appointmentId, agentNoticeFor(r.reason), { methodId: a.methodId, reason: r.reason }).catch(() => 0);
      this.emit('failed', { reason: r.reason, appointmentId: a.appointmentId, methodId: a.methodId });
      return r.reason;
    }
    const ref = { appointmentId: a.appointmentId, requestId: a.requestId, purpose: a.purpose, methodId: a.methodId };
    return this.conclude(r.ok ? { ok: true, ...ref, attributes: r.attributes, ...(r.extraDropped ? { detail: 'unrequested_dropped' } : {}) } : { ok: false, reason: r.reason, ...ref });
  }

  /**
   * Verified attributes of a session an ID Contact core started (start_communication with auth_result, or its
   * attr_url): into the cache for the appointment's agent, 'verified' in the log with the core's purpose, emitted for
   * idv-receive-attributes. There is no agent's request: every attribute the core's configuration maps is kept.
   */
  async storeStarted(input: { appointmentId: string; purpose: string; methodId: string; methodName?: string; attributes: Attribute[]; extraDropped: boolean }): Promise<{ outcome: 'ok' | FailureReason; attributeSetId?: string; attributeKeys?: string[] }> {
    const { appointmentId, purpose, methodId, attributes } = input;
    const wipeAll = () => {
      for (const a of attributes) a.value = '';
    };
    if (attributes.length === 0) {
      await this.recordQuietly({ appointmentId, actor: 'resident', action: 'failed', purpose, methodId, detail: 'attributes_missing' });
      this.emit('failed', { reason: 'attributes_missing', appointmentId, methodId });
      return { outcome: 'attributes_missing' };
    }
    const requestId = newToken();
    const attributeKeys = attributes.map((a) => a.key);
    let attributeSetId: string | undefined;
    try {
      attributeSetId = this.cache.put({ appointmentId, requestId, methodId, attributes }, this.ttlSec);
      // A session the core started has no room yet: the set pins it here, so resident and agent are sent to these values.
      await roomHoldsOf(this.services).placed(appointmentId);
      this.setMeta.set(attributeSetId, { appointmentId, methodId, keys: attributeKeys });
      await this.record({ appointmentId, actor: 'resident', action: 'verified', purpose, methodId, attributeKeys, ...(input.extraDropped ? { detail: 'unrequested_dropped' } : {}) });
    } catch (e) {
      if (attributeSetId) this.dropSet(attributeSetId);
      wipeAll();
      this.services.log.error(`identification could not be stored: ${(e as Error).name}: ${(e as Error).message}`);
      return { outcome: 'internal' };
    }
    wipeAll();
    if (input.methodName) this.methodNames.set(methodId, input.methodName);
    this.watchCalls();
    this.emit('verified', { attributeSetId, appointmentId, requestId, purpose, methodId, attributeKeys });
    return { outcome: 'ok', attributeSetId, attributeKeys };
  }

  /** A start_communication whose auth_result failed the checks: no appointment exists, so the log names none. */
  async recordRefusedStart(purpose: string, methodId: string, reason: FailureReason): Promise<void> {
    await this.recordQuietly({ appointmentId: UNKNOWN_APPOINTMENT, actor: 'system', action: 'failed', purpose, methodId, detail: reason });
  }

  /**
   * The auth plugin (or the core's shim) POSTs the result to an attr_url. `problem` is what the HTTP layer found before
   * reading the body (wrong content type, too large). Every outcome leaves a reason code in the processing log; an
   * attr_url nobody issued is logged against the appointment "unknown". Returns the code and the HTTP status to answer.
   */
  async receiveIdContactResult(attrToken: unknown, token: unknown, problem?: 'wrong_content_type' | 'too_large'): Promise<{ outcome: 'ok' | FailureReason; status: number }> {
    const flows = this.idContact();
    const attempt = await flows.attemptForAttr(attrToken);
    // The outcome is registered in the same tick as accept() starts, so a resident returning to this instance
    // meanwhile waits for this very result (one on another instance finds it in the store). accept() uses the attempt
    // up atomically in the store: of the attr_url and the comm_url, whichever comes first on any instance counts.
    const outcome = flows.accept(attempt, token, problem).then((r) => this.concludeIdContact(r));
    const code = attempt ? await flows.settle(attempt, outcome) : await outcome;
    const status: Record<string, number> = { ok: 200, auth_failed: 200, unknown_attr_url: 404, replayed: 409, expired: 410, too_large: 413, wrong_content_type: 415, internal: 500 };
    return { outcome: code, status: status[code] ?? 400 };
  }

  /**
   * The resident's browser comes back from an ID Contact method to the comm_url. A result in the query (the core's
   * `?status=succes&attributes=<jwe>` or a plugin's `?result=<jwe>`) is accepted here once, like one posted to the
   * attr_url, but only from the call session that started the attempt. Without one, the outcome of the attr_url is
   * awaited briefly; 'waiting' when it has not come yet (the agent's panel shows it when it does).
   */
  async returnFromIdContact(returnToken: unknown, query: Record<string, unknown>, session: CallSession | undefined, sessionCookie: string | undefined): Promise<'ok' | 'waiting' | FailureReason> {
    const flows = this.idContact();
    const attempt = await flows.attemptForReturn(returnToken);
    const one = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const inline = one(query.attributes) ?? one(query.result);
    const statusFailed = one(query.status) === 'failed';
    if (!attempt) {
      if (inline !== undefined || statusFailed) await this.recordQuietly({ appointmentId: session?.appointmentId ?? UNKNOWN_APPOINTMENT, actor: 'system', action: 'failed', detail: 'expired' });
      return 'expired';
    }
    if (!flows.sameSession(attempt, sessionCookie)) {
      // A result brought by another browser is used up and refused, as a callback with a foreign OIDC state is.
      if (inline !== undefined && (await flows.use(attempt))) {
        return flows.settle(attempt, this.conclude({ ok: false, reason: 'wrong_session', appointmentId: attempt.appointmentId, requestId: attempt.requestId, purpose: attempt.purpose, methodId: attempt.methodId }));
      }
      await this.recordQuietly({ appointmentId: attempt.appointmentId, actor: 'system', action: 'failed', purpose: attempt.purpose, methodId: attempt.methodId, detail: 'wrong_session' });
      return 'wrong_session';
    }
    const known = await flows.outcomeOf(attempt);
    if (known) return known as 'ok' | FailureReason;
    if (inline !== undefined || statusFailed) {
      const result = inline !== undefined ? flows.accept(attempt, inline) : flows.accept(attempt, undefined).then((r) => (!r.ok && r.reason === 'malformed_token' ? { ...r, reason: 'auth_failed' as const } : r));
      const outcome = result.then((r) => this.concludeIdContact(r));
      // Used up before (by the attr_url, maybe on another instance): the first result's outcome stands.
      const code = await flows.settle(attempt, outcome);
      if (code === 'replayed') return ((await this.awaitOutcome(attempt)) ?? 'waiting') as 'ok' | 'waiting' | FailureReason;
      return code;
    }
    return ((await this.awaitOutcome(attempt)) ?? 'waiting') as 'ok' | 'waiting' | FailureReason;
  }

  /**
   * Waits briefly for the outcome of an attempt being handled here or on another instance (the store is asked every
   * 100 ms). Real time, not the injectable clock: this is how long a browser is kept waiting.
   */
  private async awaitOutcome(attempt: IdContactAttempt): Promise<string | undefined> {
    const flows = this.idContact();
    const until = Date.now() + RETURN_WAIT_MS;
    for (;;) {
      const known = await flows.outcomeOf(attempt);
      if (known || Date.now() >= until) return known;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** idv-show-to-agent: tells the appointment's agent that a verified set is there (the panel fetches the values). */
  async showToAgent(attributeSetId: unknown, appointmentId: unknown): Promise<number> {
    const meta = typeof attributeSetId === 'string' ? this.setMeta.get(attributeSetId) : undefined;
    if (!meta || !this.cache.has(attributeSetId as string)) throw new UserError(404, 'attribute_set_gone', 'the attribute set does not exist (any more): deleted or expired');
    if (appointmentId !== undefined && appointmentId !== meta.appointmentId) throw new UserError(400, 'appointment_mismatch', 'msg.appointment.id does not match the attribute set');
    const set = this.cache.get(attributeSetId as string) as AttributeSet;
    const methodName = this.methodNameOf(set);
    const reached = await this.notifyAgent(meta.appointmentId, 'verified', {
      attributeSetId: set.attributeSetId,
      requestId: set.requestId,
      methodId: set.methodId,
      ...(methodName ? { methodName } : {}),
      ...(set.acr ? { acr: set.acr } : {}),
      attributeKeys: meta.keys,
      expiresAt: set.expiresAt,
    });
    wipeCopy(set);
    return reached;
  }

  /** The OpenID Connect methods of this instance's flows by id (an OIDC callback may finish here a request another instance started). */
  private readonly methods = new Map<string, AuthMethod>();
  /** Display names of methods seen in requests, OIDC and ID Contact (for the agent's panel; the set keeps the id only). */
  private readonly methodNames = new Map<string, string>();
  private methodNameOf(set: Pick<AttributeSet, 'methodId'>): string | undefined {
    return this.methodNames.get(set.methodId);
  }
  /**
   * idv-request-auth registers the methods it offers (at deploy and with each request); the latest config wins. OpenID
   * Connect methods (those with an issuer) are also kept whole, to finish callbacks of requests made on other instances.
   */
  rememberMethodNames(methods: readonly ({ id: string; displayName: string } | AuthMethod)[]): void {
    for (const m of methods) {
      this.methodNames.set(m.id, m.displayName);
      if ('issuer' in m && typeof m.issuer === 'string') this.methods.set(m.id, m);
    }
  }

  /**
   * The values for the agent's screen: only the agent the appointment is planned for gets them (anyone else: 404, the
   * same as an unknown id). Logs 'shown' the first time.
   */
  async setForAgent(attributeSetId: string, username: string): Promise<(AttributeSet & { methodName?: string }) | undefined> {
    const set = this.cache.get(attributeSetId);
    if (!set) return undefined;
    const appointment = await this.appointments.get(set.appointmentId);
    if (!appointment || appointment.agent.toLowerCase() !== username.toLowerCase()) {
      wipeCopy(set);
      return undefined;
    }
    if (!this.shown.has(attributeSetId)) {
      this.shown.add(attributeSetId);
      await this.record({ appointmentId: set.appointmentId, actor: username, action: 'shown', methodId: set.methodId, attributeKeys: set.attributes.map((a) => a.key), ...this.ofSet(attributeSetId) });
    }
    const methodName = this.methodNameOf(set);
    return { ...set, ...(methodName ? { methodName } : {}) };
  }

  /** Live sets of an appointment the agent owns: references and names for the panel, no values. */
  async setsForAppointment(appointmentId: string, username: string): Promise<{ owned: boolean; sets: { attributeSetId: string; attributeKeys: string[]; methodId: string }[] }> {
    const appointment = APPOINTMENT_RE.test(appointmentId) ? await this.appointments.get(appointmentId) : null;
    if (!appointment || appointment.agent.toLowerCase() !== username.toLowerCase()) return { owned: false, sets: [] };
    const sets = this.cache.idsForAppointment(appointmentId).flatMap((id) => {
      const m = this.setMeta.get(id);
      return m ? [{ attributeSetId: id, attributeKeys: m.keys, methodId: m.methodId }] : [];
    });
    return { owned: true, sets };
  }

  /** "Verwijder nu": only the owning agent; false when unknown or not theirs. */
  async deleteByAgent(attributeSetId: string, username: string): Promise<boolean> {
    const meta = this.setMeta.get(attributeSetId);
    if (!meta || !this.cache.has(attributeSetId)) return false;
    const appointment = await this.appointments.get(meta.appointmentId);
    if (!appointment || appointment.agent.toLowerCase() !== username.toLowerCase()) return false;
    const traced = this.ofSet(attributeSetId);
    this.dropSet(attributeSetId);
    await this.recordQuietly({ appointmentId: meta.appointmentId, actor: username, action: 'deleted', methodId: meta.methodId, attributeKeys: meta.keys, detail: 'agent_deleted', ...traced });
    await this.notifyAgent(meta.appointmentId, 'deleted', { attributeSetId }, appointment.agent);
    return true;
  }

  /** The call ended: every set and open request of it goes. */
  async callEnded(appointmentId: string): Promise<void> {
    this.requests.removeForAppointment(appointmentId);
    for (const id of this.cache.idsForAppointment(appointmentId)) {
      const meta = this.setMeta.get(id);
      const traced = this.ofSet(id);
      this.dropSet(id);
      await this.recordQuietly({ appointmentId, actor: 'system', action: 'deleted', ...(meta ? { methodId: meta.methodId, attributeKeys: meta.keys } : {}), detail: 'call_ended', ...traced });
      await this.notifyAgent(appointmentId, 'call_ended', { attributeSetId: id }).catch(() => 0);
    }
  }

  private async expired(attributeSetId: string, appointmentId: string): Promise<void> {
    const meta = this.setMeta.get(attributeSetId);
    const traced = this.ofSet(attributeSetId);
    this.setMeta.delete(attributeSetId);
    this.shown.delete(attributeSetId);
    await this.recordQuietly({ appointmentId, actor: 'system', action: 'expired', ...(meta ? { methodId: meta.methodId, attributeKeys: meta.keys } : {}), detail: 'ttl', ...traced });
    await this.notifyAgent(appointmentId, 'expired', { attributeSetId }).catch(() => 0);
  }

  /**
   * The verification's trace and span of a live set (for processings that follow from it elsewhere), with the
   * pseudonymised data subject when it was verified with a BSN (never the BSN), or undefined.
   */
  traceOfSet(attributeSetId: string): { traceId: string; spanId: string; dataSubjectId?: string } | undefined {
    const m = this.setMeta.get(attributeSetId);
    return m?.traceId && m.spanId ? { traceId: m.traceId, spanId: m.spanId, ...(m.subject ? { dataSubjectId: m.subject } : {}) } : undefined;
  }

  /** What happens to a verified set (shown, deleted, expired) is a processing in the verification's trace. */
  private ofSet(attributeSetId: string): Partial<ProcessingLogEntry> {
    const m = this.setMeta.get(attributeSetId);
    return m ? { ...this.traced({ traceId: m.traceId, parentSpanId: m.spanId, purpose: m.purpose }), ...(m.subject ? { dataSubjectId: m.subject } : {}) } : {};
  }

  private dropSet(id: string): void {
    this.cache.delete(id);
    this.setMeta.delete(id);
    this.shown.delete(id);
  }

  /** Per idv-request-auth node: the reason it cannot offer identification, or undefined when it can. */
  private readonly offers = new Map<string, string | undefined>();

  /**
   * An idv-request-auth node says whether it can offer identification (at least one usable method) and, if not, why.
   * The node withdraws on close. Health is "unavailable" while any node cannot: an agent pressing "Vraag identificatie"
   * there would get nothing.
   */
  reportOffer(nodeId: string, problem: string | undefined): void {
    this.offers.set(nodeId, problem);
  }

  withdrawOffer(nodeId: string): void {
    this.offers.delete(nodeId);
  }

  /** For /healthz: ok while every identification node has a usable method. */
  offerHealth(): { ok: boolean; detail: string } {
    const problems = [...this.offers.values()].filter((p): p is string => p !== undefined);
    const counts = `${this.cache.stats().sets} attribute sets, ${this.requests.size()} open requests`;
    if (problems.length) return { ok: false, detail: `identification unavailable: ${problems[0].slice(0, 200)}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}` };
    return { ok: true, detail: counts };
  }

  /** Requests waiting at a provider or an ID Contact auth plugin, on every instance (monitoring). */
  async pendingAtProviders(): Promise<number> {
    return ((await this.flows?.pendingCount()) ?? 0) + ((await this.idcFlows?.pendingCount()) ?? 0);
  }

  close(): void {
    this.stopCallEnded?.();
    this.releaseHold();
    this.idcFlows?.close();
    this.cache.close();
    this.setMeta.clear();
    this.notices.clear();
    this.returns.clear();
    this.offers.clear();
    this.removeAllListeners();
  }
}

/** A copy handed out by the cache is blanked as soon as the caller is done with it. */
export function wipeCopy(set: AttributeSet): void {
  for (const a of set.attributes) a.value = '';
  set.attributes.length = 0;
}

export const IDENTIFICATION_SERVICE_KEY = 'identification.service';

/** The one identification service of these services (closed with them). */
export function identificationServiceOf(services: Services, options: Omit<IdentificationServiceOptions, 'services'> = {}): IdentificationService {
  return services.memo(IDENTIFICATION_SERVICE_KEY, () => {
    const s = new IdentificationService({ ...options, services });
    services.onClose(() => s.close());
    services.registerHealth('identification', () => s.offerHealth());
    metricsOf(services).watchIdentification(s);
    return s;
  });
}
