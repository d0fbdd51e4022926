import { DateTime } from 'luxon';
import { ZONE } from '../time';

export type MailLang = 'nl' | 'en';
export const MAIL_LANGS: readonly MailLang[] = ['nl', 'en'];

// en-GB gives "Tuesday 1 December 2026" (day before month, no comma), the form the municipality's English uses.
const LOCALE: Record<MailLang, string> = { nl: 'nl', en: 'en-GB' };

/** A date in words in Europe/Amsterdam: "dinsdag 1 december 2026" / "Tuesday 1 December 2026". */
export function dateInWords(utc: DateTime, lang: MailLang): string {
  return utc.setZone(ZONE).setLocale(LOCALE[lang]).toFormat('cccc d LLLL yyyy');
}

/** A clock time in Europe/Amsterdam, 24-hour: "10:30". */
export function clockTime(utc: DateTime): string {
  return utc.setZone(ZONE).toFormat('HH:mm');
}

/** "dinsdag 1 december 2026 om 10:30" / "Tuesday 1 December 2026 at 10:30". */
export function dateTimeInWords(utc: DateTime, lang: MailLang): string {
  return `${dateInWords(utc, lang)} ${lang === 'nl' ? 'om' : 'at'} ${clockTime(utc)}`;
}
