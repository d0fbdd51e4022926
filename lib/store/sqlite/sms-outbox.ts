import type { Database } from 'better-sqlite3';
import type { NewSmsRecord, SmsOutboxStore } from '../../sms/outbox-store';
import { toSmsRecord } from '../rows';
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
       next_attempt_at, created_at, updated_at)
     VALUES (@id, @kind, @appointmentId, @gateway, @to, @text, 'pending', 0, @maxAttempts, @nextAttemptAt, @createdAt, @createdAt)`,
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
        createdAt: r.createdAt,
      });
    },
    discard: queueDiscard(db, 'sms_outbox'),
  };
}

/** SQLite implementation of SmsOutboxStore on the sms_outbox table from migration 013. */
export function createSqliteSmsOutboxStore(db: Database): SmsOutboxStore {
  const writes = sqliteSmsWrites(db);
  return {
    ...sqliteQueue(db, 'sms_outbox', toSmsRecord),
    async insert(r: NewSmsRecord) {
      writes.insert(r);
    },
  };
}
