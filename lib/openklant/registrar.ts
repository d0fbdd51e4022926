import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Appointment } from '../appointments/store';
import { backoffDelay, type BackoffOptions } from '../mail/outbox';
import { startPeriodic, type Periodic } from '../runtime/periodic';
import { newSpanId, newTraceId, type SpanContext } from '../trace/context';
import { OpenKlantError, type OpenKlantClient } from './client';
import type { ContactRegistration, ContactRegistrationStore, RegistrationLease } from './store';

/**
 * Codes a registration can end with while still registered: what could not be linked, and why. Never a value.
 * - bsn_gone: the resident identified during the call, but the partij was not found before the attribute set (and
 *   with it the BSN) was gone; registered with the name the resident gave instead.
 * - partij_not_found: Open Klant has no partij with that BSN; registered with the name the resident gave.
 * - actor_not_found: Open Klant has no actor for the agent's username; registered without the actor link.
 */
export type RegistrationCode = 'bsn_gone' | 'partij_not_found' | 'actor_not_found';

export interface RegisteredEvent {
  registrationId: string;
  appointmentId: string;
  klantcontactUuid: string;
  contactMade: boolean;
  codes: string[];
  attempt: number;
  traceId: string;
  spanId: string;
  /** The verified person's pseudonym (Logboek dpl.core.data_subject_id), when the resident identified with a BSN. */
  dataSubjectId?: string;
  /** When the attempt that registered it started (Logboek: start_time). */
  startedAt: string;
}
export interface RegistrationFailedEvent {
  registrationId: string;
  appointmentId: string;
  errorCode: string;
  /** Field names and codes from Open Klant's 400 (never values). */
  invalidParams?: { name: string; code: string }[];
  attempt: number;
  /** false: it is retried at nextAttemptAt; true: it stays failed until an administrator requeues it. */
  final: boolean;
  nextAttemptAt?: string;
  traceId: string;
  spanId: string;
  /** As in RegisteredEvent. */
  dataSubjectId?: string;
  startedAt: string;
}

/** The BSN went to Open Klant's partij search (a processing of its own, logged by the runtime). */
export interface PartijLookupEvent {
  appointmentId: string;
  /** 'found', 'not_found' or the error code. */
  outcome: string;
  span: SpanContext;
  parentSpanId?: string;
  /** The verified person's pseudonym (Logboek dpl.core.data_subject_id), when the lookup followed a verification. */
  dataSubjectId?: string;
  startedAt: string;
}

export interface RegistrarEvents {
  registered: [RegisteredEvent];
  failed: [RegistrationFailedEvent];
  partijLookup: [PartijLookupEvent];
}

export interface RegistrarOptions {
  store: ContactRegistrationStore;
  client: OpenKlantClient;
  appointments: { get(id: string): Promise<Appointment | null | undefined> };
  /**
   * The BSN of the appointment's resident while a verified attribute set with it lives (lib/identification), else
   * undefined. Called inside the runtime only; the value goes to Open Klant's partij search and nowhere else.
   */
  bsnFor(appointmentId: string): string | undefined;
  /** The idv-openklant config node id: rows are claimed per Open Klant. */
  source: string;
  instanceId: string;
  now?: () => Date;
  /** Default: 30 s doubling to 30 min, 10 attempts (the mail outbox's defaults). */
  backoff?: BackoffOptions;
  leaseMs?: number;
  /** Longest pause between passes (default 60 s). */
  pollMs?: number;
  log: { warn(msg: string): void; info(msg: string): void };
}

/** What "the contact details as given" become: the name split in a first word and the rest (contactnaam). */
export function contactnaamOf(name: string): { voornaam?: string; achternaam: string } {
  const parts = name.trim().replace(/\s+/g, ' ').split(' ');
  if (parts.length === 1) return { achternaam: parts[0].slice(0, 200) };
  return { voornaam: parts[0].slice(0, 200), achternaam: parts.slice(1).join(' ').slice(0, 200) };
}

const MEMORY_MS = 24 * 3600_000;
const MAX_MEMORY = 10_000;

