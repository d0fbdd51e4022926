import { UserError } from '../errors';
import { parseDutchMobile } from '../sms/phone';
import { typedLine, typedLines } from '../text/typed-text';
import { parseClockMinutes, parseLocalDate } from './calendar';
import { messageFor } from './messages';
import { amsterdamOffsetMinutes, wallTimeToUtcMs } from './public-time';

/** A validated booking request. The grid, notice and availability checks happen in the booking service. */
export interface BookingInput {
  /** UTC ISO (2026-12-01T08:30:00.000Z). */
  start: string;
  name: string;
  email: string;
  topic: string;
  phone?: string;
  remarks?: string;
  /** The resident asked for SMS; `phone` then holds a Dutch mobile number in E.164 (+316…). */
  sms?: true;
}

export interface BookingInputOptions {
  /** Allowed topics; a missing topic becomes the first. An empty list means topics are not used (topic ''). */
  topics: readonly string[];
  askPhone?: boolean;
  requirePhone?: boolean;
  /** Offer SMS (an SMS gateway is configured): the field `sms` (a checkbox) asks for it, with a Dutch mobile number. */
  offerSms?: boolean;
  /** Extra field names the caller handles itself (e.g. a CSRF token), accepted and ignored here. */
  extraFields?: readonly string[];
}

const KNOWN_FIELDS = ['start', 'date', 'time', 'name', 'email', 'topic', 'phone', 'remarks', 'sms'];
/** What a checked box or a JSON client sends for "yes"; an unchecked box sends nothing. */
const YES = new Set(['ja', 'yes', 'on', 'true', '1']);
const NO = new Set(['', 'nee', 'no', 'off', 'false', '0']);
const MAX_FIELDS = 30;

const START_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;
// Control characters (C0, DEL, C1) and the bidi embeddings/overrides/isolates that can disguise text.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/u;
const CONTROL_EXCEPT_NEWLINE_TAB_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;
const BIDI_RE = /[\u202a-\u202e\u2066-\u2069]/u;
const EMAIL_LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const EMAIL_LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PHONE_CHARS_RE = /^\+?[0-9 ()./-]+$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function codePoints(s: string): number {
  return [...s].length;
}

/** Start as ISO 8601 with Amsterdam's offset at that instant (an API client echoing a slot from /slots). */
function parseStart(value: string): string | { error: string } {
  const m = START_RE.exec(value);
  if (!m) return { error: 'start.invalid' };
  const date = parseLocalDate(m[1]);
  const clock = parseClockMinutes(m[2]);
  const seconds = m[3] === undefined ? 0 : Number(m[3]);
  if (!date || clock === null || seconds > 59) return { error: 'start.invalid' };
  const millis = m[4] === undefined ? 0 : Number(m[4].padEnd(3, '0'));
  let offset = 0;
  if (m[5] !== 'Z') {
    const sign = m[5][0] === '-' ? -1 : 1;
    const oh = Number(m[5].slice(1, 3));
    const om = Number(m[5].slice(4, 6));
    if (oh > 14 || om > 59) return { error: 'start.invalid' };
    offset = sign * (oh * 60 + om);
  }
  const utcMs =
    Date.UTC(date.year, date.month - 1, date.day, Math.floor(clock / 60), clock % 60, seconds, millis) - offset * 60_000;
  // The offset must be the one Amsterdam really had then: anything else is a client computing in another zone.
  if (amsterdamOffsetMinutes(utcMs) !== offset) return { error: 'start.offset' };
  return new Date(utcMs).toISOString();
}

/** Start as separate local date and time fields (an HTML form). */
function parseDateTime(dateValue: string, timeValue: string, fields: Record<string, string>): string | null {
  const date = parseLocalDate(dateValue);
  const clock = parseClockMinutes(timeValue);
  if (!date) fields.date = 'date.invalid';
  if (clock === null) fields.time = 'time.invalid';
  if (!date || clock === null) return null;
  const ms = wallTimeToUtcMs(date, clock);
  if (ms === null) {
    fields.time = 'start.nonexistent';
    return null;
  }
  return new Date(ms).toISOString();
}

