import type { Database } from 'better-sqlite3';
import type { ClaimResult, NewOutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { toOutboxRecord as toRecord, type OutboxRow as Row } from '../rows';

/** The synchronous writes of the outbox, for use inside a larger transaction (lib/store/sqlite/events.ts). */
export interface SqliteOutboxWrites {
  insert(record: NewOutboxRecord): void;
  /** Deletes not-yet-sent mails of an appointment (optionally of some kinds); returns how many. */
  discard(appointmentId: string, kinds?: readonly string[]): number;
}

export function sqliteOutboxWrites(db: Database): SqliteOutboxWrites {
  const insert = db.prepare(
    `INSERT INTO mail_outbox (id, kind, appointment_id, message_id, from_name, from_address, to_address, to_name, subject,
       text_body, html_body, ics_method, ics_content, status, attempts, max_attempts, next_attempt_at, created_at, updated_at)
     VALUES (@id, @kind, @appointmentId, @messageId, @fromName, @fromAddress, @toAddress, @toName, @subject,
       @text, @html, @icsMethod, @icsContent, 'pending', 0, @maxAttempts, @nextAttemptAt, @createdAt, @createdAt)`,
  );
  const discardAll = db.prepare(`DELETE FROM mail_outbox WHERE appointment_id = ? AND status IN ('pending', 'failed')`);
  return {
    insert(r) {
      insert.run({
        id: r.id,
        kind: r.kind,
        appointmentId: r.appointmentId ?? null,
        messageId: r.messageId,
        fromName: r.fromName ?? null,
        fromAddress: r.fromAddress,
        toAddress: r.toAddress,
        toName: r.toName ?? null,
        subject: r.subject,
        text: r.text,
        html: r.html ?? null,
        icsMethod: r.ics?.method ?? null,
        icsContent: r.ics?.content ?? null,
        maxAttempts: r.maxAttempts,
        nextAttemptAt: r.nextAttemptAt,
        createdAt: r.createdAt,
      });
    },
    discard(appointmentId, kinds) {
      if (!kinds || kinds.length === 0) return discardAll.run(appointmentId).changes;
      const placeholders = kinds.map(() => '?').join(', ');
      return db
        .prepare(`DELETE FROM mail_outbox WHERE appointment_id = ? AND status IN ('pending', 'failed') AND kind IN (${placeholders})`)
        .run(appointmentId, ...kinds).changes;
    },
  };
}

/** SQLite implementation of OutboxStore on the mail_outbox table from migration 003. */
export function createSqliteOutboxStore(db: Database): OutboxStore {
  const writes = sqliteOutboxWrites(db);
  const exhaust = db.prepare(
    `UPDATE mail_outbox SET status = 'failed', last_error = 'EINTERRUPTED', claim_id = NULL, lease_until = NULL, updated_at = @now
     WHERE status = 'sending' AND lease_until <= @now AND attempts >= max_attempts
     RETURNING *`,
  );
  const selectDue = db.prepare(
    `SELECT id FROM mail_outbox
     WHERE (status = 'pending' AND next_attempt_at <= @now) OR (status = 'sending' AND lease_until <= @now)
     ORDER BY next_attempt_at, created_at LIMIT @limit`,
  );
  const claimOne = db.prepare(
    `UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, claim_id = @claimId, claim_instance = @instance,
       lease_until = @leaseUntil, updated_at = @now
     WHERE id = @id RETURNING *`,
  );
  const claim = db.transaction((now: string, leaseUntil: string, claimId: string, limit: number, instance: string | null): ClaimResult => {
    const exhausted = (exhaust.all({ now }) as Row[]).map(toRecord);
    const ids = selectDue.all({ now, limit }) as { id: string }[];
    const claimed = ids.map(({ id }) => toRecord(claimOne.get({ id, claimId, leaseUntil, now, instance }) as Row));
    return { claimed, exhausted };
  });
  // The lease ends now, so the next claim takes the mail at once; attempts stay counted (the send may have started).
  const reclaim = db.prepare(
    `UPDATE mail_outbox SET lease_until = @now, updated_at = @now
     WHERE status = 'sending' AND claim_instance = @instance AND lease_until > @now`,
  );
  const complete = db.prepare(`DELETE FROM mail_outbox WHERE id = ? AND claim_id = ? AND status = 'sending'`);
  const reschedule = db.prepare(
    `UPDATE mail_outbox SET status = 'pending', next_attempt_at = @next, last_error = @error, claim_id = NULL,
       lease_until = NULL, updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const fail = db.prepare(
    `UPDATE mail_outbox SET status = 'failed', last_error = @error, claim_id = NULL, lease_until = NULL, updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const release = db.prepare(
    `UPDATE mail_outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), claim_id = NULL, lease_until = NULL,
       updated_at = @now
     WHERE id = @id AND claim_id = @claimId AND status = 'sending'`,
  );
  const nextDue = db.prepare(
    `SELECT MIN(t) AS t FROM (
       SELECT MIN(next_attempt_at) AS t FROM mail_outbox WHERE status = 'pending'
       UNION ALL SELECT MIN(lease_until) AS t FROM mail_outbox WHERE status = 'sending')`,
  );
  const purge = db.prepare(`DELETE FROM mail_outbox WHERE status = 'failed' AND updated_at < ?`);
  const requeue = db.prepare(
    `UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = @now, updated_at = @now
     WHERE id = @id AND status = 'failed'`,
  );
  const counts = db.prepare(`SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status`);
  const get = db.prepare('SELECT * FROM mail_outbox WHERE id = ?');

  return {
    async insert(r: NewOutboxRecord) {
      writes.insert(r);
    },
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
      return writes.discard(appointmentId, kinds);
    },
    async counts() {
      const result = { pending: 0, sending: 0, failed: 0 };
      for (const { status, n } of counts.all() as { status: keyof typeof result; n: number }[]) result[status] = n;
      return result;
    },
    async get(id) {
      const row = get.get(id) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
  };
}
