import type { NewSmsRecord, SmsOutboxStore } from '../../sms/outbox-store';
import { toSmsRecord } from '../rows';
import type { Pg, Query } from './client';
import { postgresQueue, queueDiscard } from './queue';

/** SMS outbox writes on a transaction's connection (lib/store/postgres/events.ts applies a hand-off's effects with them). */
export function smsWrites(q: Query) {
  return {
    async insert(r: NewSmsRecord): Promise<void> {
      await q.run(
        `INSERT INTO sms_outbox (id, kind, appointment_id, gateway, to_number, text_body, status, attempts, max_attempts,
           next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9)`,
        [r.id, r.kind, r.appointmentId ?? null, r.gateway, r.to, r.text, r.maxAttempts, r.nextAttemptAt, r.createdAt],
      );
    },
    discard: (appointmentId: string, kinds?: readonly string[]) => queueDiscard(q, 'sms_outbox', appointmentId, kinds),
  };
}

/** SmsOutboxStore on PostgreSQL (migration 013): the shared queue (lib/store/postgres/queue.ts) on sms_outbox. */
export function createPostgresSmsOutboxStore(pg: Pg): SmsOutboxStore {
  const writes = smsWrites(pg);
  return { ...postgresQueue(pg, 'sms_outbox', toSmsRecord), insert: (r) => writes.insert(r) };
}
