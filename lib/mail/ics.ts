import type { DateTime } from 'luxon';
import { toDateTime, type TimeInput } from '../links/window';
import { headerSafe, isEmailAddress, multilineSafe } from './sanitize';

/**
 * RFC 5545 invitations (iTIP REQUEST/CANCEL) for the appointment, written by hand: the format is small, and owning
 * the escaping and folding is what keeps resident-supplied text from adding properties to the invite.
 */

export interface IcsPerson {
  name: string;
  email: string;
}

export interface IcsOptions {
  method: 'REQUEST' | 'CANCEL';
  appointmentId: string;
  /** Host part of the UID (the public host of this installation), so UIDs are globally unique and stable. */
  host: string;
  start: TimeInput;
  end: TimeInput;
  summary: string;
  description?: string;
  /** The call link (LOCATION and URL), when the invite may carry it. */
  url?: string;
  organizer: IcsPerson;
  attendee: IcsPerson;
  /** Revision number; a CANCEL must be higher than the REQUEST it cancels. Default: 0 for REQUEST, 1 for CANCEL. */
  sequence?: number;
  /** DTSTAMP (default: now). */
  stamp?: TimeInput;
}

/** TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline; other controls dropped. */
export function escapeText(value: string): string {
  return multilineSafe(value, 4000)
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\n/g, '\\n');
}

/** A parameter value (CN): one line, no double quotes (they cannot be escaped in iCalendar), always quoted. */
export function quoteParam(value: string): string {
  const clean = headerSafe(value, 120).replace(/"/g, "'");
  return `"${clean}"`;
}

/** Folds a content line at 75 octets (RFC 5545 3.1) without splitting a UTF-8 sequence. */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  // The first line may hold 75 octets; continuation lines start with a space, leaving 74 for content.
  let limit = 75;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = ' ';
      octets = 1;
      limit = 75;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n');
}

function utcStamp(dt: DateTime): string {
  return dt.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
}

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Builds the invite; throws on bad input instead of writing a broken or injectable calendar. */
export function buildIcs(options: IcsOptions): string {
  if (options.method !== 'REQUEST' && options.method !== 'CANCEL') throw new Error("method must be 'REQUEST' or 'CANCEL'");
  if (typeof options.host !== 'string' || !HOST.test(options.host)) throw new Error('host must be a DNS name');
  if (typeof options.appointmentId !== 'string' || !/^[A-Za-z0-9._~-]{1,200}$/.test(options.appointmentId)) {
    throw new Error('appointmentId must be 1-200 characters of A-Z a-z 0-9 . _ ~ -');
  }
  if (!isEmailAddress(options.organizer?.email)) throw new Error('organizer e-mail is not valid');
  if (!isEmailAddress(options.attendee?.email)) throw new Error('attendee e-mail is not valid');
  const sequence = options.sequence ?? (options.method === 'CANCEL' ? 1 : 0);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 2147483647) throw new Error('sequence must be a non-negative integer');
  const start = toDateTime(options.start, 'start');
  const end = toDateTime(options.end, 'end');
  if (end <= start) throw new Error('end must be after start');
  const stamp = toDateTime(options.stamp ?? new Date(), 'stamp');
  if (options.url !== undefined && !/^https?:\/\/[^\s"<>\\]+$/.test(options.url)) throw new Error('url must be an http(s) URL');

  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//ID Video//ID Video//NL',
    'CALSCALE:GREGORIAN',
    `METHOD:${options.method}`,
    'BEGIN:VEVENT',
    `UID:${options.appointmentId}@${options.host.toLowerCase()}`,
    `DTSTAMP:${utcStamp(stamp)}`,
    `DTSTART:${utcStamp(start)}`,
    `DTEND:${utcStamp(end)}`,
    `SEQUENCE:${sequence}`,
    `STATUS:${options.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED'}`,
    `SUMMARY:${escapeText(headerSafe(options.summary, 200))}`,
  ];
  if (options.description) lines.push(`DESCRIPTION:${escapeText(options.description)}`);
  if (options.url && options.method === 'REQUEST') {
    lines.push(`LOCATION:${escapeText(options.url)}`, `URL:${options.url}`);
  }
  lines.push(
    `ORGANIZER;CN=${quoteParam(options.organizer.name)}:mailto:${options.organizer.email}`,
    `ATTENDEE;CN=${quoteParam(options.attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:${options.attendee.email}`,
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  );
  return lines.map(foldLine).join('\r\n') + '\r\n';
}
