import type { StatisticsStore } from '../../statistics/types';
import type { Pg } from './client';

/** The statistics' raw facts from PostgreSQL: the same queries as lib/store/sqlite/statistics.ts, no personal field. */
export function createPostgresStatisticsStore(pg: Pg): StatisticsStore {
  return {
    async facts(from, to) {
      const [bookings, cancellations, moved, outcomes, waits, identifications, quality] = await Promise.all([
        pg.query<{ at: string; channel: string; topic: string }>(`SELECT created_at AS at, channel, topic FROM appointments WHERE created_at >= $1 AND created_at < $2`, [from, to]),
        pg.query<{ at: string; by: string | null }>(
          `SELECT cancelled_at AS at, cancelled_by AS by FROM appointments WHERE status = 'cancelled' AND cancelled_at >= $1 AND cancelled_at < $2`,
          [from, to],
        ),
        pg.query<{ at: string }>(`SELECT start_utc AS at FROM appointments WHERE sequence > 0 AND start_utc >= $1 AND start_utc < $2`, [from, to]),
        pg.query<{ at: string; outcome: string; d: number | null }>(
          `SELECT a.start_utc AS at, o.outcome, o.duration_seconds AS d FROM appointment_outcomes o JOIN appointments a ON a.id = o.appointment_id
           WHERE a.start_utc >= $1 AND a.start_utc < $2`,
          [from, to],
        ),
        pg.query<{ at: string; r: string | null; g: string | null }>(
          `SELECT a.start_utc AS at,
             (SELECT MIN(p.at) FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = 'resident') AS r,
             (SELECT MIN(p.at) FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = a.agent) AS g
           FROM appointments a WHERE a.start_utc >= $1 AND a.start_utc < $2`,
          [from, to],
        ),
        pg.query<{ at: string; method: string | null; action: string }>(
          `SELECT at, method_id AS method, action FROM processing_log WHERE action IN ('method_chosen', 'verified') AND at >= $1 AND at < $2`,
          [from, to],
        ),
        pg.query<{ at: string; side: 'resident' | 'agent'; g: number; p: number; n: number }>(
          `SELECT a.start_utc AS at, q.side, q.good_ms AS g, q.poor_ms AS p, q.none_ms AS n FROM call_quality q JOIN appointments a ON a.id = q.appointment_id
           WHERE a.start_utc >= $1 AND a.start_utc < $2`,
          [from, to],
        ),
      ]);
      return {
        bookings,
        cancellations: cancellations.map((r) => ({ at: r.at, by: r.by === null ? ('resident' as const) : ('staff' as const) })),
        moved,
        outcomes: outcomes.map((r) => ({ at: r.at, outcome: r.outcome, durationSeconds: r.d })),
        waits: waits
          .filter((r): r is { at: string; r: string; g: string } => !!r.r && !!r.g && r.g >= r.r)
          .map((r) => ({ at: r.at, seconds: Math.round((Date.parse(r.g) - Date.parse(r.r)) / 1000) })),
        identifications: identifications.map((r) => ({ at: r.at, method: r.method ?? 'onbekend', verified: r.action === 'verified' })),
        quality: quality.map((r) => ({ at: r.at, side: r.side, goodMs: r.g, poorMs: r.p, noneMs: r.n })),
      };
    },
    async recordQuality(id, side, r, at) {
      await pg.run(
        `INSERT INTO call_quality (appointment_id, side, good_ms, poor_ms, none_ms, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (appointment_id, side) DO UPDATE SET good_ms = call_quality.good_ms + excluded.good_ms,
           poor_ms = call_quality.poor_ms + excluded.poor_ms, none_ms = call_quality.none_ms + excluded.none_ms, updated_at = excluded.updated_at`,
        [id, side, r.goodMs, r.poorMs, r.noneMs, at],
      );
    },
  };
}