function parseEmail(raw: string): string | { error: string } {
  if (/[\r\n]/.test(raw)) return { error: 'email.invalid' };
  const value = raw.trim();
  if (value === '') return { error: 'email.required' };
  if (value.length > 254) return { error: 'email.too_long' };
  if (/[,;\s]/.test(value) || (value.match(/@/g) ?? []).length > 1) return { error: 'email.multiple' };
  // Quoted local parts, display names and angle brackets are legal in RFC 5322 but only ever used to smuggle.
  if (/["<>()[\]\\]/.test(value)) return { error: 'email.invalid' };
  const at = value.lastIndexOf('@');
  if (at < 1) return { error: 'email.invalid' };
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  if (local.length > 64 || !EMAIL_LOCAL_RE.test(local)) return { error: 'email.invalid' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => EMAIL_LABEL_RE.test(l))) return { error: 'email.invalid' };
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(labels[labels.length - 1])) return { error: 'email.invalid' };
  return `${local}@${domain}`;
}

/**
 * Control characters and bidi overrides in a name are refused (a person sees what was wrong); invisible marks,
 * zero-width spaces and line separators, which come along unseen when a name is pasted, are cleaned by the
 * typed-text rule (lib/text/typed-text.ts) — the same rule every page and mail applies when it shows the name.
 */
function parseName(raw: string): string | { error: string } {
  const trimmed = raw.normalize('NFC').trim();
  if (trimmed === '') return { error: 'name.required' };
  if (CONTROL_RE.test(trimmed) || BIDI_RE.test(trimmed)) return { error: 'name.invalid_chars' };
  const value = typedLine(trimmed, 1000);
  if (value === '') return { error: 'name.required' };
  if (codePoints(value) > 100) return { error: 'name.too_long' };
  return value;
}

function parseRemarks(raw: string): string | undefined | { error: string } {
  const value = raw.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (value === '') return undefined;
  if (CONTROL_EXCEPT_NEWLINE_TAB_RE.test(value) || BIDI_RE.test(value)) return { error: 'remarks.invalid_chars' };
  const clean = typedLines(value, 5000);
  if (clean === '') return undefined;
  if (codePoints(clean) > 1000) return { error: 'remarks.too_long' };
  return clean;
}

/** A plausible phone number: digits with the usual separators, an optional leading +, 8 to 15 digits. */
function parsePhone(raw: string, required: boolean): string | undefined | { error: string } {
  const value = raw.trim().replace(/\s+/g, ' ');
  if (value === '') return required ? { error: 'phone.required' } : undefined;
  if (value.length > 25 || !PHONE_CHARS_RE.test(value)) return { error: 'phone.invalid' };
  const digits = value.replace(/\D/g, '');
  if (digits.length < 8 || digits.length > 15) return { error: 'phone.invalid' };
  return value;
}

/**
 * Validates a booking request body (JSON or form fields, all strings). The start comes either as `start` (ISO 8601
 * with Amsterdam's offset) or as `date` (YYYY-MM-DD) + `time` (HH:mm, Amsterdam wall clock).
 * Throws UserError(400, 'invalid_input', text, fields) where fields maps field name -> code (see messages.ts);
 * nothing is partly accepted.
 */
