import type { NewOutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { toOutboxRecord } from '../rows';
import type { Pg, Query } from './client';
import { postgresQueue, queueDiscard } from './queue';

const INSERT = `INSERT INTO mail_outbox (id, kind, appointment_id, message_id, from_name, from_address, to_address, to_name, subject,
    text_body, html_body, ics_method, ics_content, status, attempts, max_attempts, next_attempt_at, created_at, updated_at, not_after)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', 0, $14, $15, $16, $16, $17)`;

/** Outbox writes on a transaction's connection (lib/store/postgres/events.ts applies a hand-off's effects with them). */
export function outboxWrites(q: Query) {
  return {
    async insert(r: NewOutboxRecord): Promise<void> {
      await q.run(INSERT, [
        r.id, r.kind, r.appointmentId ?? null, r.messageId, r.fromName ?? null, r.fromAddress, r.toAddress, r.toName ?? null,
        r.subject, r.text, r.html ?? null, r.ics?.method ?? null, r.ics?.content ?? null, r.maxAttempts, r.nextAttemptAt, r.createdAt,
        r.notAfter ?? null,
      ]);
    },
    discard: (appointmentId: string, kinds?: readonly string[]) => queueDiscard(q, 'mail_outbox', appointmentId, kinds),
    /** Deletes the appointment's scheduled mails (reminders: not_after set) not being sent right now. */
    discardScheduled: (appointmentId: string) =>
      q.run(`DELETE FROM mail_outbox WHERE appointment_id = $1 AND not_after IS NOT NULL AND status IN ('pending', 'failed')`, [appointmentId]),
  };
}

/** OutboxStore on PostgreSQL: the shared queue (lib/store/postgres/queue.ts) on mail_outbox, plus its insert. */
export function createPostgresOutboxStore(pg: Pg): OutboxStore {
  const writes = outboxWrites(pg);
  return { ...postgresQueue(pg, 'mail_outbox', toOutboxRecord), insert: (r) => writes.insert(r) };
}