/**
 * Registers each appointment's contact in Open Klant, durably: add() stores a row (ids only), a worker claims due rows
 * under a lease marked with the instance id, and each step's result (partij, klantcontact, actor link) is written as
 * it happens, so a retry continues where the last attempt stopped and never registers a contact twice — except when
 * Open Klant accepted a POST whose answer never arrived (timeout): the API has no idempotency key.
 * Back-off and lease follow the mail outbox (lib/mail/outbox.ts `backoffDelay`), the loop is lib/runtime/periodic.ts.
 *
 * The partij is looked up by BSN while the resident's attribute set lives (resolvePartij, called when the set is
 * verified); the uuid found is kept in memory and copied into the row when the registration is added. The BSN itself is
 * read from the attribute cache for the lookup and never stored, logged or sent elsewhere.
 */
export class ContactRegistrar extends EventEmitter<RegistrarEvents> {
  private readonly o: RegistrarOptions;
  private readonly clock: () => Date;
  private readonly backoff: Required<BackoffOptions>;
  private readonly leaseMs: number;
  /** Appointments whose resident identified with a BSN: the partij uuid once found, null when Open Klant has none. */
  private readonly identified = new Map<string, { partijUuid: string | null | undefined; subject?: string; at: number }>();
  private readonly lookups = new Map<string, Promise<void>>();
  private periodic: Periodic | undefined;
  private reclaimed = false;

  constructor(o: RegistrarOptions) {
    super();
    this.o = o;
    this.clock = o.now ?? (() => new Date());
    this.backoff = { initialMs: o.backoff?.initialMs ?? 30_000, factor: o.backoff?.factor ?? 2, maxMs: o.backoff?.maxMs ?? 30 * 60_000, maxAttempts: o.backoff?.maxAttempts ?? 10 };
    this.leaseMs = o.leaseMs ?? 5 * 60_000;
  }

  /** Starts the worker: a pass now, then whenever something is due (at least every pollMs). */
  start(): void {
    if (this.periodic) return;
    const pollMs = this.o.pollMs ?? 60_000;
    this.periodic = startPeriodic({
      name: 'open klant registrations',
      everyMs: pollMs,
      log: this.o.log,
      backoff: { initialMs: 1000, maxMs: 60_000 },
      run: async () => {
        await this.pass();
        await this.scheduleNext(pollMs);
      },
    });
  }

