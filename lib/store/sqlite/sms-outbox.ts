import type { Database } from 'better-sqlite3';
import type { NewSmsRecord, SmsOutboxStore } from '../../sms/outbox-store';
import { toSmsDelivery, toSmsRecord, type SmsDeliveryRow } from '../rows';
import { queueDiscard, sqliteQueue } from './queue';

/** The synchronous writes of the SMS outbox, for use inside a larger transaction (lib/store/sqlite/events.ts). */
export interface SqliteSmsWrites {
  insert(record: NewSmsRecord): void;
  /** Deletes not-yet-sent SMS of an appointment (optionally of some kinds); returns how many. */
  discard(appointmentId: string, kinds?: readonly string[]): number;
}

export function sqliteSmsWrites(db: Database): SqliteSmsWrites {
  const insert = db.prepare(
    `INSERT INTO sms_outbox (id, kind, appointment_id, gateway, to_number, text_body, status, attempts, max_attempts,
       next_attempt_at, not_after, created_at, updated_at)
     VALUES (@id, @kind, @appointmentId, @gateway, @to, @text, 'pending', 0, @maxAttempts, @nextAttemptAt, @notAfter, @createdAt, @createdAt)`,
  );
  return {
    insert(r) {
      insert.run({
        id: r.id,
        kind: r.kind,
        appointmentId: r.appointmentId ?? null,
        gateway: r.gateway,
        to: r.to,
        text: r.text,
        maxAttempts: r.maxAttempts,
        nextAttemptAt: r.nextAttemptAt,
        notAfter: r.notAfter ?? null,
        createdAt: r.createdAt,
      });
    },
    discard: queueDiscard(db, 'sms_outbox'),
  };
}

/** SQLite implementation of SmsOutboxStore on sms_outbox (migration 013) and sms_deliveries (015). */
export function createSqliteSmsOutboxStore(db: Database): SmsOutboxStore {
  const writes = sqliteSmsWrites(db);
  const accepted = db.prepare(
    `INSERT INTO sms_deliveries (reference, gateway, kind, appointment_id, status, accepted_at)
     VALUES (@reference, @gateway, @kind, @appointmentId, 'accepted', @acceptedAt) ON CONFLICT (reference) DO NOTHING`,
  );
  const get = db.prepare<[string], SmsDeliveryRow>('SELECT * FROM sms_deliveries WHERE reference = ?');
  const report = db.prepare<[string, string | null, string, string, string], SmsDeliveryRow>(
    `UPDATE sms_deliveries SET status = ?, code = ?, reported_at = ? WHERE reference = ? AND gateway = ? AND status = 'accepted' RETURNING *`,
  );
  return {
    ...sqliteQueue(db, 'sms_outbox', toSmsRecord),
    async insert(r: NewSmsRecord) {
      writes.insert(r);
    },
    async accepted(d) {
      accepted.run({ reference: d.reference, gateway: d.gateway, kind: d.kind, appointmentId: d.appointmentId ?? null, acceptedAt: d.acceptedAt });
    },
    async report(reference, gateway, status, code, at) {
      const row = report.get(status, code ?? null, at, reference, gateway);
      if (row) return { result: 'recorded', delivery: toSmsDelivery(row) };
      const existing = get.get(reference);
      return existing && existing.gateway === gateway ? { result: 'final', delivery: toSmsDelivery(existing) } : { result: 'unknown' };
    },
    async delivery(reference) {
      const row = get.get(reference);
      return row ? toSmsDelivery(row) : undefined;
    },
  };
}
