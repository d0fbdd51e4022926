import type { QueueClaim, QueueCounts, QueuedRecord, QueueStore } from '../outbox/queue-store';

/** A mail as the outbox keeps it until it is sent. Holds personal data: recipient and rendered content. */
export interface OutboxRecord extends QueuedRecord {
  /** Message-ID header value (with angle brackets), fixed at enqueue so a re-send after a crash is recognisable. */
  messageId: string;
  fromName?: string;
  fromAddress: string;
  toAddress: string;
  toName?: string;
  subject: string;
  text: string;
  html?: string;
  ics?: { method: 'REQUEST' | 'CANCEL'; content: string };
  /** Last error code (e.g. ETIMEDOUT, EENVELOPE:550), never a server message (those can quote the address). */
  lastError?: string;
}

export type NewOutboxRecord = Omit<OutboxRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>;

export type ClaimResult = QueueClaim<OutboxRecord>;

export type OutboxCounts = QueueCounts;

/** Persistence of the mail outbox (lib/store/sqlite/outbox.ts, lib/store/postgres/outbox.ts). */
export interface OutboxStore extends QueueStore<OutboxRecord> {
  insert(record: NewOutboxRecord): Promise<void>;
}
