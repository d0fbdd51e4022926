import { DateTime } from 'luxon';
import { publicIsoFromMillis } from './appointments/public-time';
import { ZONE } from './zone';

/** The business zone lives in ./zone (no luxon, so browser scripts can use it); re-exported for the server side. */
export { ZONE };

/** UTC ISO string as stored in the database. */
export function toStoredUtc(dt: DateTime): string {
  // The same text as luxon's dt.toUTC().toISO(), without building a second DateTime for it.
  if (!dt.isValid) throw new Error('invalid DateTime');
  return new Date(dt.toMillis()).toISOString();
}

/** ISO 8601 with the Amsterdam offset, as the public API answers (e.g. 2026-12-01T10:30:00.000+01:00). */
export function toPublicIso(utcIso: string): string {
  // Without a luxon zone conversion per call (lib/appointments/public-time.ts): every booking answer formats several.
  const ms = Date.parse(utcIso);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(utcIso) || !Number.isFinite(ms)) throw new Error('invalid stored time');
  return publicIsoFromMillis(ms);
}

export function nowUtc(): DateTime {
  return DateTime.utc();
}
