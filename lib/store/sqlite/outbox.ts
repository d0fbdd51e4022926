import type { Database } from 'better-sqlite3';
import type { NewOutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { toOutboxRecord as toRecord } from '../rows';
import { queueDiscard, sqliteQueue } from './queue';

/** The synchronous writes of the outbox, for use inside a larger transaction (lib/store/sqlite/events.ts). */
export interface SqliteOutboxWrites {
  insert(record: NewOutboxRecord): void;
  /** Deletes not-yet-sent mails of an appointment (optionally of some kinds); returns how many. */
  discard(appointmentId: string, kinds?: readonly string[]): number;
  /** Deletes the appointment's scheduled mails (reminders: not_after set) not being sent right now; returns how many. */
  discardScheduled(appointmentId: string): number;
}

export function sqliteOutboxWrites(db: Database): SqliteOutboxWrites {
  const insert = db.prepare(
    `INSERT INTO mail_outbox (id, kind, appointment_id, message_id, from_name, from_address, to_address, to_name, subject,
       text_body, html_body, ics_method, ics_content, status, attempts, max_attempts, next_attempt_at, not_after, created_at, updated_at)
     VALUES (@id, @kind, @appointmentId, @messageId, @fromName, @fromAddress, @toAddress, @toName, @subject,
       @text, @html, @icsMethod, @icsContent, 'pending', 0, @maxAttempts, @nextAttemptAt, @notAfter, @createdAt, @createdAt)`,
  );
  const discard = queueDiscard(db, 'mail_outbox');
  const scheduled = db.prepare<[string]>(
    `DELETE FROM mail_outbox WHERE appointment_id = ? AND not_after IS NOT NULL AND status IN ('pending', 'failed')`,
  );
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
        notAfter: r.notAfter ?? null,
        createdAt: r.createdAt,
      });
    },
    discard,
    discardScheduled: (appointmentId) => scheduled.run(appointmentId).changes,
  };
}

/** SQLite implementation of OutboxStore on the mail_outbox table from migration 003. */
export function createSqliteOutboxStore(db: Database): OutboxStore {
  const writes = sqliteOutboxWrites(db);
  return {
    ...sqliteQueue(db, 'mail_outbox', toRecord),
    async insert(r: NewOutboxRecord) {
      writes.insert(r);
    },
  };
}
