import { DateTime } from 'luxon';
import { ZONE } from '../zone';

/**
 * Amsterdam offsets and ISO formatting without a luxon zone conversion per call. A slots answer formats hundreds of
 * instants, and luxon's per-call Intl lookup costs tens of microseconds each (far more on a busy machine). The offset
 * only changes twice a year, so it is looked up once per UTC day and only re-checked on the days it changes.
 */

const DAY_MS = 86_400_000;
const dayOffsets = new Map<number, [number, number]>();

function offsetsOfUtcDay(day: number): [number, number] {
  let o = dayOffsets.get(day);
  if (!o) {
    o = [
      DateTime.fromMillis(day * DAY_MS, { zone: ZONE }).offset,
      DateTime.fromMillis((day + 1) * DAY_MS - 1, { zone: ZONE }).offset,
    ];
    if (dayOffsets.size > 5000) dayOffsets.clear();
    dayOffsets.set(day, o);
  }
  return o;
}

/** Amsterdam's UTC offset in minutes at an instant. */
export function amsterdamOffsetMinutes(ms: number): number {
  const [start, end] = offsetsOfUtcDay(Math.floor(ms / DAY_MS));
  return start === end ? start : DateTime.fromMillis(ms, { zone: ZONE }).offset;
}

/** The Amsterdam calendar date of an instant. */
export function amsterdamDateOf(ms: number): { year: number; month: number; day: number } {
  const d = new Date(ms + amsterdamOffsetMinutes(ms) * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** ISO 8601 with the Amsterdam offset, the same text as toPublicIso in lib/time.ts (2026-12-01T10:00:00.000+01:00). */
export function publicIsoFromMillis(ms: number): string {
  const offset = amsterdamOffsetMinutes(ms);
  const d = new Date(ms + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:` +
    `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * UTC milliseconds of a wall-clock time in Amsterdam on a local date (`minuteOfDay` 0..1439), or null when that time
 * does not exist (the spring-forward gap, 02:00–02:59 on the last Sunday of March). In the doubled hour of the last
 * Sunday of October the **first** occurrence (summer time) is meant, as RFC 5545 §3.3.5 rules for calendar times.
 *
 * Deterministic on purpose: luxon's own `DateTime.fromObject(…, {zone})` resolves the doubled hour with a guess taken
 * from the offset in force *now*, so the same form input meant another instant in summer than in winter.
 */
export function wallTimeToUtcMs(date: { year: number; month: number; day: number }, minuteOfDay: number): number | null {
  const naive = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * 60_000;
  // Amsterdam's offsets around this wall time: the one a day before and the one a day after (equal on 363 days).
  const offsets = new Set([amsterdamOffsetMinutes(naive - DAY_MS), amsterdamOffsetMinutes(naive + DAY_MS)]);
  let best: number | null = null;
  for (const offset of offsets) {
    const ms = naive - offset * 60_000;
    if (amsterdamOffsetMinutes(ms) === offset && (best === null || ms < best)) best = ms;
  }
  return best;
}
