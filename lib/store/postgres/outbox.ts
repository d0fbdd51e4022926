import type { ClaimResult, NewOutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { toOutboxRecord, type OutboxRow } from '../rows';
import type { Pg, Query } from './client';

const INSERT = `INSERT INTO mail_outbox (id, kind, appointment_id, message_id, from_name, from_address, to_address, to_name, subject,
    text_body, html_body, ics_method, ics_content, status, attempts, max_attempts, next_attempt_at, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', 0, $14, $15, $16, $16)`;

/** Outbox writes on a transaction's connection (lib/store/postgres/events.ts applies a hand-off's effects with them). */
export function outboxWrites(q: Query) {
  return {
    async insert(r: NewOutboxRecord): Promise<void> {
      await q.run(INSERT, [
        r.id, r.kind, r.appointmentId ?? null, r.messageId, r.fromName ?? null, r.fromAddress, r.toAddress, r.toName ?? null,
        r.subject, r.text, r.html ?? null, r.ics?.method ?? null, r.ics?.content ?? null, r.maxAttempts, r.nextAttemptAt, r.createdAt,
      ]);
    },
    async discard(appointmentId: string, kinds?: readonly string[]): Promise<number> {
      if (!kinds || kinds.length === 0) {
        return q.run(`DELETE FROM mail_outbox WHERE appointment_id = $1 AND status IN ('pending', 'failed')`, [appointmentId]);
      }
      return q.run(`DELETE FROM mail_outbox WHERE appointment_id = $1 AND status IN ('pending', 'failed') AND kind = ANY($2::text[])`, [appointmentId, [...kinds]]);
    },
  };
}

/**
 * OutboxStore on PostgreSQL. Several instances run the outbox worker against one table: `claimDue` leases due mails
 * with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint sets without waiting for each other and a mail is
 * never sent by two of them; a worker that dies leaves its lease to expire (or to its own restart's reclaim).
 */
export function createPostgresOutboxStore(pg: Pg): OutboxStore {
  const writes = outboxWrites(pg);
  const changed = (n: number) => n === 1;
  return {
    insert: (r) => writes.insert(r),
    async claimDue(now, leaseUntil, claimId, limit, instance): Promise<ClaimResult> {
      return pg.tx(async (q) => {
        const exhausted = await q.query<OutboxRow>(
          `UPDATE mail_outbox SET status = 'failed', last_error = 'EINTERRUPTED', claim_id = NULL, lease_until = NULL, updated_at = $1
           WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'sending' AND lease_until <= $1 AND attempts >= max_attempts
                        FOR UPDATE SKIP LOCKED)
           RETURNING *`,
          [now],
        );
        const claimed = await q.query<OutboxRow>(
          `WITH due AS (
             SELECT id FROM mail_outbox
             WHERE (status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until <= $1)
             ORDER BY next_attempt_at, created_at LIMIT $2
             FOR UPDATE SKIP LOCKED)
           UPDATE mail_outbox m SET status = 'sending', attempts = m.attempts + 1, claim_id = $3, claim_instance = $4,
             lease_until = $5, updated_at = $1
           FROM due WHERE m.id = due.id
           RETURNING m.*`,
          [now, limit, claimId, instance ?? null, leaseUntil],
        );
        claimed.sort((a, b) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
        return { claimed: claimed.map(toOutboxRecord), exhausted: exhausted.map(toOutboxRecord) };
      });
    },
    // The lease ends now, so the next claim takes the mail at once; attempts stay counted (the send may have started).
    reclaimInstance: (instance, now) =>
      pg.run(`UPDATE mail_outbox SET lease_until = $2, updated_at = $2 WHERE status = 'sending' AND claim_instance = $1 AND lease_until > $2`, [instance, now]),
    async complete(id, claimId) {
      return changed(await pg.run(`DELETE FROM mail_outbox WHERE id = $1 AND claim_id = $2 AND status = 'sending'`, [id, claimId]));
    },
    async reschedule(id, claimId, next, error, now) {
      return changed(
        await pg.run(
          `UPDATE mail_outbox SET status = 'pending', next_attempt_at = $3, last_error = $4, claim_id = NULL, lease_until = NULL, updated_at = $5
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, next, error, now],
        ),
      );
    },
    async fail(id, claimId, error, now) {
      return changed(
        await pg.run(
          `UPDATE mail_outbox SET status = 'failed', last_error = $3, claim_id = NULL, lease_until = NULL, updated_at = $4
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, error, now],
        ),
      );
    },
    async release(id, claimId, now) {
      return changed(
        await pg.run(
          `UPDATE mail_outbox SET status = 'pending', attempts = GREATEST(attempts - 1, 0), claim_id = NULL, lease_until = NULL, updated_at = $3
           WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
          [id, claimId, now],
        ),
      );
    },
    async nextDueAt() {
      const [row] = await pg.query<{ t: string | null }>(
        `SELECT LEAST((SELECT MIN(next_attempt_at) FROM mail_outbox WHERE status = 'pending'),
                      (SELECT MIN(lease_until) FROM mail_outbox WHERE status = 'sending')) AS t`,
      );
      return row?.t ?? undefined;
    },
    purgeFailed: (before) => pg.run(`DELETE FROM mail_outbox WHERE status = 'failed' AND updated_at < $1`, [before]),
    async requeue(id, now) {
      return changed(
        await pg.run(`UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2 WHERE id = $1 AND status = 'failed'`, [id, now]),
      );
    },
    discard: (appointmentId, kinds) => writes.discard(appointmentId, kinds),
    async counts() {
      const result = { pending: 0, sending: 0, failed: 0 };
      for (const { status, n } of await pg.query<{ status: keyof typeof result; n: number }>(`SELECT status, COUNT(*)::int AS n FROM mail_outbox GROUP BY status`)) {
        result[status] = n;
      }
      return result;
    },
    async get(id) {
      const [row] = await pg.query<OutboxRow>('SELECT * FROM mail_outbox WHERE id = $1', [id]);
      return row ? toOutboxRecord(row) : undefined;
    },
  };
}
