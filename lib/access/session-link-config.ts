import { isEmailAddress } from '../mail/sanitize';
import { parseReminderHours } from '../reminders/schedule';
import { MAIL_KINDS, MAIL_LANGS, PLACEHOLDERS, renderMail, type MailKind, type MailLang } from '../mail/templates';

/** One administrator override: an empty or missing part falls back to the default text. */
export interface TemplateOverride {
  subject?: string;
  text?: string;
}
export type TemplateOverrides = Partial<Record<MailKind, Partial<Record<MailLang, TemplateOverride>>>>;

/** The idv-session-link node's settings, validated. */
export interface SessionLinkConfig {
  /** Minutes before the start that links open. */
  beforeMinutes: number;
  /** Minutes after the end that links keep working. */
  afterMinutes: number;
  sendResident: boolean;
  sendAgent: boolean;
  /** Staff username (lower case) -> e-mail address, for the agent's announcement. */
  agentEmails: ReadonlyMap<string, string>;
  templates: TemplateOverrides;
  /**
   * A booking whose message has not arrived this long after it was committed (a node between dropped it, the process
   * stopped in between) is handed off by the sweep anyway, in milliseconds (default 30 s).
   */
  graceMs: number;
  /** How often the sweep looks for such bookings, in milliseconds (default 10 s). */
  sweepMs: number;
  /** Reminder lead times before the start in milliseconds, longest first (default 24 h and 1 h; empty = off). */
  reminderLeadsMs: number[];
}

/** Our extra placeholder (agent announcement only): the dashboard address, filled in before rendering. */
export const DASHBOARD_PLACEHOLDER = 'dashboardLink';
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;
const NEEDS_LINK: ReadonlySet<MailKind> = new Set([
  'resident-confirmation',
  'resident-reminder',
  'resident-rescheduled',
  'agent-announcement',
  'agent-rescheduled',
]);

function minutes(value: unknown, fallback: number, name: string, errors: string[]): number {
  const n = value === undefined || value === null || value === '' ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 7 * 24 * 60) {
    errors.push(`${name}: a whole number of minutes from 0 to 10080`);
    return fallback;
  }
  return n;
}

/** Seconds (decimals allowed, so tests can use a fraction) from 0.1 to 3600, as milliseconds. */
function seconds(value: unknown, fallback: number, name: string, errors: string[]): number {
  const n = value === undefined || value === null || value === '' ? fallback : Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600) {
    errors.push(`${name}: a number of seconds from 0.1 to 3600`);
    return fallback * 1000;
  }
  return Math.round(n * 1000);
}

function flag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  return value === true || value === 'true';
}

/**
 * The agents' addresses: a list of {username, email} (settings version 2), or the 0.1 text with one
 * "username = address" per line (also "username: address"; blank lines and lines starting with # are skipped).
 * Problems name the line or entry, never the address: it is personal data of an employee.
 */
export function parseAgentEmails(value: unknown, errors: string[]): Map<string, string> {
  const map = new Map<string, string>();
  if (value === undefined || value === null || value === '') return map;
  const add = (where: string, username: string, email: string) => {
    if (map.has(username.toLowerCase())) errors.push(`agentEmails ${where}: this username is listed twice`);
    else map.set(username.toLowerCase(), email);
  };
  if (Array.isArray(value) && value.length <= 1000) {
    value.forEach((e: unknown, i) => {
      const o = (typeof e === 'object' && e !== null ? e : {}) as { username?: unknown; email?: unknown };
      const username = typeof o.username === 'string' ? o.username.trim() : '';
      const email = typeof o.email === 'string' ? o.email.trim() : '';
      if (!USERNAME_RE.test(username) || !isEmailAddress(email)) errors.push(`agentEmails entry ${i + 1}: expected a username and an e-mail address`);
      else add(`entry ${i + 1}`, username, email);
    });
    return map;
  }
  if (typeof value !== 'string' || value.length > 20000) {
    errors.push('agentEmails: a list of agents with their e-mail address');
    return map;
  }
  value.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const m = /^([A-Za-z0-9._-]{1,64})\s*[=:]\s*(\S+)$/.exec(l);
    if (!m || !isEmailAddress(m[2])) errors.push(`agentEmails line ${i + 1}: expected "username = address"`);
    else add(`line ${i + 1}`, m[1], m[2]);
  });
  return map;
}

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

