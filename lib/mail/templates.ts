import { toDateTime, type TimeInput } from '../links/window';
import { DEFAULT_TEMPLATES, MAIL_KINDS, type MailKind, type MailTemplate } from './default-templates';
import { escapeHtml, headerSafe, isHttpUrl, multilineSafe } from './sanitize';
import { clockTime, dateInWords, MAIL_LANGS, type MailLang } from './when';

export { DEFAULT_TEMPLATES, MAIL_KINDS, type MailKind, type MailTemplate } from './default-templates';
export { MAIL_LANGS, type MailLang } from './when';

/** What a mail is about. Free text (name, topic, remarks) may come straight from a booking form. */
export interface MailData {
  /** The recipient's name as addressed in the salutation (resident or agent). */
  name: string;
  topic: string;
  municipality: string;
  start: TimeInput;
  end: TimeInput;
  /** When the access link starts working (default: start). */
  opensAt?: TimeInput;
  /** The recipient's access link (confirmation, announcement). */
  link?: string;
  /** The resident's cancel link (confirmation). */
  cancelLink?: string;
  /** The resident's link to choose another time ("Afspraak wijzigen"). */
  rescheduleLink?: string;
  /** The resident's name, for agent mails whose custom template wants it. */
  residentName?: string;
  /** The resident's remarks, for custom templates (multi-line). */
  remarks?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The placeholders a template may use. Anything else in {{…}} is left as written. */
export const PLACEHOLDERS = [
  'name',
  'topic',
  'municipality',
  'date',
  'time',
  'endTime',
  'opensAt',
  'link',
  'cancelLink',
  'rescheduleLink',
  'residentName',
  'remarks',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const URL_KEYS: ReadonlySet<string> = new Set(['link', 'cancelLink', 'rescheduleLink']);
const MULTILINE_KEYS: ReadonlySet<string> = new Set(['remarks']);
const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/** Turns mail data into the flat, sanitised placeholder values (times in words, Europe/Amsterdam). */
export function placeholderValues(data: MailData, lang: MailLang): Record<Placeholder, string> {
  if (!MAIL_LANGS.includes(lang)) throw new Error("lang must be 'nl' or 'en'");
  const start = toDateTime(data.start, 'start');
  const end = toDateTime(data.end, 'end');
  if (end <= start) throw new Error('end must be after start');
  const opens = data.opensAt === undefined ? start : toDateTime(data.opensAt, 'opensAt');
  for (const key of ['link', 'cancelLink', 'rescheduleLink'] as const) {
    const v = data[key];
    if (v !== undefined && v !== '' && !isHttpUrl(v)) throw new Error(`${key} must be an absolute http(s) URL`);
  }
  const opensWords =
    opens.setZone('Europe/Amsterdam').hasSame(start.setZone('Europe/Amsterdam'), 'day')
      ? clockTime(opens)
      : `${dateInWords(opens, lang)} ${lang === 'nl' ? 'om' : 'at'} ${clockTime(opens)}`;
  return {
    name: headerSafe(data.name, 120),
    topic: headerSafe(data.topic, 200),
    municipality: headerSafe(data.municipality, 120),
    date: dateInWords(start, lang),
    time: clockTime(start),
    endTime: clockTime(end),
    opensAt: opensWords,
    link: data.link ?? '',
    cancelLink: data.cancelLink ?? '',
    rescheduleLink: data.rescheduleLink ?? '',
    residentName: headerSafe(data.residentName, 120),
    remarks: multilineSafe(data.remarks, 2000),
  };
}

/** Replaces {{placeholders}} in plain text. One pass, so a value that itself contains {{link}} stays literal. */
export function substituteText(template: string, values: Partial<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, key: string) => (KNOWN.has(key) ? values[key] ?? '' : whole));
}

