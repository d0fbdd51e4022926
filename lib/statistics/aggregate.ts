import { DateTime } from 'luxon';
import { ZONE } from '../time';
import type { CountRow, DurationRow, Period, QualityRow, Statistics, StatisticsFacts } from './types';

/** Counts below this are shown as "< 5" (and in the CSV as "<5"): a small cell can point at one resident. */
export const SUPPRESS_BELOW = 5;

/** The local period start (YYYY-MM-DD, Europe/Amsterdam; ISO weeks start on Monday) of a UTC instant. */
export function periodOf(utcIso: string, period: Period): string {
  const local = DateTime.fromISO(utcIso, { zone: 'utc' }).setZone(ZONE);
  return (period === 'week' ? local.startOf('week') : local.startOf('day')).toFormat('yyyy-MM-dd');
}

function count<T>(items: readonly T[], key: (t: T) => string, at: (t: T) => string, period: Period): CountRow[] {
  const map = new Map<string, CountRow>();
  for (const t of items) {
    const p = periodOf(at(t), period);
    const k = key(t);
    const id = `${p}\n${k}`;
    const row = map.get(id) ?? { period: p, key: k, count: 0 };
    row.count++;
    map.set(id, row);
  }
  return [...map.values()].sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function medians<T>(items: readonly T[], seconds: (t: T) => number | null, at: (t: T) => string, period: Period): DurationRow[] {
  const map = new Map<string, number[]>();
  for (const t of items) {
    const s = seconds(t);
    if (s === null) continue;
    const p = periodOf(at(t), period);
    map.set(p, [...(map.get(p) ?? []), s]);
  }
  return [...map.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
      return { period: p, count: sorted.length, medianSeconds: median };
    });
}

/**
 * Quality per period and side: the calls that reported and the share of their summed time per state, in whole
 * percentages (largest remainder, so the three add up to 100).
 */
function qualityShares(items: StatisticsFacts['quality'], period: Period): QualityRow[] {
  const map = new Map<string, { period: string; side: QualityRow['side']; calls: number; g: number; p: number; n: number }>();
  for (const q of items) {
    const p = periodOf(q.at, period);
    const id = `${p}\n${q.side}`;
    const row = map.get(id) ?? { period: p, side: q.side, calls: 0, g: 0, p: 0, n: 0 };
    row.calls++;
    row.g += q.goodMs;
    row.p += q.poorMs;
    row.n += q.noneMs;
    map.set(id, row);
  }
  return [...map.values()]
    .sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : a.side < b.side ? -1 : 1))
    .map((r) => {
      const total = r.g + r.p + r.n;
      const [goodPct, poorPct, nonePct] = total > 0 ? percentages([r.g, r.p, r.n], total) : [0, 0, 0];
      return { period: r.period, side: r.side, calls: r.calls, goodPct, poorPct, nonePct };
    });
}

/** Whole percentages of `parts` that add up to 100 (largest remainder method). */
export function percentages(parts: readonly number[], total: number): number[] {
  const exact = parts.map((x) => (x / total) * 100);
  const floors = exact.map(Math.floor);
  let left = 100 - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]++;
    left--;
  }
  return floors;
}

/** Turns the raw facts into counts and medians per period. Pure; no suppression yet (the view does it). */
export function aggregate(f: StatisticsFacts, period: Period): Statistics {
  return {
    bookingsByChannel: count(f.bookings, (b) => b.channel, (b) => b.at, period),
    bookingsByTopic: count(f.bookings, (b) => b.topic, (b) => b.at, period),
    cancellations: count(f.cancellations, (c) => c.by, (c) => c.at, period),
    moved: count(f.moved, () => 'moved', (m) => m.at, period),
    outcomes: count(f.outcomes, (o) => o.outcome, (o) => o.at, period),
    waiting: medians(f.waits, (w) => w.seconds, (w) => w.at, period),
    callDuration: medians(f.outcomes.filter((o) => o.outcome === 'completed'), (o) => o.durationSeconds, (o) => o.at, period),
    identificationRequests: count(f.identifications.filter((i) => !i.verified), (i) => i.method, (i) => i.at, period),
    identificationSuccesses: count(f.identifications.filter((i) => i.verified), (i) => i.method, (i) => i.at, period),
    quality: qualityShares(f.quality, period),
  };
}

/** A count as shown: the number, or "< 5" for 1 to 4 (0 stays 0: an empty cell identifies nobody). */
export function shownCount(n: number): string {
  return n > 0 && n < SUPPRESS_BELOW ? `< ${SUPPRESS_BELOW}` : String(n);
}

/** A median over fewer than SUPPRESS_BELOW calls is not shown: it would be one person's own waiting time. */
export function shownMedian(row: DurationRow): string | undefined {
  if (row.count < SUPPRESS_BELOW) return undefined;
  const m = Math.floor(row.medianSeconds / 60);
  const s = row.medianSeconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
