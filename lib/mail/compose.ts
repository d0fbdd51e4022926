import { buildIcs } from './ics';
import type { OutgoingMail } from './outbox';
import { headerSafe, normalizeEmail } from './sanitize';
import { renderMail, type MailData, type MailKind, type MailLang, type MailTemplate } from './templates';

export interface ComposeOptions {
  kind: MailKind;
  lang: MailLang;
  appointmentId: string;
  /** Host for the invite UID (the public host), e.g. "video.gemeente.nl". */
  host: string;
  /** Who gets the mail (resident for resident-*, agent for agent-*). */
  recipient: { name: string; email: string };
  /** The municipality's sender, also ORGANIZER of the invite. */
  sender: { name: string; email: string };
  data: Omit<MailData, 'name'>;
  template?: Partial<MailTemplate>;
  /** Revision of the (last) REQUEST invite, default 0; a cancellation is sent with sequence + 1. */
  sequence?: number;
  /** Attach the .ics invite (default true). */
  invite?: boolean;
}

const CANCELLATION: ReadonlySet<MailKind> = new Set(['resident-cancellation', 'agent-cancellation']);

/**
 * Renders one appointment mail with its invite (REQUEST for confirmation/announcement, CANCEL for cancellations,
 * same UID) into an OutgoingMail for Outbox.enqueue.
 */
export function composeAppointmentMail(options: ComposeOptions): OutgoingMail {
  const to = normalizeEmail(options.recipient?.email, 'recipient');
  const from = normalizeEmail(options.sender?.email, 'sender');
  const data: MailData = { ...options.data, name: options.recipient.name };
  const rendered = renderMail({ kind: options.kind, lang: options.lang, data, template: options.template });
  const cancel = CANCELLATION.has(options.kind);
  const mail: OutgoingMail = {
    kind: options.kind,
    appointmentId: options.appointmentId,
    from: { name: options.sender.name, address: from },
    to: { name: options.recipient.name, address: to },
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
  };
  if (options.invite !== false) {
    const method = cancel ? 'CANCEL' : 'REQUEST';
    mail.ics = {
      method,
      content: buildIcs({
        method,
        appointmentId: options.appointmentId,
        host: options.host,
        start: data.start,
        end: data.end,
        summary: `${options.lang === 'nl' ? 'Video-afspraak' : 'Video appointment'} ${headerSafe(data.municipality, 120)}: ${headerSafe(data.topic, 150)}`,
        description: rendered.text,
        ...(!cancel && data.link ? { url: data.link } : {}),
        organizer: { name: options.sender.name, email: from },
        attendee: { name: options.recipient.name, email: to },
        ...(options.sequence !== undefined ? { sequence: cancel ? options.sequence + 1 : options.sequence } : {}),
      }),
    };
  }
  return mail;
}