function htmlValue(key: string, values: Partial<Record<string, string>>, asLink: boolean): string {
  const value = values[key] ?? '';
  if (asLink && URL_KEYS.has(key) && value !== '') {
    const safe = escapeHtml(value);
    return `<a href="${safe}">${safe}</a>`;
  }
  const escaped = escapeHtml(value);
  return MULTILINE_KEYS.has(key) ? escaped.replace(/\n/g, '<br>') : escaped;
}

/** Replaces placeholders in an HTML template, escaping every value (the template's own markup is trusted). */
export function substituteHtml(template: string, values: Partial<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, key: string) => (KNOWN.has(key) ? htmlValue(key, values, false) : whole));
}

/** Escapes one line of a text template and substitutes it, turning URL placeholders into links. */
function lineToHtml(line: string, values: Partial<Record<string, string>>): string {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(PLACEHOLDER)) {
    out += escapeHtml(line.slice(last, m.index));
    out += KNOWN.has(m[1]) ? htmlValue(m[1], values, true) : escapeHtml(m[0]);
    last = (m.index ?? 0) + m[0].length;
  }
  return out + escapeHtml(line.slice(last));
}

/** Derives the HTML body from a plain-text template: paragraphs, "- " lists, clickable links, all values escaped. */
export function textTemplateToHtml(template: string, values: Partial<Record<string, string>>): string {
  const blocks = template.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  return blocks
    .map((block) => block.split('\n').filter((l) => l.trim() !== ''))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const items = lines.filter((l) => l.startsWith('- '));
      if (items.length === lines.length) {
        return `<ul>${items.map((l) => `<li>${lineToHtml(l.slice(2), values)}</li>`).join('')}</ul>`;
      }
      // A heading line followed by a list ("Wat heeft u nodig?" + items) keeps its list.
      if (items.length > 0 && items.length === lines.length - 1 && !lines[0].startsWith('- ')) {
        return `<p>${lineToHtml(lines[0], values)}</p><ul>${items.map((l) => `<li>${lineToHtml(l.slice(2), values)}</li>`).join('')}</ul>`;
      }
      return `<p>${lines.map((l) => lineToHtml(l, values)).join('<br>\n')}</p>`;
    })
    .join('\n');
}

function htmlDocument(lang: MailLang, subject: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a;">
${body}
</body>
</html>`;
}

export interface RenderOptions {
  kind: MailKind;
  lang: MailLang;
  data: MailData;
  /** Administrator overrides; missing parts fall back to the default for kind and language. */
  template?: Partial<MailTemplate>;
}

function checkTemplatePart(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 20000) throw new Error(`template ${name} must be a string of at most 20000 characters`);
  return value;
}

/** Renders subject, text and HTML of one mail. Throws (nothing half-rendered) on bad data. */
export function renderMail(options: RenderOptions): RenderedMail {
  if (!MAIL_KINDS.includes(options.kind)) throw new Error('unknown mail kind');
  if (!MAIL_LANGS.includes(options.lang)) throw new Error("lang must be 'nl' or 'en'");
  const base = DEFAULT_TEMPLATES[options.kind][options.lang];
  const subjectT = checkTemplatePart(options.template?.subject, 'subject') ?? base.subject;
  const textT = checkTemplatePart(options.template?.text, 'text') ?? base.text;
  // A custom text without custom HTML must not be paired with the default HTML of another wording.
  const htmlT = checkTemplatePart(options.template?.html, 'html') ?? (options.template?.text ? undefined : base.html);
  const values = placeholderValues(options.data, options.lang);
  // The subject becomes a header: flatten whatever the template and values produced.
  const subject = headerSafe(substituteText(subjectT, values), 250);
  if (subject === '') throw new Error('subject is empty');
  const text = substituteText(textT, values).replace(/\r\n?/g, '\n');
  const body = htmlT ? substituteHtml(htmlT, values) : textTemplateToHtml(textT, values);
  // A custom template that is already a whole document is used as is.
  const html = htmlT && /<html[\s>]/i.test(htmlT) ? body : htmlDocument(options.lang, subject, body);
  return { subject, text, html };
}
