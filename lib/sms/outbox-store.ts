import type { QueueStore, QueuedRecord } from '../outbox/queue-store';

/**
 * An SMS as the outbox keeps it until the gateway accepted it. Holds personal data (the number) and a secret (the
 * text carries the resident's access link): the row is deleted once sent, failed rows after the outbox's retention.
 */
export interface SmsRecord extends QueuedRecord {
  /** The idv-sms-gateway config node that sends it (its id): the gateway's address and credential stay there. */
  gateway: string;
  /** Recipient, E.164 (+316…). */
  to: string;
  text: string;
}

export type NewSmsRecord = Omit<SmsRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>;

/** Persistence of the SMS outbox (lib/store/sqlite/sms-outbox.ts, migration 013). */
export interface SmsOutboxStore extends QueueStore<SmsRecord> {
  insert(record: NewSmsRecord): Promise<void>;
}