  private nextTimer: NodeJS.Timeout | undefined;
  private async scheduleNext(pollMs: number): Promise<void> {
    const next = await this.o.store.nextDueAt([this.o.source]);
    if (!next) return;
    const wait = Date.parse(next) - this.clock().getTime();
    if (wait >= pollMs) return;
    if (this.nextTimer) clearTimeout(this.nextTimer);
    this.nextTimer = setTimeout(() => this.periodic?.kick(), Math.max(wait, 5));
    this.nextTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.nextTimer) clearTimeout(this.nextTimer);
    const p = this.periodic;
    this.periodic = undefined;
    await p?.stop();
    await Promise.allSettled([...this.lookups.values()]);
  }

  /** Runs a pass soon (a registration was added, or a test wants one now). */
  kick(): void {
    this.periodic?.kick();
  }

  /**
   * The resident of this appointment identified with a BSN: look the partij up now, while the attribute set lives.
   * A failed lookup is tried again by the registration itself if the set still lives then.
   */
  resolvePartij(appointmentId: string, trace?: { traceId: string; parentSpanId?: string; dataSubjectId?: string }): Promise<void> {
    this.remember(appointmentId, undefined, trace?.dataSubjectId);
    const running = this.lookups.get(appointmentId);
    if (running) return running;
    const span = { traceId: trace?.traceId ?? newTraceId(), spanId: newSpanId() };
    const p = this.lookupPartij(appointmentId, span, trace?.parentSpanId, trace?.dataSubjectId)
      .then((uuid) => {
        if (uuid !== undefined) this.remember(appointmentId, uuid);
      })
      .catch((e: unknown) => this.o.log.warn(`open klant: partij lookup for appointment ${appointmentId} failed (${codeOf(e)}); tried again at registration`))
      .finally(() => this.lookups.delete(appointmentId));
    this.lookups.set(appointmentId, p);
    return p;
  }

  /**
   * The partij uuid (string), null when Open Klant has none, undefined when no BSN was available. Each search that
   * sends the BSN is reported ('partijLookup') so it becomes a record of the processing log.
   */
  private async lookupPartij(appointmentId: string, span: SpanContext, parentSpanId?: string, dataSubjectId?: string): Promise<string | null | undefined> {
    const bsn = this.o.bsnFor(appointmentId);
    if (bsn === undefined) return undefined;
    const startedAt = this.clock().toISOString();
    const report = (outcome: string) => this.emit('partijLookup', { appointmentId, outcome, span, ...(parentSpanId ? { parentSpanId } : {}), ...(dataSubjectId ? { dataSubjectId } : {}), startedAt });
    try {
      const uuid = await this.o.client.findPartijByBsn(bsn, span);
      report(uuid ? 'found' : 'not_found');
      return uuid ?? null;
    } catch (e) {
      report(codeOf(e));
      throw e;
    }
  }

  private remember(appointmentId: string, partijUuid: string | null | undefined, subject?: string): void {
    const now = Date.now();
    for (const [k, v] of this.identified) if (now - v.at > MEMORY_MS || this.identified.size > MAX_MEMORY) this.identified.delete(k);
    const old = this.identified.get(appointmentId);
    const keep = subject ?? old?.subject;
    this.identified.set(appointmentId, { partijUuid: partijUuid === undefined ? old?.partijUuid : partijUuid, ...(keep ? { subject: keep } : {}), at: now });
  }

  /**
   * Queues the registration of an appointment's contact (after the call: contactMade true; a no-show: false). An
   * appointment is registered once: a second call returns the first registration (`created` false).
   */
  async add(appointmentId: string, contactMade: boolean): Promise<{ registration: ContactRegistration; created: boolean }> {
    const known = this.identified.get(appointmentId);
    if (known) await this.lookups.get(appointmentId);
    const partij = this.identified.get(appointmentId)?.partijUuid;
    const subject = this.identified.get(appointmentId)?.subject;
    const result = await this.o.store.add({
      appointmentId,
      source: this.o.source,
      contactMade,
      identified: known !== undefined,
      ...(typeof partij === 'string' ? { partijUuid: partij } : {}),
      ...(subject ? { dataSubjectId: subject } : {}),
      maxAttempts: this.backoff.maxAttempts,
      traceId: newTraceId(),
      spanId: newSpanId(),
      createdAt: this.clock().toISOString(),
    });
    if (result.created) this.kick();
    return result;
  }

  counts(): Promise<{ pending: number; retrying: number; failed: number }> {
    return this.o.store.counts(this.o.source);
  }

  private async pass(): Promise<void> {
    const now = this.clock();
    if (!this.reclaimed) {
      await this.o.store.reclaimInstance(this.o.instanceId, now.toISOString());
      this.reclaimed = true;
    }
    for (;;) {
      const at = this.clock();
      const lease: RegistrationLease = { token: randomUUID(), instance: this.o.instanceId, nowIso: at.toISOString(), untilIso: new Date(at.getTime() + this.leaseMs).toISOString() };
      const claimed = await this.o.store.claimDue([this.o.source], lease, 10);
      for (const r of claimed) await this.attempt(r, lease.token);
      if (claimed.length < 10 || !this.periodic) return;
    }
  }

  /** One attempt at one claimed registration. Store failures propagate (the pass backs off; the lease runs out). */
  private async attempt(r: ContactRegistration, token: string): Promise<void> {
    const startedAt = this.clock().toISOString();
    const span: SpanContext = { traceId: r.traceId, spanId: r.spanId };
    const codes = new Set(r.codes);
    try {
      const appointment = await this.o.appointments.get(r.appointmentId);
      if (!appointment) {
        await this.o.store.fail(r.id, token, 'appointment_gone', this.clock().toISOString());
        this.emit('failed', { registrationId: r.id, appointmentId: r.appointmentId, errorCode: 'appointment_gone', attempt: r.attempts, final: true, traceId: r.traceId, spanId: r.spanId, startedAt });
        return;
      }
      let partijUuid = r.partijUuid;
      if (!partijUuid && r.identified && !codes.has('partij_not_found') && !codes.has('bsn_gone')) {
        const mem = this.identified.get(r.appointmentId)?.partijUuid;
        const found = typeof mem === 'string' || mem === null ? mem : await this.lookupPartij(r.appointmentId, { traceId: r.traceId, spanId: newSpanId() }, r.spanId);
        if (typeof found === 'string') partijUuid = found;
        else codes.add(found === null ? 'partij_not_found' : 'bsn_gone');
        await this.progressOrLost(r, token, { ...(partijUuid ? { partijUuid } : {}), codes: [...codes] });
      }
      let klantcontactUuid = r.klantcontactUuid;
      if (!klantcontactUuid && r.attempts > 1) {
        // A retry: the earlier maak-klantcontact may have been carried out though its answer never came (a timeout, a
        // lost connection, a 5xx after the write). Ask by the appointment's reference before registering again.
        klantcontactUuid = await this.o.client.findKlantcontact(r.appointmentId, span);
        if (klantcontactUuid) await this.progressOrLost(r, token, { klantcontactUuid });
      }
      if (!klantcontactUuid) {
        const k = await this.o.client.maakKlantcontact(
          {
            kanaal: 'video',
            onderwerp: appointment.topic.slice(0, 200),
            taal: 'nld',
            vertrouwelijk: false,
            indicatieContactGelukt: r.contactMade,
            plaatsgevondenOp: appointment.startUtc,
            betrokkene: partijUuid ? { partijUuid } : { contactnaam: contactnaamOf(appointment.resident.name) },
            appointmentId: r.appointmentId,
          },
          span,
        );
        klantcontactUuid = k.klantcontactUuid;
        await this.progressOrLost(r, token, { klantcontactUuid });
      }
      if (!r.actorLinked && !codes.has('actor_not_found')) {
        const actor = await this.o.client.findActor(appointment.agent, span);
        if (actor) {
          await this.o.client.linkActor(actor, klantcontactUuid, span);
          await this.progressOrLost(r, token, { actorLinked: true });
        } else {
          codes.add('actor_not_found');
        }
      }
      await this.o.store.complete(r.id, token, [...codes], this.clock().toISOString());
      this.emit('registered', { registrationId: r.id, appointmentId: r.appointmentId, klantcontactUuid, contactMade: r.contactMade, codes: [...codes], attempt: r.attempts, traceId: r.traceId, spanId: r.spanId, ...(r.dataSubjectId ? { dataSubjectId: r.dataSubjectId } : {}), startedAt });
    } catch (e) {
      if (e instanceof LeaseLost) return;
      if (!(e instanceof OpenKlantError)) throw e;
      const base = { registrationId: r.id, appointmentId: r.appointmentId, errorCode: e.code, attempt: r.attempts, traceId: r.traceId, spanId: r.spanId, ...(r.dataSubjectId ? { dataSubjectId: r.dataSubjectId } : {}), startedAt, ...(e.invalidParams.length ? { invalidParams: e.invalidParams } : {}) };
      if (!e.retryable || r.attempts >= r.maxAttempts) {
        await this.o.store.fail(r.id, token, e.code, this.clock().toISOString());
        this.emit('failed', { ...base, final: true });
        return;
      }
      const next = new Date(this.clock().getTime() + backoffDelay(r.attempts, this.backoff)).toISOString();
      await this.o.store.reschedule(r.id, token, next, e.code);
      this.emit('failed', { ...base, final: false, nextAttemptAt: next });
    }
  }

  private async progressOrLost(r: ContactRegistration, token: string, p: Parameters<ContactRegistrationStore['progress']>[2]): Promise<void> {
    if (!(await this.o.store.progress(r.id, token, p))) throw new LeaseLost();
  }
}

/** Another worker took the row over (our lease ran out): it carries on from the recorded progress. */
class LeaseLost extends Error {}

function codeOf(e: unknown): string {
  return e instanceof OpenKlantError ? e.code : 'internal';
}
