import type { Appointment, AppointmentStore } from '../appointments/store';
import type { ProcessingLogEntry } from '../attributes/processing-log';
import { UserError } from '../errors';
import type { LinkService } from '../links';
import { composeAppointmentMail } from '../mail/compose';
import type { Outbox } from '../mail/outbox';
import { normalizeEmail } from '../mail/sanitize';
import type { MailLang, MailTemplate } from '../mail/templates';
import { toPublicIso } from '../time';
import { GUEST_KINDS, type Guest, type GuestKind, type GuestStore } from './guest-store';

export { GUEST_KINDS, type Guest, type GuestKind } from './guest-store';

/**
 * The third participant of a call (issue 13.4): an interpreter, a sign-language interpreter or a family member,
 * invited by the agent (or the KCC) for one appointment. One guest per appointment (a new invitation replaces the
 * previous one and its link). What is stored: the kind of guest, who invited and when (call_guests, migration 009);
 * the guest link's hash (access_links, role 'guest'); the invitation mail in the outbox until it is sent. Never the
 * guest's name; the address only in that mail.
 *
 * The invitation is one transaction: guest row, link and mail commit together or not at all, so nothing confirmed to
 * the agent can be lost (the outbox delivers durably, with retries, across restarts): the change and its effect are
 * one commit, so no event row has to carry it over (HACKING.md, "Durable hand-off").
 */
export const GUEST_LABEL: Record<MailLang, Record<GuestKind, string>> = {
  nl: { interpreter: 'tolk', sign_language_interpreter: 'gebarentolk', family_member: 'familielid', other: 'derde deelnemer' },
  en: { interpreter: 'interpreter', sign_language_interpreter: 'sign-language interpreter', family_member: 'family member', other: 'third participant' },
};

/** Where the invitation points and who sends it (the idv-settings of the dashboard node). */
export interface GuestMailContext {
  base: string;
  host: string;
  municipality: string;
  fromAddress: string;
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

const TEMPLATES: Record<MailLang, MailTemplate> = {
  nl: {
    subject: 'Uitnodiging: video-afspraak van {{municipality}} op {{date}} om {{time}}',
    text: `Goedendag,

U bent uitgenodigd om als {{name}} deel te nemen aan een video-afspraak van {{municipality}}.

Datum: {{date}}
Tijd: {{time}} tot {{endTime}}

Via deze link neemt u deel:
{{link}}
De link werkt vanaf {{opensAt}} uur. U controleert eerst uw camera en microfoon; daarna laat de medewerker u toe tot het gesprek. Deel de link met niemand.

Privacy: het gesprek wordt niet opgenomen. U ziet geen gegevens waarmee de inwoner zich identificeert en geen documenten die de inwoner deelt.

Met vriendelijke groet,
{{municipality}}`,
  },
  en: {
    subject: 'Invitation: video appointment of {{municipality}} on {{date}} at {{time}}',
    text: `Hello,

You are invited to take part as {{name}} in a video appointment of {{municipality}}.

Date: {{date}}
Time: {{time}} to {{endTime}}

Join through this link:
{{link}}
The link works from {{opensAt}}. You first check your camera and microphone; then the employee lets you into the call. Do not share the link.

Privacy: the call is not recorded. You do not see the data the resident identifies with, nor documents the resident shares.

Kind regards,
{{municipality}}`,
  },
};

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
    const { token, link } = this.o.links.prepare({
      appointmentId: appointment.id,
      role: 'guest',
      validFrom: new Date(start - before).toISOString(),
      validUntil: new Date(end + after).toISOString(),
    });
    const mail = composeAppointmentMail({
      kind: 'resident-confirmation',
      lang,
      appointmentId: appointment.id,
      host: ctx.host,
      recipient: { name: GUEST_LABEL[lang][kind], email },
      sender: { name: ctx.municipality, email: ctx.fromAddress },
      data: { topic: '', municipality: ctx.municipality, start: toPublicIso(appointment.startUtc), end: toPublicIso(appointment.endUtc), opensAt: new Date(start - before).toISOString(), link: `${ctx.base}/v/${token}` },
      template: TEMPLATES[lang],
    });
    const record = this.o.outbox.prepare({ ...mail, kind: 'guest-invitation' });
    const invitedAt = now.toISOString();
    await this.o.store.invite({ appointmentId: appointment.id, kind, invitedBy: by.toLowerCase(), invitedAt }, link, record);
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
