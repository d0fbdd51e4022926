import { randomUUID } from 'node:crypto';
import type { Appointment, AppointmentStore } from '../appointments/store';
import { appointmentMessage, type AppointmentMessage } from '../events/message';
import type { AppointmentEvent, DueFilter, EventStore, Lease } from '../events/types';
import { faultCode } from '../store/faults';
import type { GuestStore } from '../call/guest-store';
import { planGuestMail, type GuestMailKind } from '../call/guest-mails';
import type { NewOutboxRecord } from '../mail/outbox-store';
import type { StoredLink } from '../links/types';
import { validityWindow } from '../links/window';
import { toPublicIso } from '../time';
import type { AppointmentNotice } from './booking-message';
import { planBooked, planCancelled, planMovedAway, type CancelLinkPlan, type NotifyContext, type PlanDeps, type Skipped } from './notifier';

/** The kinds this hand-off carries out; the sweep leaves other kinds (added by later versions) alone. */
export const HANDOFF_KINDS = ['booked', 'cancelled', 'rescheduled'] as const;

export interface HandOffDeps {
  events: EventStore;
  appointments: Pick<AppointmentStore, 'get'>;
  plan: PlanDeps;
  /** The path of a live resident booking node for a cancel link (lib/booking-pages/cancel-routes.ts). */
  cancelPath(source: string | null, recordedPath: string | undefined): string | undefined;
  /** This instance's id (lib/runtime/instance.ts): leases carry it. */
  instanceId: string;
  /**
   * The appointments' third participants (lib/call/guest-store.ts): a cancellation or a move tells the guest too, in
   * the same transaction as the resident's mails. Absent: guests hear nothing (their link still dies on a cancel).
   */
  guests?: Pick<GuestStore, 'get' | 'contact'>;
  /** Wakes the outbox workers (mail, SMS) once messages were committed. */
  mailsQueued(): void;
  /** How long a claim may take before another worker may take the event over (default 2 min). */
  leaseMs?: number;
  /** Pause before retrying an event whose hand-off failed: initialMs * 2^(attempts-1), at most maxMs (10 s … 30 min). */
  retry?: { initialMs?: number; maxMs?: number };
  now?: () => Date;
}

/** What happened to one event. Messages carry references and the access links for output 1, never a cancel link. */
export type HandOffResult =
  | { status: 'done'; event: AppointmentEvent; message: AppointmentMessage & { links?: { resident: string; agent: string } }; skipped: Skipped[] }
  /** The appointment was cancelled before its booking was handed off: no links, no confirmation. */
  | { status: 'superseded'; event: AppointmentEvent; message: AppointmentMessage }
  /** Done before, or being done by another worker right now: nothing new happens here. */
  | { status: 'duplicate'; event: AppointmentEvent }
  /** The appointment no longer exists (removed by retention): the event is closed without effects. */
  | { status: 'gone'; event: AppointmentEvent }
  | { status: 'unknown' };

function positive(v: number | undefined, fallback: number, name: string): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > 24 * 3600_000) throw new Error(`${name} must be 1 ms to 24 h`);
  return n;
}

/** What planning needs of a stored appointment, in the shape a flow's message would have. */
function noticeOf(kind: 'booked' | 'cancelled' | 'rescheduled', a: Appointment, lang: 'nl' | 'en'): AppointmentNotice {
  return {
    event: kind === 'rescheduled' ? 'booked' : kind,
    appointment: { id: a.id, start: toPublicIso(a.startUtc), end: toPublicIso(a.endUtc), topic: a.topic, agent: a.agent },
    resident: {
      name: a.resident.name,
      email: a.resident.email,
      ...(a.resident.remarks ? { remarks: a.resident.remarks } : {}),
      lang,
      ...(a.resident.sms && a.resident.phone ? { phone: a.resident.phone, sms: true as const } : {}),
    },
  };
}

/**
 * The durable hand-off of idv-session-link (../shared/DESIGN.md, "Every effect of a committed change happens"). An
 * event is claimed under a lease, its effects are planned from the stored appointment (not from the message, which a
 * flow may have changed or lost), and links, cancel-token hash, outbox rows and the event's 'done' are committed in
 * one transaction. So each event's effects happen once whether its message arrives, arrives twice or never arrives
 * (the sweep finds it), and a crash at any point leaves either nothing or everything.
 */
