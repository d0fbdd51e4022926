import { DateTime } from 'luxon';
import { toStoredUtc } from '../time';

/** Accepted time inputs: a UTC/offset ISO string, a Date or a luxon DateTime. */
export type TimeInput = string | Date | DateTime;

/** Parses a time input strictly; throws on anything that is not a real instant (no silent "Invalid Date"). */
export function toDateTime(value: TimeInput, field: string): DateTime {
  let dt: DateTime;
  if (DateTime.isDateTime(value)) dt = value;
  else if (value instanceof Date) dt = DateTime.fromJSDate(value);
  else if (typeof value === 'string') {
    // An ISO string without offset would be read in the machine's zone: refuse it rather than guess.
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(value)) throw new Error(`${field} must be an ISO 8601 time with offset or Z`);
    dt = DateTime.fromISO(value, { setZone: true });
  } else throw new Error(`${field} must be a time`);
  if (!dt.isValid) throw new Error(`${field} is not a valid time`);
  return dt.toUTC();
}

export interface WindowOptions {
  /** Minutes before the start that the link opens (default 30). */
  beforeMinutes?: number;
  /** Minutes after the end that the link keeps working (default 60). */
  afterMinutes?: number;
}

/**
 * When an appointment's links work: from a little before the start (so people can test camera and microphone)
 * until a while after the planned end (calls overrun). Returns UTC ISO strings as the store keeps them.
 */
export function validityWindow(
  start: TimeInput,
  end: TimeInput,
  options: WindowOptions = {},
): { validFrom: string; validUntil: string } {
  const before = options.beforeMinutes ?? 30;
  const after = options.afterMinutes ?? 60;
  for (const [name, v] of [['beforeMinutes', before], ['afterMinutes', after]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 7 * 24 * 60) throw new Error(`${name} must be a whole number of minutes between 0 and 10080`);
  }
  const s = toDateTime(start, 'start');
  const e = toDateTime(end, 'end');
  if (e <= s) throw new Error('end must be after start');
  return { validFrom: toStoredUtc(s.minus({ minutes: before })), validUntil: toStoredUtc(e.plus({ minutes: after })) };
}
