import type { Database } from 'better-sqlite3';
import type { NewOutboxRecord, OutboxRecord, OutboxStore } from '../../mail/outbox-store';
import { queueDiscard, sqliteQueue } from './queue';

interface Row {
  id: string;
  kind: string;
  appointment_id: string | null;
  message_id: string;
  from_name: string | null;
  from_address: string;
  to_address: string;
  to_name: string | null;
  subject: string;
  text_body: string;
  html_body: string | null;
  ics_method: 'REQUEST' | 'CANCEL' | null;
  ics_content: string | null;
  status: OutboxRecord['status'];
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  claim_id: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

function toRecord(row: Row): OutboxRecord {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.appointment_id !== null ? { appointmentId: row.appointment_id } : {}),
    messageId: row.message_id,
    ...(row.from_name !== null ? { fromName: row.from_name } : {}),
    fromAddress: row.from_address,
    toAddress: row.to_address,
    ...(row.to_name !== null ? { toName: row.to_name } : {}),
    subject: row.subject,
    text: row.text_body,
    ...(row.html_body !== null ? { html: row.html_body } : {}),
    ...(row.ics_method !== null && row.ics_content !== null ? { ics: { method: row.ics_method, content: row.ics_content } } : {}),
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.next_attempt_at,
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

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
