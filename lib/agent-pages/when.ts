import { DateTime } from 'luxon';
import type { Lang } from '../http/lang';
import { ZONE } from '../time';

const WORDS = {
  nl: { today: 'vandaag', tomorrow: 'morgen', at: 'om', locale: 'nl-NL' },
  en: { today: 'today', tomorrow: 'tomorrow', at: 'at', locale: 'en-GB' },
} as const;

/**
 * An appointment's start as people say it, in Amsterdam time whatever the server's zone: "vandaag om 10:30",
 * "morgen om 09:00", "woensdag 2 december om 14:00".
 */
export function timeInWords(startUtc: string, lang: Lang, now: Date = new Date()): string {
  const w = WORDS[lang];
  const start = DateTime.fromISO(startUtc, { zone: 'utc' }).setZone(ZONE).setLocale(w.locale);
  const today = DateTime.fromJSDate(now).setZone(ZONE).startOf('day');
  const days = Math.round(start.startOf('day').diff(today, 'days').days);
  const time = start.toFormat('HH:mm');
  const day = days === 0 ? w.today : days === 1 ? w.tomorrow : start.toFormat(start.year === today.year ? 'cccc d LLLL' : 'cccc d LLLL yyyy');
  return `${day} ${w.at} ${time}`;
}

/** The agent's window: from the start of today (Amsterdam) for `days` days. */
export function dashboardWindow(now: Date, days: number): { fromUtc: string; toUtc: string; todayEndUtc: string } {
  const today = DateTime.fromJSDate(now).setZone(ZONE).startOf('day');
  return {
    fromUtc: today.toUTC().toISO() as string,
    toUtc: today.plus({ days }).toUTC().toISO() as string,
    todayEndUtc: today.plus({ days: 1 }).toUTC().toISO() as string,
  };
}
