import { DateTime } from 'luxon';

/** The municipality's business time zone: slots, mails and pages are computed here, whatever the machine's TZ. */
export const ZONE = 'Europe/Amsterdam';

/** UTC ISO string as stored in the database. */
export function toStoredUtc(dt: DateTime): string {
  const iso = dt.toUTC().toISO();
  if (!iso) throw new Error('invalid DateTime');
  return iso;
}

/** ISO 8601 with the Amsterdam offset, as the public API answers (e.g. 2026-12-01T10:30:00.000+01:00). */
export function toPublicIso(utcIso: string): string {
  const iso = DateTime.fromISO(utcIso, { zone: 'utc' }).setZone(ZONE).toISO();
  if (!iso) throw new Error('invalid stored time');
  return iso;
}

export function nowUtc(): DateTime {
  return DateTime.utc();
}
