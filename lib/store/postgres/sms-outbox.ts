import type { NewSmsRecord, SmsOutboxStore } from '../../sms/outbox-store';
import { toSmsDelivery, toSmsRecord, type SmsDeliveryRow } from '../rows';
import type { Pg, Query } from './client';
import { postgresQueue, queueDiscard } from './queue';

/** SMS outbox writes on a transaction's connection (lib/store/postgres/events.ts applies a hand-off's effects with them). */
export function smsWrites(q: Query) {
  return {
    async insert(r: NewSmsRecord): Promise<void> {
      await q.run(
        `INSERT INTO sms_outbox (id, kind, appointment_id, gateway, to_number, text_body, status, attempts, max_attempts,
           next_attempt_at, created_at, updated_at, not_after)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9, $10)`,
        [r.id, r.kind, r.appointmentId ?? null, r.gateway, r.to, r.text, r.maxAttempts, r.nextAttemptAt, r.createdAt, r.notAfter ?? null],
      );
    },
    discard: (appointmentId: string, kinds?: readonly string[]) => queueDiscard(q, 'sms_outbox', appointmentId, kinds),
  };
}

/** SmsOutboxStore on PostgreSQL (migrations 013, 015): the shared queue (lib/store/postgres/queue.ts) on sms_outbox. */
export function createPostgresSmsOutboxStore(pg: Pg): SmsOutboxStore {
  const writes = smsWrites(pg);
  return {
    ...postgresQueue(pg, 'sms_outbox', toSmsRecord),
    insert: (r) => writes.insert(r),
    async accepted(d) {
      await pg.run(
        `INSERT INTO sms_deliveries (reference, gateway, kind, appointment_id, status, accepted_at)
         VALUES ($1, $2, $3, $4, 'accepted', $5) ON CONFLICT (reference) DO NOTHING`,
        [d.reference, d.gateway, d.kind, d.appointmentId ?? null, d.acceptedAt],
      );
    },
    async report(reference, gateway, status, code, at) {
      const [row] = await pg.query<SmsDeliveryRow>(
        `UPDATE sms_deliveries SET status = $1, code = $2, reported_at = $3 WHERE reference = $4 AND gateway = $5 AND status = 'accepted' RETURNING *`,
        [status, code ?? null, at, reference, gateway],
      );
      if (row) return { result: 'recorded', delivery: toSmsDelivery(row) };
      const [existing] = await pg.query<SmsDeliveryRow>('SELECT * FROM sms_deliveries WHERE reference = $1', [reference]);
      return existing && existing.gateway === gateway ? { result: 'final', delivery: toSmsDelivery(existing) } : { result: 'unknown' };
    },
    async delivery(reference) {
      const [row] = await pg.query<SmsDeliveryRow>('SELECT * FROM sms_deliveries WHERE reference = $1', [reference]);
      return row ? toSmsDelivery(row) : undefined;
    },
  };
}
