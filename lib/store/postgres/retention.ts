import { ERASED_FIELDS, type RetentionStore } from '../../retention/types';
import type { Pg } from './client';

/**
 * RetentionStore on PostgreSQL: one transaction per batch; `FOR UPDATE SKIP LOCKED` lets two instances erase disjoint
 * batches, and `erased_at IS NULL` in the update makes each appointment erased and logged once.
 */
export function createPostgresRetentionStore(pg: Pg): RetentionStore {
  const keys = JSON.stringify(ERASED_FIELDS);
  return {
    async eraseEnded(cutoff, now, limit) {
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('limit must be 1-10000');
      return pg.tx(async (q) => {
        const rows = await q.query<{ id: string }>(
          `UPDATE appointments a SET resident_name = '', resident_email = '', resident_phone = NULL, remarks = NULL, sms_opt_in = 0,
             idempotency_key = 'erased:' || a.id, erased_at = $2
           WHERE a.id IN (SELECT id FROM appointments WHERE erased_at IS NULL AND end_utc <= $1 ORDER BY end_utc LIMIT $3
                          FOR UPDATE SKIP LOCKED)
           RETURNING a.id`,
          [cutoff, now, limit],
        );
        const ids = rows.map((r) => r.id);
        if (ids.length === 0) return [];
        await q.run(`DELETE FROM mail_outbox WHERE appointment_id = ANY($1::text[]) AND status IN ('pending', 'failed')`, [ids]);
        // An unsent SMS holds the number and the access link (migration 013).
        await q.run(`DELETE FROM sms_outbox WHERE appointment_id = ANY($1::text[]) AND status IN ('pending', 'failed')`, [ids]);
        // The third participant's address (migration 017) goes with the resident's.
        await q.run(`UPDATE call_guests SET email = NULL WHERE appointment_id = ANY($1::text[])`, [ids]);
        // The pseudonym kept for an Open Klant registration's own record (migration 016); the processing log keeps its copy.
        await q.run(`UPDATE contact_registrations SET data_subject_id = NULL WHERE appointment_id = ANY($1::text[])`, [ids]);
        await q.run(
          `INSERT INTO processing_log (at, appointment_id, actor, action, attribute_keys, detail)
           SELECT $2, id, 'system', 'resident_data_erased', $3::jsonb, 'retention' FROM unnest($1::text[]) AS id`,
          [ids, now, keys],
        );
        return ids;
      });
    },
  };
}
