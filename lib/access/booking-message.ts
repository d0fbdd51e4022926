import { UserError } from '../errors';
import { EVENT_ID } from '../events/types';
import { toDateTime } from '../links/window';
import { isEmailAddress, isHttpUrl, normalizeEmail } from '../mail/sanitize';
import type { MailLang } from '../mail/when';

/**
 * What idv-session-link takes from a booking message that another flow built (a CRM, another booking system): the
 * validated, normalised part of the message. Nothing in it is trusted until parsed here. Messages from
 * idv-book-appointment carry msg.eventId instead (parseEventId); their content is read from the store.
 */
export interface AppointmentNotice {
  event: 'booked' | 'cancelled';
  appointment: {
    id: string;
    /** ISO 8601 with offset, as the message carries it. */
    start: string;
    end: string;
    topic: string;
    /** The agent's staff username. */
    agent: string;
  };
  /**
   * `sms`: the resident asked for SMS on `phone` (E.164). Only a stored appointment carries it (lib/access/handoff.ts);
   * a foreign message never switches SMS on.
   */
  resident: { name: string; email: string; remarks?: string; lang: MailLang; phone?: string; sms?: true };
  /** The resident's cancel link (booked only). */
  cancelLink?: string;
}

// Appointment ids become part of invite UIDs and URLs: the booking service makes 22-character base64url ids.
const ID = /^[A-Za-z0-9._~-]{1,200}$/;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/; // as idv-schedule allows

function bad(path: string, rule: string): never {
  // The message names the field and the rule, never the value: it ends up in the flow's debug and logs.
  throw new UserError(400, 'invalid_message', `${path} ${rule}`);
}

function obj(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(path, 'must be an object');
  return value as Record<string, unknown>;
}

function text(value: unknown, path: string, max: number, required = true): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) bad(path, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') bad(path, 'must be a string');
  if (value.length > max) bad(path, `must be at most ${max} characters`);
  return value;
}

function instant(value: unknown, path: string): string {
  if (typeof value !== 'string') bad(path, 'must be an ISO 8601 time with offset');
  try {
    toDateTime(value, path);
  } catch {
    bad(path, 'must be an ISO 8601 time with offset');
  }
  return value;
}

/** Validates a booking message; throws a 400 UserError naming the first bad field. Nothing is changed by reading. */
export function parseBookingMessage(msg: Record<string, unknown>): AppointmentNotice {
  const event = msg.event;
  if (event !== 'booked' && event !== 'cancelled') bad('msg.event', "must be 'booked' or 'cancelled'");
  const a = obj(msg.appointment, 'msg.appointment');
  const id = text(a.id, 'msg.appointment.id', 200)!;
  if (!ID.test(id)) bad('msg.appointment.id', 'must be 1-200 characters of A-Z a-z 0-9 . _ ~ -');
  const start = instant(a.start, 'msg.appointment.start');
  const end = instant(a.end, 'msg.appointment.end');
  if (toDateTime(end, 'end') <= toDateTime(start, 'start')) bad('msg.appointment.end', 'must be after the start');
  const topic = text(a.topic, 'msg.appointment.topic', 200)!;
  const agent = text(a.agent, 'msg.appointment.agent', 64)!;
  if (!USERNAME.test(agent)) bad('msg.appointment.agent', 'must be a staff username');
  const r = obj(msg.resident, 'msg.resident');
  const name = text(r.name, 'msg.resident.name', 200)!;
  const rawEmail = text(r.email, 'msg.resident.email', 254)!;
  if (!isEmailAddress(rawEmail.trim())) bad('msg.resident.email', 'must be one valid e-mail address');
  const remarks = text(r.remarks, 'msg.resident.remarks', 2000, false);
  const lang = r.lang === undefined || r.lang === null || r.lang === '' ? 'nl' : r.lang;
  if (lang !== 'nl' && lang !== 'en') bad('msg.resident.lang', "must be 'nl' or 'en'");
  let cancelLink: string | undefined;
  if (msg.links !== undefined && msg.links !== null) {
    const l = obj(msg.links, 'msg.links');
    if (l.cancel !== undefined && l.cancel !== null && l.cancel !== '') {
      if (!isHttpUrl(l.cancel)) bad('msg.links.cancel', 'must be an absolute http(s) URL');
      cancelLink = l.cancel;
    }
  }
  return {
    event,
    appointment: { id, start, end, topic, agent },
    resident: { name, email: normalizeEmail(rawEmail, 'msg.resident.email'), ...(remarks ? { remarks } : {}), lang },
    ...(cancelLink ? { cancelLink } : {}),
  };
}

/**
 * The event id of a message from idv-book-appointment (lib/events/message.ts), or undefined for a message another
 * flow built. A present but malformed id is refused (400), never guessed at.
 */
export function parseEventId(msg: Record<string, unknown>): string | undefined {
  const id = msg.eventId;
  if (id === undefined || id === null || id === '') return undefined;
  if (typeof id !== 'string' || !EVENT_ID.test(id)) bad('msg.eventId', 'must be the event id idv-book-appointment sent (22 characters)');
  return id;
}
