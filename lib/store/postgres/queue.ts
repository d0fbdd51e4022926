import type { QueueClaim, QueuedRecord, QueueStore } from '../../outbox/queue-store';
import type { Pg, Query } from './client';

/** The outbox tables this helper serves; a fixed list, so a table name never comes from outside. */
export type QueueTable = 'mail_outbox' | 'sms_outbox';

/**
 * Deletes not-yet-sent rows of an appointment (optionally of some kinds) on a transaction's connection
 * (lib/store/postgres/events.ts applies a hand-off's effects with it). Returns how many.
 */
export function queueDiscard(q: Query, table: QueueTable, appointmentId: string, kinds?: readonly string[]): Promise<number> {
  if (!kinds || kinds.length === 0) return q.run(`DELETE FROM ${table} WHERE appointment_id = $1 AND status IN ('pending', 'failed')`, [appointmentId]);
  return q.run(`DELETE FROM ${table} WHERE appointment_id = $1 AND status IN ('pending', 'failed') AND kind = ANY($2::text[])`, [appointmentId, [...kinds]]);
}

/**
 * The queue half of an outbox store on PostgreSQL (lib/outbox/queue-store.ts), for any table with the shared queue
 * columns (lib/store/sqlite/queue.ts is its SQLite twin). Several instances run the worker against one table:
 * `claimDue` leases due rows with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint sets without waiting
 * for each other and a message is never sent by two of them; a worker that dies leaves its lease to expire (or to
 * its own restart's reclaim).
 */
/** Tables with scheduled rows (`not_after`: mail since migration 012, SMS since 015): reminders. */
const SCHEDULED: Record<QueueTable, boolean> = { mail_outbox: true, sms_outbox: true };

export function postgresQueue<Row extends { next_attempt_at: string; created_at: string }, R extends QueuedRecord>(
  pg: Pg,
  table: QueueTable,
  toRecord: (row: Row) => R,
): QueueStore<R> {
  const changed = (n: number) => n === 1;
  return {
    async claimDue(now, leaseUntil, claimId, limit, instance): Promise<QueueClaim<R>> {
      return pg.tx(async (q) => {
        const expired = SCHEDULED[table]
          ? await q.query<{ id: string; kind: string; appointment_id: string | null }>(
              `DELETE FROM ${table} WHERE id IN (
                 SELECT id FROM ${table}
                 WHERE not_after IS NOT NULL AND not_after <= $1 AND (status = 'pending' OR (status = 'sending' AND lease_until <= $1))
                 FOR UPDATE SKIP LOCKED)
               RETURNING id, kind, appointment_id`,
              [now],
            )
          : [];
        const exhausted = await q.query<Row>(
          `UPDATE ${table} SET status = 'failed', last_error = 'EINTERRUPTED', claim_id = NULL, lease_until = NULL, updated_at = $1
           WHERE id IN (SELECT id FROM ${table} WHERE status = 'sending' AND lease_until <= $1 AND attempts >= max_attempts
                        FOR UPDATE SKIP LOCKED)
           RETURNING *`,
          [now],
        );
        const claimed = await q.query<Row>(
          `WITH due AS (
             SELECT id FROM ${table}
             WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until <= $1)
             ORDER BY next_attempt_at, created_at LIMIT $2
             FOR UPDATE SKIP LOCKED)
           UPDATE ${table} m SET status = 'sending', attempts = m.attempts + 1, claim_id = $3, claim_instance = $4,
             lease_until = $5, updated_at = $1
           FROM due WHERE m.id = due.id
           RETURNING m.*`,
          [now, limit, claimId, instance ?? null, leaseUntil],
        );
        claimed.sort((a, b) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
        return {
          claimed: claimed.map(toRecord),
          exhausted: exhausted.map(toRecord),
          ...(expired.length ? { expired: expired.map((r) => ({ id: r.id, kind: r.kind, ...(r.appointment_id !== null ? { appointmentId: r.appointment_id } : {}) })) } : {}),
        };
      });
    },
    // The lease ends now, so the next claim takes the row at once; attempts stay counted (the send may have started).
    reclaimInstance: (instance, now) =>
      pg.run(`UPDATE ${table} SET lease_until = $2, updated_at = $2 WHERE status = 'sending' AND claim_instance = $1 AND lease_until > $2`, [instance, now]),
    async complete(id, claimId) {
      return changed(await pg.run(`DELETE FROM ${table} WHERE id = $1 AND claim_id = $2 AND status = 'sending'`, [id, claimId]));
    },
    async reschedule(id, claimId, next, error, now) {
      return changed(
        await pg.run(
          `UPDATE ${table} SET status = 'pending', next_attempt_at = $3, last_error = $4, claim_id = NULL, lease_until = NULL, updated_at = $5
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, next, error, now],
        ),
      );
    },
    async fail(id, claimId, error, now) {
      return changed(
        await pg.run(
          `UPDATE ${table} SET status = 'failed', last_error = $3, claim_id = NULL, lease_until = NULL, updated_at = $4
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, error, now],
        ),
      );
    },
    async release(id, claimId, now) {
      return changed(
        await pg.run(
          `UPDATE ${table} SET status = 'pending', attempts = GREATEST(attempts - 1, 0), claim_id = NULL, lease_until = NULL, updated_at = $3
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, now],
        ),
      );
    },
    async nextDueAt() {
      const [row] = await pg.query<{ t: string | null }>(
        `SELECT LEAST((SELECT MIN(next_attempt_at) FROM ${table} WHERE status = 'pending'),
                      (SELECT MIN(lease_until) FROM ${table} WHERE status = 'sending')) AS t`,
      );
      return row?.t ?? undefined;
    },
    purgeFailed: (before) => pg.run(`DELETE FROM ${table} WHERE status = 'failed' AND updated_at < $1`, [before]),
    async requeue(id, now) {
      return changed(
        await pg.run(`UPDATE ${table} SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2 WHERE id = $1 AND status = 'failed'`, [id, now]),
      );
    },
    discard: (appointmentId, kinds) => queueDiscard(pg, table, appointmentId, kinds),
    async counts(now) {
      const result = { pending: 0, scheduled: 0, sending: 0, failed: 0 };
      const sql = SCHEDULED[table]
        ? `SELECT CASE WHEN status = 'pending' AND not_after IS NOT NULL AND next_attempt_at > $1 THEN 'scheduled' ELSE status END AS status,
             COUNT(*)::int AS n FROM ${table} GROUP BY 1`
        : `SELECT status, COUNT(*)::int AS n FROM ${table} WHERE $1::text IS NOT NULL GROUP BY status`;
      for (const { status, n } of await pg.query<{ status: keyof typeof result; n: number }>(sql, [now ?? ''])) {
        result[status] = n;
      }
      return result;
    },
    async get(id) {
      const [row] = await pg.query<Row>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
      return row ? toRecord(row) : undefined;
    },
  };
}
