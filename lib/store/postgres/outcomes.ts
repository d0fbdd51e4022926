import type { Outcome, OutcomeStore } from '../../outcomes/types';
import { toOutcome, type OutcomeRow as Row } from '../rows';
import type { Pg } from './client';

/** OutcomeStore on PostgreSQL; decisions insert with ON CONFLICT DO NOTHING, so two instances decide each once. */
export function createPostgresOutcomeStore(pg: Pg): OutcomeStore {
  return {
    async recordCall(id, seconds, now) {
      if (!Number.isInteger(seconds) || seconds < 0) throw new Error('durationSeconds must be a whole number from 0');
      const [row] = await pg.statement<Row>(
        `INSERT INTO appointment_outcomes AS o (appointment_id, outcome, duration_seconds, cancelled_by, decided_at)
         VALUES ($1, 'completed', $2, NULL, $3)
         ON CONFLICT (appointment_id) DO UPDATE SET
           duration_seconds = CASE WHEN o.outcome = 'completed' THEN COALESCE(o.duration_seconds, 0) + $2 ELSE $2 END,
           outcome = 'completed', cancelled_by = NULL, decided_at = $3
         RETURNING *`,
        [id, seconds, now],
      );
      return toOutcome(row);
    },
    async decideEnded(since, cutoff, now, limit) {
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('limit must be 1-10000');
      const rows = await pg.statement<Row>(
        `WITH ended AS (
           SELECT a.id, a.status, a.cancelled_by,
             EXISTS (SELECT 1 FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = 'resident') AS resident,
             EXISTS (SELECT 1 FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined'
                     AND p.actor NOT IN ('resident', 'guest', 'interpreter', 'sign_language_interpreter', 'family_member', 'other', 'system')) AS agent
           FROM appointments a LEFT JOIN appointment_outcomes o ON o.appointment_id = a.id
           WHERE o.appointment_id IS NULL AND a.end_utc >= $1 AND a.end_utc <= $2
           ORDER BY a.end_utc LIMIT $4)
         INSERT INTO appointment_outcomes (appointment_id, outcome, duration_seconds, cancelled_by, decided_at)
         SELECT id,
           CASE WHEN status = 'cancelled' THEN 'cancelled' WHEN NOT resident THEN 'resident_no_show' WHEN NOT agent THEN 'agent_no_show' ELSE 'completed' END,
           NULL,
           CASE WHEN status = 'cancelled' THEN (CASE WHEN cancelled_by IS NULL THEN 'resident' ELSE 'staff' END) END,
           $3
         FROM ended
         ON CONFLICT (appointment_id) DO NOTHING
         RETURNING *`,
        [since, cutoff, now, limit],
      );
      return rows.map(toOutcome);
    },
    async forAppointments(ids) {
      const map = new Map<string, Outcome>();
      if (ids.length === 0) return map;
      for (const r of await pg.query<Row>(`SELECT * FROM appointment_outcomes WHERE appointment_id = ANY($1::text[])`, [[...ids]])) map.set(r.appointment_id, toOutcome(r));
      return map;
    },
  };
}
