import { isAbsoluteHttpUrl } from '../http/urls';

export type BookingMode = 'resident' | 'kcc';
export type PhoneField = 'off' | 'optional' | 'required';

/** What an idv-book-appointment node is configured with, checked. */
export interface BookingPageConfig {
  mode: BookingMode;
  /** Where the pages live under httpNodeRoot, e.g. /afspraak. */
  path: string;
  /** The resident booking path, for cancel links of bookings made in KCC mode (whose own path needs a sign-in). */
  residentPath: string;
  topics: string[];
  phone: PhoneField;
  privacyUrl?: string;
  /** Origins (scheme://host[:port]) whose scripts may call the JSON API. Empty: CORS off. */
  corsOrigins: string[];
  /** CSP frame-ancestors for embedding the form; undefined: the runtime default. */
  frameAncestors?: string;
  /** Booking attempts per client address (KCC: per employee) per 10 minutes. */
  limitPerIp: number;
  /** Booking attempts per e-mail address per hour (resident mode). */
  limitPerEmail: number;
}

// Paths that belong to the runtime or other nodes: a booking form there would shadow them.
const RESERVED = ['/admin', '/idv', '/login', '/logout', '/healthz', '/readyz', '/metrics', '/ws', '/v', '/auth', '/agent'];
const PATH_RE = /^(?:\/[a-z0-9][a-z0-9-]{0,40}){1,4}$/;
const ORIGIN_RE = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/;
const ANCESTOR_RE = /^(?:'self'|'none'|https:\/\/(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?|http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?)$/;
const UNSAFE_TEXT_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069<>]/u;

function list(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((v) => (typeof v === 'string' ? v.trim() : '\u0000'));
  if (typeof raw === 'string') return raw.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
  return [];
}

function checkPath(value: unknown, what: string, errors: string[]): string {
  const p = typeof value === 'string' ? value.trim().replace(/\/+$/, '') : '';
  if (!PATH_RE.test(p)) {
    errors.push(`${what}: a path such as /afspraak (lower-case letters, digits and -, at most 4 parts)`);
    return p;
  }
  if (RESERVED.some((r) => p === r || p.startsWith(`${r}/`))) errors.push(`${what}: ${p} is used by ID Video itself`);
  return p;
}

function int(value: unknown, fallback: number, what: string, min: number, max: number, errors: string[]): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) errors.push(`${what}: a whole number from ${min} to ${max}`);
  return n;
}

/** Checks the node's properties; every problem is named so the node's status and log can show them. */
export function validateBookingPageConfig(def: Record<string, unknown>): { ok: true; config: BookingPageConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const mode: BookingMode = def.mode === 'kcc' ? 'kcc' : 'resident';
  if (def.mode !== undefined && def.mode !== 'kcc' && def.mode !== 'resident' && def.mode !== '') errors.push('mode: resident or kcc');
  const path = checkPath(def.path || (mode === 'kcc' ? '/kcc/afspraak' : '/afspraak'), 'path', errors);
  const residentPath = mode === 'kcc' ? checkPath(def.residentPath || '/afspraak', 'residentPath', errors) : path;

  const topics = list(def.topics);
  if (topics.length > 50) errors.push('topics: at most 50');
  topics.forEach((t, i) => {
    if (t === '' || [...t].length > 80 || UNSAFE_TEXT_RE.test(t)) errors.push(`topics[${i}]: 1 to 80 characters, no < > or control characters`);
  });
  if (new Set(topics).size !== topics.length) errors.push('topics: listed twice');

  const phone = (def.phone || 'optional') as PhoneField;
  if (!['off', 'optional', 'required'].includes(phone)) errors.push('phone: off, optional or required');

  const privacyUrl = typeof def.privacyUrl === 'string' && def.privacyUrl.trim() ? def.privacyUrl.trim() : undefined;
  if (privacyUrl && !isAbsoluteHttpUrl(privacyUrl)) errors.push('privacyUrl: an http(s) URL');

  const corsOrigins = list(def.corsOrigins).map((o) => o.toLowerCase().replace(/\/$/, ''));
  corsOrigins.forEach((o) => {
    if (!ORIGIN_RE.test(o)) errors.push(`corsOrigins: "${o.slice(0, 80)}" is not an origin such as https://www.gemeente.nl`);
  });
  if (mode === 'kcc' && corsOrigins.length) errors.push('corsOrigins: the KCC mode is for signed-in staff only and has no CORS');

  const ancestors = typeof def.frameAncestors === 'string' ? def.frameAncestors.trim() : '';
  if (ancestors && !ancestors.split(/\s+/).every((a) => ANCESTOR_RE.test(a))) {
    errors.push("frameAncestors: 'self', 'none' or https origins separated by spaces");
  }

  const limitPerIp = int(def.limitPerIp, 20, 'limitPerIp', 1, 100_000, errors);
  const limitPerEmail = int(def.limitPerEmail, 5, 'limitPerEmail', 1, 100_000, errors);

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: {
      mode,
      path,
      residentPath,
      topics,
      phone,
      privacyUrl,
      corsOrigins,
      frameAncestors: mode === 'kcc' ? "'none'" : ancestors || undefined,
      limitPerIp,
      limitPerEmail,
    },
  };
}
