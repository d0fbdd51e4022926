import type { Database } from 'better-sqlite3';
import type { Outcome, OutcomeCode, OutcomeStore } from '../../outcomes/types';
import { toOutcome, type OutcomeRow as Row } from '../rows';

/** OutcomeStore on better-sqlite3 (migration 012 appointment_outcomes; presence from processing_log, migration 009). */
export function createSqliteOutcomeStore(db: Database): OutcomeStore {
  const call = db.prepare(
    `INSERT INTO appointment_outcomes (appointment_id, outcome, duration_seconds, cancelled_by, decided_at)
     VALUES (@id, 'completed', @d, NULL, @now)
     ON CONFLICT (appointment_id) DO UPDATE SET
       duration_seconds = CASE WHEN outcome = 'completed' THEN COALESCE(duration_seconds, 0) + @d ELSE @d END,
       outcome = 'completed', cancelled_by = NULL, decided_at = @now
     RETURNING *`,
  );
  const ended = db.prepare<[string, string, number], { id: string; status: string; cancelled_by: string | null; resident: number; agent: number }>(
    `SELECT a.id, a.status, a.cancelled_by,
       EXISTS (SELECT 1 FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined' AND p.actor = 'resident') AS resident,
       EXISTS (SELECT 1 FROM processing_log p WHERE p.appointment_id = a.id AND p.action = 'participant_joined'
               AND p.actor NOT IN ('resident', 'guest', 'interpreter', 'sign_language_interpreter', 'family_member', 'other', 'system')) AS agent
     FROM appointments a LEFT JOIN appointment_outcomes o ON o.appointment_id = a.id
     WHERE o.appointment_id IS NULL AND a.end_utc >= ? AND a.end_utc <= ?
     ORDER BY a.end_utc LIMIT ?`,
  );
  const insert = db.prepare(
    `INSERT INTO appointment_outcomes (appointment_id, outcome, duration_seconds, cancelled_by, decided_at) VALUES (?, ?, NULL, ?, ?)
     ON CONFLICT (appointment_id) DO NOTHING`,
  );
  const decide = db.transaction((since: string, cutoff: string, now: string, limit: number): Outcome[] => {
    const out: Outcome[] = [];
    for (const r of ended.all(since, cutoff, limit)) {
      let outcome: OutcomeCode;
      let by: 'resident' | 'staff' | null = null;
      if (r.status === 'cancelled') {
        outcome = 'cancelled';
        by = r.cancelled_by === null ? 'resident' : 'staff';
      } else if (!r.resident) outcome = 'resident_no_show';
      else if (!r.agent) outcome = 'agent_no_show';
      else outcome = 'completed';
      if (insert.run(r.id, outcome, by, now).changes === 1) out.push({ appointmentId: r.id, outcome, durationSeconds: null, cancelledBy: by, decidedAt: now });
    }
    return out;
  });
  return {
    async recordCall(id, seconds, now) {
      if (!Number.isInteger(seconds) || seconds < 0) throw new Error('durationSeconds must be a whole number from 0');
      return toOutcome(call.get({ id, d: seconds, now }) as Row);
    },
    async decideEnded(since, cutoff, now, limit) {
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('limit must be 1-10000');
      return decide.immediate(since, cutoff, now, limit);
    },
    async forAppointments(ids) {
      const map = new Map<string, Outcome>();
      if (ids.length === 0) return map;
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = db.prepare(`SELECT * FROM appointment_outcomes WHERE appointment_id IN (${chunk.map(() => '?').join(', ')})`).all(...chunk) as Row[];
        for (const r of rows) map.set(r.appointment_id, toOutcome(r));
      }
      return map;
    },
  };
}
