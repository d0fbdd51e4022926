/**
 * The municipality's business time zone: slots, mails and pages are computed here, whatever the machine's TZ. A module
 * of its own, without luxon, so browser scripts can show clock times in it too (see clockTime below).
 */
export const ZONE = 'Europe/Amsterdam';

/**
 * A clock time ("14:05", or "14:05:09" with seconds) in Amsterdam time, whatever the zone of the machine or browser
 * that runs this: the verification time on the agent's panel, when a message was sent, when data will be deleted.
 * Intl with an explicit timeZone (every current browser and Node with ICU have the IANA zone data).
 */
export function amsterdamClock(when: string | number | Date, lang: 'nl' | 'en', seconds = false): string {
  const date = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'nl-NL', {
    timeZone: ZONE,
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' as const } : {}),
    hourCycle: 'h23',
  }).format(date);
}
