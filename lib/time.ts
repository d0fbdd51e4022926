import { DateTime } from 'luxon';
import { ZONE } from './zone';

/** The business zone lives in ./zone (no luxon, so browser scripts can use it); re-exported for the server side. */
export { ZONE };

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