export function parseBookingInput(body: unknown, options: BookingInputOptions): BookingInput {
  const fail = (fields: Record<string, string>): never => {
    throw new UserError(400, 'invalid_input', messageFor('invalid_input', 'nl'), fields);
  };
  if (!isRecord(body)) return fail({ body: 'body.invalid' });
  const keys = Object.keys(body);
  if (keys.length > MAX_FIELDS) return fail({ body: 'body.invalid' });

  const fields: Record<string, string> = {};
  const allowed = new Set([...KNOWN_FIELDS, ...(options.extraFields ?? [])]);
  const text: Record<string, string> = {};
  for (const key of keys) {
    if (!allowed.has(key)) {
      // Hostile keys are not echoed back verbatim.
      const safeName = /^[A-Za-z0-9_.-]{1,64}$/.test(key) && !['__proto__', 'constructor', 'prototype'].includes(key);
      if (safeName) fields[key] = 'field.unknown';
      else fields.body = 'body.invalid';
      continue;
    }
    const v = body[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      fields[key] = 'field.not_text';
      continue;
    }
    // Ten times the longest field: anything bigger is not a typo, and we do not run regexes over it.
    if (v.length > 10_000) {
      fields[key] = key === 'remarks' ? 'remarks.too_long' : key === 'name' ? 'name.too_long' : 'field.not_text';
      continue;
    }
    text[key] = v;
  }

  let start: string | undefined;
  const hasStart = (text.start ?? '') !== '';
  const hasDateTime = (text.date ?? '') !== '' || (text.time ?? '') !== '';
  if (hasStart && hasDateTime) fields.start = 'start.ambiguous';
  else if (hasStart) {
    const r = parseStart(text.start);
    if (typeof r === 'string') start = r;
    else fields.start = r.error;
  } else if (hasDateTime) {
    if ((text.date ?? '') === '') fields.date = 'date.invalid';
    // Nothing chosen is a different problem from a time that does not exist, and is said so.
    else if ((text.time ?? '') === '') fields.time = 'time.required';
    else start = parseDateTime(text.date, text.time, fields) ?? undefined;
  } else if (!fields.start && !fields.date && !fields.time) fields.start = 'start.required';

  let name: string | undefined;
  if (!fields.name) {
    const r = parseName(text.name ?? '');
    if (typeof r === 'string') name = r;
    else fields.name = r.error;
  }

  let email: string | undefined;
  if (!fields.email) {
    const r = parseEmail(text.email ?? '');
    if (typeof r === 'string') email = r;
    else fields.email = r.error;
  }

  let phone: string | undefined;
  let sms = false;
  const smsText = (text.sms ?? '').trim().toLowerCase();
  if (!fields.sms && smsText !== '') {
    if (!options.offerSms) fields.sms = 'field.unknown';
    else if (YES.has(smsText)) sms = true;
    else if (!NO.has(smsText)) fields.sms = 'sms.invalid';
  }
  if (!fields.phone && !fields.sms) {
    if (sms) {
      // SMS goes to Dutch mobile numbers only: the number is checked and stored as E.164.
      const r = parseDutchMobile(text.phone ?? '');
      if ((text.phone ?? '').trim() === '') fields.phone = 'phone.required_for_sms';
      else if (!r.ok) fields.phone = r.problem === 'invalid' ? 'phone.invalid' : `phone.${r.problem}`;
      else phone = r.e164;
    } else if (!options.askPhone) {
      // The field is on the form only for SMS: without the box ticked, a typed number is not kept.
      if ((text.phone ?? '').trim() !== '' && !options.offerSms) fields.phone = 'field.unknown';
    } else {
      const r = parsePhone(text.phone ?? '', options.requirePhone === true);
      if (typeof r === 'object') fields.phone = r.error;
      else phone = r;
    }
  }

  let remarks: string | undefined;
  if (!fields.remarks) {
    const r = parseRemarks(text.remarks ?? '');
    if (typeof r === 'object') fields.remarks = r.error;
    else remarks = r;
  }

  let topic: string | undefined;
  if (!fields.topic) {
    const raw = (text.topic ?? '').trim();
    if (raw === '') topic = options.topics[0] ?? '';
    else if (options.topics.includes(raw)) topic = raw;
    else fields.topic = 'topic.unknown';
  }

  if (Object.keys(fields).length > 0 || !start || !name || !email || topic === undefined) return fail(fields);
  const input: BookingInput = { start, name, email, topic };
  if (phone !== undefined) input.phone = phone;
  if (sms && phone !== undefined) input.sms = true;
  if (remarks !== undefined) input.remarks = remarks;
  return input;
}