const SAMPLE = {
  name: 'Voorbeeld',
  topic: 'Voorbeeld',
  municipality: 'Gemeente Voorbeeld',
  start: '2026-12-01T09:30:00.000Z',
  end: '2026-12-01T10:00:00.000Z',
  link: 'https://video.example.nl/v/x',
  cancelLink: 'https://video.example.nl/afspraak/annuleren/x',
  rescheduleLink: 'https://video.example.nl/afspraak/wijzigen/x',
};

/** Checks the template overrides: known kinds and languages, known placeholders, a link where one is needed, renderable. */
export function parseTemplates(value: unknown, errors: string[]): TemplateOverrides {
  const out: TemplateOverrides = {};
  if (value === undefined || value === null || value === '') return out;
  let raw = value;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      errors.push('templates: not valid JSON');
      return out;
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push('templates: an object per mail kind and language');
    return out;
  }
  for (const [kind, perLang] of Object.entries(raw as Record<string, unknown>)) {
    if (!MAIL_KINDS.includes(kind as MailKind)) {
      errors.push(`templates: unknown mail kind "${kind.slice(0, 40)}"`);
      continue;
    }
    if (typeof perLang !== 'object' || perLang === null || Array.isArray(perLang)) {
      errors.push(`templates.${kind}: an object per language`);
      continue;
    }
    for (const [lang, t] of Object.entries(perLang as Record<string, unknown>)) {
      const where = `templates.${kind}.${lang.slice(0, 10)}`;
      if (!MAIL_LANGS.includes(lang as MailLang)) {
        errors.push(`${where}: language must be nl or en`);
        continue;
      }
      if (typeof t !== 'object' || t === null || Array.isArray(t)) {
        errors.push(`${where}: an object with subject and text`);
        continue;
      }
      const { subject, text } = t as Record<string, unknown>;
      const override: TemplateOverride = {};
      if (subject !== undefined && subject !== '') {
        if (typeof subject !== 'string' || subject.length > 250 || /[\r\n]/.test(subject)) errors.push(`${where}.subject: one line of at most 250 characters`);
        else override.subject = subject;
      }
      if (text !== undefined && text !== '') {
        if (typeof text !== 'string' || text.length > 20000) errors.push(`${where}.text: at most 20000 characters`);
        else override.text = text;
      }
      const known = new Set<string>([...PLACEHOLDERS, ...(kind === 'agent-announcement' ? [DASHBOARD_PLACEHOLDER] : [])]);
      for (const part of [override.subject, override.text]) {
        for (const m of (part ?? '').matchAll(PLACEHOLDER)) {
          if (!known.has(m[1])) errors.push(`${where}: unknown placeholder {{${m[1].slice(0, 40)}}}`);
        }
      }
      if (override.text && NEEDS_LINK.has(kind as MailKind) && !/\{\{\s*link\s*\}\}/.test(override.text)) {
        errors.push(`${where}.text: must contain {{link}}, or the recipient cannot join the call`);
      }
      if (override.subject || override.text) {
        try {
          renderMail({ kind: kind as MailKind, lang: lang as MailLang, data: SAMPLE, template: override });
        } catch (e) {
          errors.push(`${where}: ${(e as Error).message}`);
        }
        (out[kind as MailKind] ??= {})[lang as MailLang] = override;
      }
    }
  }
  return out;
}

/** Validates the node's properties; the editor applies the same rules (red triangle). */
export function validateSessionLinkConfig(raw: Record<string, unknown>): { ok: true; config: SessionLinkConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const config: SessionLinkConfig = {
    beforeMinutes: minutes(raw.openBeforeMinutes, 30, 'openBeforeMinutes', errors),
    afterMinutes: minutes(raw.validAfterMinutes, 60, 'validAfterMinutes', errors),
    sendResident: flag(raw.sendResident, true),
    sendAgent: flag(raw.sendAgent, true),
    agentEmails: parseAgentEmails(raw.agentEmails, errors),
    templates: parseTemplates(raw.templates, errors),
    graceMs: seconds(raw.graceSeconds, 30, 'graceSeconds', errors),
    sweepMs: seconds(raw.sweepSeconds, 10, 'sweepSeconds', errors),
    reminderLeadsMs: parseReminderHours(raw.reminderHours, errors),
  };
  return errors.length ? { ok: false, errors } : { ok: true, config };
}
