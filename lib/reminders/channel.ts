import type { Effects } from '../events/types';
import { composeAppointmentMail } from '../mail/compose';
import type { Outbox } from '../mail/outbox';
import type { MailLang, MailTemplate } from '../mail/templates';
import type { SmsOutbox } from '../sms/outbox';
import { composeSms } from '../sms/texts';
import type { ReminderMoment } from './schedule';

/** What every reminder channel gets to plan one appointment's reminders. Links are secrets: only into messages. */
export interface ReminderInput {
  appointmentId: string;
  lang: MailLang;
  /** `phone` is E.164 and `sms` true only when the resident opted in to SMS (migration 013). */
  resident: { name: string; email: string; phone?: string | null; sms?: boolean };
  /** ISO 8601 with offset. */
  start: string;
  end: string;
  /** When the access link opens (ISO 8601). */
  opensAt: string;
  topic: string;
  municipality: string;
  /** Host for ids (invite UID, Message-ID). */
  host: string;
  sender: { name: string; email: string };
  links: { access: string; cancel?: string; reschedule?: string };
  /** The moments still ahead (lib/reminders/schedule.ts reminderMoments). */
  moments: readonly ReminderMoment[];
}

/** The part of an event's effects a reminder channel adds (stored with the event's done, in one transaction). */
export type ReminderEffects = Pick<Effects, 'mails' | 'sms'>;

/**
 * A way of reminding a resident (e-mail now; SMS plugs in here). A channel plans rows that a durable worker sends
 * at their moment under a lease — the mail outbox for e-mail — and that carry `notAfter` = the start, so the
 * appointment's cancellation or move deletes them in its own transaction (lib/store/sqlite/appointments.ts) and a
 * reminder whose moment passed while nothing could send it is dropped, never sent late. A channel returns nothing
 * when it cannot reach the resident (no address, no opt-in). The SMS channel (`smsReminders`) does the same with
 * sms_outbox rows (`not_after`, migration 015).
 */
export interface ReminderChannel {
  readonly name: string;
  plan(input: ReminderInput): ReminderEffects;
}

/** Reminders by e-mail: one outbox row per moment, sendAt = the moment, notAfter = the start. No invite attached. */
export function emailReminders(outbox: Pick<Outbox, 'prepare'>, template?: (lang: MailLang) => Partial<MailTemplate> | undefined): ReminderChannel {
  return {
    name: 'email',
    plan(input) {
      if (input.resident.email === '' || input.moments.length === 0) return {};
      const mails = input.moments.map((m) => {
        const mail = composeAppointmentMail({
          kind: 'resident-reminder',
          lang: input.lang,
          appointmentId: input.appointmentId,
          host: input.host,
          recipient: { name: input.resident.name, email: input.resident.email },
          sender: input.sender,
          data: {
            topic: input.topic,
            municipality: input.municipality,
            start: input.start,
            end: input.end,
            opensAt: input.opensAt,
            link: input.links.access,
            ...(input.links.cancel ? { cancelLink: input.links.cancel } : {}),
            ...(input.links.reschedule ? { rescheduleLink: input.links.reschedule } : {}),
          },
          template: template?.(input.lang),
          // The invite in the confirmation stays the calendar's record; a reminder does not touch it.
          invite: false,
        });
        return outbox.prepare({ ...mail, sendAt: m.sendAt, notAfter: new Date(Date.parse(input.start)).toISOString() });
      });
      return { mails };
    },
  };
}

/**
 * Reminders by SMS (issue 14): one sms_outbox row per moment for a resident who opted in, sendAt = the moment,
 * notAfter = the start, text 'sms-reminder' (lib/sms/texts.ts; the administrator's own text first when given) with
 * the access link only: a cancel or change link would not fit one segment. `gateway` is the idv-sms-gateway config
 * node id. The row goes through the same queue rules as a mail reminder: deleted by a cancellation or a move in its
 * transaction (lib/store/{sqlite,postgres}/appointments.ts), dropped unsent after the start.
 */
export function smsReminders(outbox: Pick<SmsOutbox, 'prepare'>, gateway: string, own?: (lang: MailLang) => string | undefined): ReminderChannel {
  return {
    name: 'sms',
    plan(input) {
      const phone = input.resident.phone;
      if (!input.resident.sms || !phone || input.moments.length === 0) return {};
      const notAfter = new Date(Date.parse(input.start)).toISOString();
      const text = composeSms('sms-reminder', input.lang, { municipality: input.municipality, start: input.start, link: input.links.access }, own?.(input.lang)).text;
      const sms = input.moments.map((m) =>
        outbox.prepare({ kind: 'sms-reminder', appointmentId: input.appointmentId, gateway, to: phone, text, sendAt: m.sendAt, notAfter }),
      );
      return { sms };
    },
  };
}
