import type { Appointment, AppointmentStore } from '../appointments/store';
import type { ProcessingLogEntry } from '../attributes/processing-log';
import { UserError } from '../errors';
import type { LinkService } from '../links';
import type { Outbox } from '../mail/outbox';
import { normalizeEmail } from '../mail/sanitize';
import type { MailLang } from '../mail/templates';
import { toPublicIso } from '../time';
import { mailServiceOf } from '../mail-service';
import type { Services } from '../services';
import { appointmentStoreOf, linkServiceOf } from './deps';
import { planGuestMail, type GuestMailSender } from './guest-mails';
import { GUEST_KINDS, type Guest, type GuestKind, type GuestStore } from './guest-store';

export { GUEST_KINDS, type Guest, type GuestKind } from './guest-store';
export { GUEST_LABEL } from './guest-mails';

/** Where the invitation points and who sends it (the idv-settings of the dashboard or KCC node). */
export interface GuestMailContext extends GuestMailSender {
  /** Minutes before the start and after the end that the guest's link works (as the resident's). */
  beforeMinutes?: number;
  afterMinutes?: number;
}

export interface GuestServiceOptions {
  /** The store's guests (services.store.guests). */
  store: GuestStore;
  appointments: Pick<AppointmentStore, 'get'>;
  links: Pick<LinkService, 'prepare' | 'revokeCallSessions'> & { revokeRole?(appointmentId: string, role: 'guest'): Promise<number> };
  outbox: Pick<Outbox, 'prepare' | 'kick'>;
  record(entry: ProcessingLogEntry): Promise<unknown>;
  now?: () => Date;
}

/**
 * The third participant of a call (issue 13.4): an interpreter, a sign-language interpreter or a family member,
 * invited by the agent (or the KCC) for one appointment. One guest per appointment (a new invitation replaces the
 * previous one and its link). What is stored: the kind of guest, who invited and when (call_guests, migration 009);
 * the guest link's hash (access_links, role 'guest'); the invitation mail in the outbox until it is sent; the address
 * and the mail's language (migration 017) so a cancellation or a move tells the guest too (the hand-off plans those
 * mails, lib/access/handoff.ts), blanked when the guest is removed and by retention. Never the guest's name; the
 * address never in an answer, a Node-RED message or a log line.
 *
 * The invitation is one transaction: guest row, link and mail commit together or not at all, so nothing confirmed to
 * the agent can be lost (the outbox delivers durably, with retries, across restarts): the change and its effect are
 * one commit, so no event row has to carry it over (HACKING.md, "Durable hand-off").
 */
export class GuestService {
  private context: GuestMailContext | undefined;
  private readonly now: () => Date;

  constructor(private readonly o: GuestServiceOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Sender and link base, from the dashboard node's idv-settings. */
  configure(context: GuestMailContext): void {
    this.context = context;
  }

  /** The appointment's guest (also a removed one, with removedAt), or undefined. */
  get(appointmentId: string): Promise<Guest | undefined> {
    return this.o.store.get(appointmentId);
  }

  /**
   * Invites a guest of `kind` at `email` to the booked `appointment`, by `by` (agent or KCC username). Throws
   * UserError 400 for a bad kind or address, 409 for an appointment that is over or cancelled, 503 when no sender is
   * configured. Returns the guest; the mail is queued (never its address in the answer or a log).
   */
  async invite(appointment: Appointment, by: string, kindRaw: unknown, emailRaw: unknown, langRaw: unknown): Promise<Guest> {
    const kind = GUEST_KINDS.includes(kindRaw as GuestKind) ? (kindRaw as GuestKind) : undefined;
    if (!kind) throw new UserError(400, 'guest_kind', 'Kies wie u uitnodigt. / Choose whom you invite.');
    let email: string;
    try {
      email = normalizeEmail(typeof emailRaw === 'string' ? emailRaw.trim() : '', 'guest');
    } catch {
      throw new UserError(400, 'guest_email', 'Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl. / Enter a valid e-mail address.');
    }
    if (email.length > 254) throw new UserError(400, 'guest_email', 'Vul een geldig e-mailadres in. / Enter a valid e-mail address.');
    const lang: MailLang = langRaw === 'en' ? 'en' : 'nl';
    const ctx = this.context;
    if (!ctx) throw new UserError(503, 'guest_unavailable', 'Uitnodigen kan nu niet: er is geen afzender ingesteld. / Inviting is not possible: no sender is set up.');
    const now = this.now();
    const start = Date.parse(appointment.startUtc);
    const end = Date.parse(appointment.endUtc);
    const before = (ctx.beforeMinutes ?? 30) * 60_000;
    const after = (ctx.afterMinutes ?? 60) * 60_000;
    if (appointment.status !== 'booked' || end + after <= now.getTime()) {
      throw new UserError(409, 'appointment_over', 'Deze afspraak is voorbij of geannuleerd. / This appointment is over or cancelled.');
    }
    const { mail: record, link } = planGuestMail(this.o, ctx, {
      kind: 'guest-invitation',
      appointmentId: appointment.id,
      guestKind: kind,
      contact: { email, lang },
      start: toPublicIso(appointment.startUtc),
      end: toPublicIso(appointment.endUtc),
      window: { validFrom: new Date(start - before).toISOString(), validUntil: new Date(end + after).toISOString() },
    });
    if (!link) throw new Error('an invitation always carries a link');
    const invitedAt = now.toISOString();
    await this.o.store.invite({ appointmentId: appointment.id, kind, invitedBy: by.toLowerCase(), invitedAt }, { email, lang }, link, record);
    void this.o.outbox.kick();
    await this.o.record({ appointmentId: appointment.id, actor: by.toLowerCase(), action: 'guest_invited', detail: kind });
    return { appointmentId: appointment.id, kind, invitedBy: by.toLowerCase(), invitedAt, removedAt: null };
  }

  /** The agent removes the guest: the link and the guest's sessions stop working at once. False when there was none. */
  async remove(appointmentId: string, by: string): Promise<boolean> {
    const g = await this.get(appointmentId);
    if (!g || g.removedAt) return false;
    if (!(await this.o.store.remove(appointmentId, this.now().toISOString()))) return false;
    await this.o.record({ appointmentId, actor: by.toLowerCase(), action: 'guest_removed', detail: g.kind });
    return true;
  }
}

/**
 * A GuestService on the runtime's store, links and mail outbox: the call service's (agent) and the KCC booking
 * node's (each configured with its own node's idv-settings) are made here, so both invite the same way.
 */
export function guestServiceFor(services: Services, record: (entry: ProcessingLogEntry) => Promise<unknown>): GuestService {
  return new GuestService({ store: services.store.guests, appointments: appointmentStoreOf(services), links: linkServiceOf(services), outbox: mailServiceOf(services).outbox, record });
}