export class HandOff {
  private readonly leaseMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly deps: HandOffDeps,
    /** Read per event, so a changed public URL or setting applies to the next one. */
    private readonly context: () => NotifyContext,
  ) {
    this.leaseMs = positive(deps.leaseMs, 120_000, 'leaseMs');
    this.retryInitialMs = positive(deps.retry?.initialMs, 10_000, 'retry.initialMs');
    this.retryMaxMs = positive(deps.retry?.maxMs, 30 * 60_000, 'retry.maxMs');
    this.clock = deps.now ?? (() => new Date());
  }

  private lease(): Lease {
    const now = this.clock();
    return { token: randomUUID(), instance: this.deps.instanceId, nowIso: now.toISOString(), untilIso: new Date(now.getTime() + this.leaseMs).toISOString() };
  }

  /** A message with this event id arrived: carry the event out now, unless it is done or in other hands. */
  async byId(eventId: string): Promise<HandOffResult> {
    const lease = this.lease();
    const claim = await this.deps.events.claim(eventId, lease);
    if (claim.status === 'unknown') return { status: 'unknown' };
    if (claim.status !== 'claimed') return { status: 'duplicate', event: claim.event };
    return this.carryOut(claim.event, lease);
  }

  /**
   * Carries out due events matching the filter (start-up, and events whose message never came), oldest first, at
   * most `limit`. Results in order; a failed event is released for a later retry and reported as `failed`.
   */
  async sweep(filter: Omit<DueFilter, 'kinds'>, limit: number): Promise<{ results: HandOffResult[]; failed: { event: AppointmentEvent; error: Error }[] }> {
    const lease = this.lease();
    const claimed = await this.deps.events.claimDue({ ...filter, kinds: HANDOFF_KINDS }, lease, limit);
    const results: HandOffResult[] = [];
    const failed: { event: AppointmentEvent; error: Error }[] = [];
    for (const event of claimed) {
      try {
        results.push(await this.carryOut(event, lease));
      } catch (e) {
        failed.push({ event, error: e as Error });
      }
    }
    return { results, failed };
  }

  /**
   * A message another flow built (no event id): plan from the message itself and store the effects in one
   * transaction, as before events existed. Its cancel link is the one the message gives, if any.
   */
  async foreign(notice: AppointmentNotice): Promise<{ links?: { resident: string; agent: string }; skipped: Skipped[] }> {
    const ctx = this.context();
    if (notice.event === 'booked') {
      const cancel: CancelLinkPlan = notice.cancelLink ? { given: notice.cancelLink } : { none: true };
      const plan = await planBooked(this.deps.plan, ctx, notice, cancel);
      await this.deps.events.apply(plan.effects);
      this.deps.mailsQueued();
      // A foreign flow that gives no cancel link knows it has none; that is no warning of ours.
      return { links: plan.links, skipped: plan.skipped.filter((s) => s !== 'cancel-page-unserved') };
    }
    const plan = await planCancelled(this.deps.plan, ctx, notice);
    await this.deps.events.apply(plan.effects);
    this.deps.mailsQueued();
    return { skipped: plan.skipped };
  }

  private async carryOut(event: AppointmentEvent, lease: Lease): Promise<HandOffResult> {
    try {
      return await this.plannedAndCommitted(event, lease);
    } catch (e) {
      // Retry later with growing pauses; if even this write fails, the lease simply runs out.
      const wait = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(Math.max(0, event.attempts - 1), 20));
      const now = this.clock();
      await this.deps.events
        .release(event.id, lease.token, faultCode(e), new Date(now.getTime() + wait).toISOString(), now.toISOString())
        .catch(() => undefined);
      throw e;
    }
  }

  /**
   * The guest's mail for a move (with a new guest link in the new window) or a cancellation, or undefined when the
   * appointment has no invited guest with a known address. Planned only: stored with the event's other effects.
   */
  private async guestMail(kind: Exclude<GuestMailKind, 'guest-invitation'>, a: Appointment, ctx: NotifyContext): Promise<{ mail: NewOutboxRecord; link?: StoredLink } | undefined> {
    const store = this.deps.guests;
    if (!store) return undefined;
    const [guest, contact] = await Promise.all([store.get(a.id), store.contact(a.id)]);
    if (!guest || guest.removedAt || !contact) return undefined;
    const start = toPublicIso(a.startUtc);
    const end = toPublicIso(a.endUtc);
    const window = kind === 'guest-rescheduled' ? validityWindow(start, end, { beforeMinutes: ctx.config.beforeMinutes, afterMinutes: ctx.config.afterMinutes }) : undefined;
    return planGuestMail(this.deps.plan, ctx, { kind, appointmentId: a.id, guestKind: guest.kind, contact, start, end, ...(window ? { window } : {}), sequence: a.sequence });
  }

  private async plannedAndCommitted(event: AppointmentEvent, lease: Lease): Promise<HandOffResult> {
    const { events } = this.deps;
    const now = () => this.clock().toISOString();
    const kind = event.kind;
    if (kind !== 'booked' && kind !== 'cancelled' && kind !== 'rescheduled') throw Object.assign(new Error(`event kind ${kind.slice(0, 40)} is not handled here`), { code: 'EKIND' });
    const appointment = await this.deps.appointments.get(event.appointmentId);
    if (!appointment) {
      await events.settle(event.id, lease.token, 'gone', now());
      return { status: 'gone', event };
    }
    const lang = event.facts.lang === 'en' ? 'en' : 'nl';
    const f = event.facts;
    const previous =
      kind === 'rescheduled' && f.previousStart && f.previousEnd && f.previousAgent
        ? { startUtc: f.previousStart, endUtc: f.previousEnd, agent: f.previousAgent }
        : undefined;
    const message = appointmentMessage(kind, appointment, lang, event.id, previous);
    const ctx = this.context();
    const notice = noticeOf(kind, appointment, lang);
    if (kind === 'booked' || kind === 'rescheduled') {
      if (appointment.status !== 'booked') {
        await events.settle(event.id, lease.token, 'superseded', now());
        return { status: 'superseded', event, message };
      }
      const path = this.deps.cancelPath(event.source, event.facts.cancelPath);
      const moved = kind === 'rescheduled' ? { sequence: appointment.sequence } : undefined;
      const plan = await planBooked(this.deps.plan, ctx, notice, path ? { issueFor: path } : { none: true }, moved);
      // The agent who had it before and no longer has it hears that it left their calendar.
      if (previous && previous.agent !== appointment.agent) {
        const away = await planMovedAway(this.deps.plan, ctx, notice, previous, appointment.sequence);
        plan.effects.mails = [...(plan.effects.mails ?? []), ...away];
      }
      if (moved) {
        const g = await this.guestMail('guest-rescheduled', appointment, ctx);
        if (g) {
          plan.effects.mails = [...(plan.effects.mails ?? []), g.mail];
          plan.effects.links = [...(plan.effects.links ?? []), ...(g.link ? [g.link] : [])];
          plan.effects.discardMailKinds = [...(plan.effects.discardMailKinds ?? []), 'guest-invitation', 'guest-rescheduled'];
        }
      }
      const outcome = await events.finish(event.id, lease.token, { ...plan.effects, requireBooked: true }, now());
      if (outcome === 'lost') return { status: 'duplicate', event };
      if (outcome === 'superseded') return { status: 'superseded', event, message };
      this.deps.mailsQueued();
      return { status: 'done', event, message: { ...message, links: plan.links }, skipped: plan.skipped };
    }
    const plan = await planCancelled(this.deps.plan, ctx, notice, appointment.sequence);
    const g = await this.guestMail('guest-cancellation', appointment, ctx);
    // An unsent invitation or move notice carries a link that dies now: only the cancellation goes.
    plan.effects.discardMailKinds = [...(plan.effects.discardMailKinds ?? []), 'guest-invitation', 'guest-rescheduled'];
    if (g) plan.effects.mails = [...(plan.effects.mails ?? []), g.mail];
    const outcome = await events.finish(event.id, lease.token, plan.effects, now());
    if (outcome === 'lost') return { status: 'duplicate', event };
    this.deps.mailsQueued();
    return { status: 'done', event, message, skipped: plan.skipped };
  }
}
