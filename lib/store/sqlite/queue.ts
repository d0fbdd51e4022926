import type { Database } from 'better-sqlite3';
import type { QueueClaim, QueuedRecord, QueueStore } from '../../outbox/queue-store';

/** The outbox tables this helper serves; a fixed list, so a table name never comes from outside. */
export type QueueTable = 'mail_outbox' | 'sms_outbox';

/** Tables with scheduled rows (`not_after`: mail since migration 012, SMS since 015): reminders. */
const SCHEDULED: Record<QueueTable, boolean> = { mail_outbox: true, sms_outbox: true };

/**
 * The queue half of an outbox store on SQLite (lib/outbox/queue-store.ts), for any table with the shared columns:
 * id, kind, appointment_id, status, attempts, max_attempts, next_attempt_at, claim_id, claim_instance, lease_until,
 * last_error, created_at, updated_at. The table's own columns are read by `toRecord`; inserting is the table's own.
 */
export function sqliteQueue<Row, R extends QueuedRecord>(db: Database, table: QueueTable, toRecord: (row: Row) => R): QueueStore<R> {
  const exhaust = db.prepare(
    `UPDATE ${table} SET status = 'failed', last_error = 'EINTERRUPTED', claim_id = NULL, lease_until = NULL, updated_at = @now
     WHERE status = 'sending' AND lease_until <= @now AND attempts >= max_attempts
     RETURNING *`,
  );
  const selectDue = db.prepare(
    `SELECT id FROM ${table}
     WHERE (status = 'pending' AND next_attempt_at <= @now) OR (status = 'sending' AND lease_until <= @now)
     ORDER BY next_attempt_at, created_at LIMIT @limit`,
  );
  const claimOne = db.prepare(
    `UPDATE ${table} SET status = 'sending', attempts = attempts + 1, claim_id = @claimId, claim_instance = @instance,
       lease_until = @leaseUntil, updated_at = @now
     WHERE id = @id RETURNING *`,
  );
  // A reminder whose moment passed while nobody could send it (runtime down, clock jump) is worth nothing any more.
  const expire = SCHEDULED[table]
    ? db.prepare(
        `DELETE FROM ${table}
         WHERE not_after IS NOT NULL AND not_after <= @now AND (status = 'pending' OR (status = 'sending' AND lease_until <= @now))
         RETURNING id, kind, appointment_id`,
      )
    : undefined;
  const claim = db.transaction((now: string, leaseUntil: string, claimId: string, limit: number, instance: string | null): QueueClaim<R> => {
    const expired = ((expire?.all({ now }) ?? []) as { id: string; kind: string; appointment_id: string | null }[]).map((r) => ({
      id: r.id,
      kind: r.kind,
      ...(r.appointment_id !== null ? { appointmentId: r.appointment_id } : {}),
    }));
    const exhausted = (exhaust.all({ now }) as Row[]).map(toRecord);
    const ids = selectDue.all({ now, limit }) as { id: string }[];
    const claimed = ids.map(({ id }) => toRecord(claimOne.get({ id, claimId, leaseUntil, now, instance }) as Row));
    return { claimed, exhausted, ...(expired.length ? { expired } : {}) };
  });
  // The lease ends now, so the next claim takes the record at once; attempts stay counted (the send may have started).
  const reclaim = db.prepare(
    `UPDATE ${table} SET lease_until = @now, updated_at = @now
     WHERE status = 'sending' AND claim_instance = @instance AND lease_until > @now`,
  );
  const complete = db.prepare(`DELETE FROM ${table} WHERE id = ? AND claim_id = ? AND status = 'sending'`);
  const reschedule = db.prepare(
    `UPDATE ${table} SET status = 'pending', next_attempt_at = @next, last_error = @error, claim_id = NULL,
       lease_until = NULL, updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const fail = db.prepare(
    `UPDATE ${table} SET status = 'failed', last_error = @error, claim_id = NULL, lease_until = NULL, updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const release = db.prepare(
    `UPDATE ${table} SET status = 'pending', attempts = MAX(attempts - 1, 0), claim_id = NULL, lease_until = NULL,
       updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const nextDue = db.prepare(
    `SELECT MIN(t) AS t FROM (
       SELECT MIN(next_attempt_at) AS t FROM ${table} WHERE status = 'pending'
       UNION ALL SELECT MIN(lease_until) AS t FROM ${table} WHERE status = 'sending')`,
  );
  const purge = db.prepare(`DELETE FROM ${table} WHERE status = 'failed' AND updated_at < ?`);
  const requeue = db.prepare(
    `UPDATE ${table} SET status = 'pending', attempts = 0, next_attempt_at = @now, updated_at = @now
     WHERE id = @id AND status = 'failed'`,
  );
  const counts = db.prepare<[string], { status: string; n: number }>(
    SCHEDULED[table]
      ? `SELECT CASE WHEN status = 'pending' AND not_after IS NOT NULL AND next_attempt_at > ? THEN 'scheduled' ELSE status END AS status,
           COUNT(*) AS n FROM ${table} GROUP BY 1`
      : `SELECT status, COUNT(*) AS n FROM ${table} WHERE ? IS NOT NULL GROUP BY status`,
  );
  const get = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
  const discard = queueDiscard(db, table);

  return {
    async claimDue(now, leaseUntil, claimId, limit, instance) {
      return claim(now, leaseUntil, claimId, limit, instance ?? null);
    },
    async reclaimInstance(instance, now) {
      return reclaim.run({ instance, now }).changes;
    },
    async complete(id, claimId) {
      return complete.run(id, claimId).changes === 1;
    },
    async reschedule(id, claimId, next, error, now) {
      return reschedule.run({ id, claimId, next, error, now }).changes === 1;
    },
    async fail(id, claimId, error, now) {
      return fail.run({ id, claimId, error, now }).changes === 1;
    },
    async release(id, claimId, now) {
      return release.run({ id, claimId, now }).changes === 1;
    },
    async nextDueAt() {
      const row = nextDue.get() as { t: string | null };
      return row.t ?? undefined;
    },
    async purgeFailed(before) {
      return purge.run(before).changes;
    },
    async requeue(id, now) {
      return requeue.run({ id, now }).changes === 1;
    },
    async discard(appointmentId, kinds) {
      return discard(appointmentId, kinds);
    },
    async counts(now) {
      const result = { pending: 0, scheduled: 0, sending: 0, failed: 0 };
      for (const { status, n } of counts.all(now ?? '') as { status: keyof typeof result; n: number }[]) result[status] = n;
      return result;
    },
    async get(id) {
      const row = get.get(id) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
  };
}

/**
 * Deletes not-yet-sent rows of an appointment (optionally of some kinds); synchronous, so it also serves inside a
 * larger transaction (lib/store/sqlite/events.ts). Returns how many.
 */
export function queueDiscard(db: Database, table: QueueTable): (appointmentId: string, kinds?: readonly string[]) => number {
  const discardAll = db.prepare(`DELETE FROM ${table} WHERE appointment_id = ? AND status IN ('pending', 'failed')`);
  return (appointmentId, kinds) => {
    if (!kinds || kinds.length === 0) return discardAll.run(appointmentId).changes;
    const placeholders = kinds.map(() => '?').join(', ');
    return db
      .prepare(`DELETE FROM ${table} WHERE appointment_id = ? AND status IN ('pending', 'failed') AND kind IN (${placeholders})`)
      .run(appointmentId, ...kinds).changes;
  };
}
