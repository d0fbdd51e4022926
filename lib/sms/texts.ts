import { DateTime } from 'luxon';
import { clockTime, type MailLang } from '../mail/when';
import { typedLine } from '../text/typed-text';
import { ZONE } from '../time';
import { countSegments, toGsm7 } from './gsm7';

/** The SMS this product sends. Reminders (issue 14, point 1) use 'sms-reminder' through the same composer. */
export type SmsKind = 'sms-confirmation' | 'sms-reminder';
export const SMS_KINDS: readonly SmsKind[] = ['sms-confirmation', 'sms-reminder'];

export interface SmsData {
  municipality: string;
  /** Start of the appointment, ISO 8601 (any offset); shown in Europe/Amsterdam. */
  start: string;
  /** The resident's access link: always whole in the text, never shortened. */
  link: string;
}

/**
 * Default texts, longest first: the composer takes the first that fits one GSM-7 segment (160 characters), so the
 * municipality's name and the words go before the link is ever split over two parts. Placeholders: {{municipality}},
 * {{date}} ("di 1 dec"), {{time}} ("09:30"), {{link}}.
 */
export const DEFAULT_SMS_TEXTS: Record<SmsKind, Record<MailLang, readonly string[]>> = {
  'sms-confirmation': {
    nl: [
      '{{municipality}}: uw video-afspraak is op {{date}} om {{time}}. Link: {{link}}',
      '{{municipality}}: video-afspraak {{date}} {{time}}. {{link}}',
      'Video-afspraak {{date}} {{time}}: {{link}}',
    ],
    en: [
      '{{municipality}}: video appointment on {{date}} at {{time}}. Link: {{link}}',
      '{{municipality}}: video appointment {{date}} {{time}}. {{link}}',
      'Video appointment {{date}} {{time}}: {{link}}',
    ],
  },
  'sms-reminder': {
    nl: [
      'Herinnering {{municipality}}: video-afspraak {{date}} om {{time}}. Link: {{link}}',
      'Herinnering: video-afspraak {{date}} {{time}}. {{link}}',
      'Video-afspraak {{date}} {{time}}: {{link}}',
    ],
    en: [
      'Reminder {{municipality}}: video appointment {{date}} at {{time}}. Link: {{link}}',
      'Reminder: video appointment {{date}} {{time}}. {{link}}',
      'Video appointment {{date}} {{time}}: {{link}}',
    ],
  },
};

const PLACEHOLDER = /\{\{\s*(municipality|date|time|link)\s*\}\}/g;
const LOCALE: Record<MailLang, string> = { nl: 'nl', en: 'en-GB' };

/** "di 1 dec" / "Tue 1 Dec" in Europe/Amsterdam: short, and free of the dots some locales add. */
export function shortDate(startIso: string, lang: MailLang): string {
  const at = DateTime.fromISO(startIso, { setZone: true });
  if (!at.isValid) throw new Error('start must be an ISO 8601 date-time');
  return at.setZone(ZONE).setLocale(LOCALE[lang]).toFormat('ccc d LLL').replace(/\./g, '');
}

export interface ComposedSms {
  text: string;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

/**
 * Renders an SMS: each template in turn (the administrator's own first, when given), values made GSM-7 where a near
 * character exists (lib/sms/gsm7.ts `toGsm7`), the first text that fits one segment wins; when none does, the
 * shortest is sent in more parts. The link is inserted last and never altered. Throws on a bad start or link.
 */
export function composeSms(kind: SmsKind, lang: MailLang, data: SmsData, own?: string): ComposedSms {
  if (!/^https?:\/\/[^\s]+$/.test(data.link)) throw new Error('link must be an http(s) URL');
  const values: Record<string, string> = {
    municipality: toGsm7(typedLine(data.municipality, 60)),
    date: shortDate(data.start, lang),
    time: clockTime(DateTime.fromISO(data.start, { setZone: true })),
  };
  const candidates = [...(own ? [own] : []), ...DEFAULT_SMS_TEXTS[kind][lang]];
  let best: ComposedSms | undefined;
  for (const template of candidates) {
    // The template's own words are made GSM-7 too; the link is put in afterwards, untouched.
    const text = toGsm7(template.replace(PLACEHOLDER, (_m, key: string) => (key === 'link' ? '\u0000' : values[key]))).replace(/\u0000/g, () => data.link);
    const count = countSegments(text);
    const composed: ComposedSms = { text, segments: count.segments, encoding: count.encoding };
    if (count.segments === 1) return composed;
    if (!best || composed.segments < best.segments || (composed.segments === best.segments && text.length < best.text.length)) best = composed;
  }
  return best as ComposedSms;
}
