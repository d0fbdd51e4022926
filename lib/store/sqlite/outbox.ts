import type { Database } from 'better-sqlite3';
import type { NewOutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { toOutboxRecord as toRecord } from '../rows';
import { queueDiscard, sqliteQueue } from './queue';

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
  const discard = queueDiscard(db, 'mail_outbox');
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
    discard,
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
