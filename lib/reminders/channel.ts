import type { Effects } from '../events/types';
import { composeAppointmentMail } from '../mail/compose';
import type { Outbox } from '../mail/outbox';
import type { MailLang, MailTemplate } from '../mail/templates';
import type { ReminderMoment } from './schedule';

/** What every reminder channel gets to plan one appointment's reminders. Links are secrets: only into messages. */
export interface ReminderInput {
  appointmentId: string;
  lang: MailLang;
  resident: { name: string; email: string; phone?: string | null };
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
export type ReminderEffects = Pick<Effects, 'mails'>;

/**
 * A way of reminding a resident (e-mail now; SMS plugs in here). A channel plans rows that a durable worker sends
 * at their moment under a lease — the mail outbox for e-mail — and that carry `notAfter` = the start, so the
 * appointment's cancellation or move deletes them in its own transaction (lib/store/sqlite/appointments.ts) and a
 * reminder whose moment passed while nothing could send it is dropped, never sent late. A channel returns nothing
 * when it cannot reach the resident (no address, no opt-in). An SMS channel adds its own row kind to `Effects`
 * and the same two rules to its store.
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
