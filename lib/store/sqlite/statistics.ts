import type { Database } from 'better-sqlite3';
import type { StatisticsStore } from '../../statistics/types';

/**
 * The statistics' raw facts from SQLite: booking channel and topic, cancellations, moves (appointments.sequence),
 * outcomes (migration 012), the waiting time from the processing log's participant_joined lines (resident first,
 * agent later), identification attempts and successes by method, and connection quality per side (migration 015). No name, e-mail, phone, remark or id leaves.
 */
export function createSqliteStatisticsStore(db: Database): StatisticsStore {
  const q = {
    bookings: db.prepare<[string, string], { at: string; channel: string; topic: string }>(
      `SELECT created_at AS at, channel, topic FROM appointments WHERE created_at >= ? AND created_at < ?`,
    ),
    cancellations: db.prepare<[string, string], { at: string; by: string | null }>(
      `SELECT cancelled_at AS at, cancelled_by AS by FROM appointments WHERE status = 'cancelled' AND cancelled_at >= ? AND cancelled_at < ?`,
    ),
    moved: db.prepare<[string, string], { at: string }>(`SELECT start_utc AS at FROM appointments WHERE sequence > 0 AND start_utc >= ? AND start_utc < ?`),
    outcomes: db.prepare<[string, string], { at: string; outcome: string; d: number | null }>(
      `SELECT a.start_utc AS at, o.outcome, o.duration_seconds AS d FROM appointment_outcomes o JOIN appointments a ON a.id = o.appointment_id
       WHERE a.start_utc >= ? AND a.start_utc < ?`,
    ),
    waits: db.prepare<[string, string], { at: string; r: string; g: string }>(
      `SELECT a.start_utc AS at,
         (SELECT MIN(p.at) FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = 'resident') AS r,
         (SELECT MIN(p.at) FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = a.agent) AS g
       FROM appointments a WHERE a.start_utc >= ? AND a.start_utc < ?`,
    ),
    identifications: db.prepare<[string, string], { at: string; method: string | null; action: string }>(
      `SELECT at, method_id AS method, action FROM processing_log WHERE action IN ('method_chosen', 'verified') AND at >= ? AND at < ?`,
    ),
    quality: db.prepare<[string, string], { at: string; side: 'resident' | 'agent'; g: number; p: number; n: number }>(
      `SELECT a.start_utc AS at, q.side, q.good_ms AS g, q.poor_ms AS p, q.none_ms AS n FROM call_quality q JOIN appointments a ON a.id = q.appointment_id
       WHERE a.start_utc >= ? AND a.start_utc < ?`,
    ),
    recordQuality: db.prepare(
      `INSERT INTO call_quality (appointment_id, side, good_ms, poor_ms, none_ms, updated_at) VALUES (@id, @side, @g, @p, @n, @at)
       ON CONFLICT (appointment_id, side) DO UPDATE SET good_ms = good_ms + excluded.good_ms, poor_ms = poor_ms + excluded.poor_ms,
         none_ms = none_ms + excluded.none_ms, updated_at = excluded.updated_at`,
    ),
  };
  return {
    async facts(from, to) {
      return {
        bookings: q.bookings.all(from, to),
        cancellations: q.cancellations.all(from, to).map((r) => ({ at: r.at, by: r.by === null ? 'resident' : 'staff' })),
        moved: q.moved.all(from, to),
        outcomes: q.outcomes.all(from, to).map((r) => ({ at: r.at, outcome: r.outcome, durationSeconds: r.d })),
        waits: q.waits
          .all(from, to)
          .filter((r) => r.r && r.g && r.g >= r.r)
          .map((r) => ({ at: r.at, seconds: Math.round((Date.parse(r.g) - Date.parse(r.r)) / 1000) })),
        identifications: q.identifications.all(from, to).map((r) => ({ at: r.at, method: r.method ?? 'onbekend', verified: r.action === 'verified' })),
        quality: q.quality.all(from, to).map((r) => ({ at: r.at, side: r.side, goodMs: r.g, poorMs: r.p, noneMs: r.n })),
      };
    },
    async recordQuality(id, side, r, at) {
      q.recordQuality.run({ id, side, g: r.goodMs, p: r.poorMs, n: r.noneMs, at });
    },
  };
}
