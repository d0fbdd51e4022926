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

/** What a gateway said about one SMS it had accepted (its delivery report). */
export type DeliveryStatus = 'delivered' | 'failed';

/** An SMS a gateway accepted, as kept for its delivery report (migration 015): ids, kind and codes, never number or text. */
export interface SmsDelivery {
  /** Our reference (the outbox id), which the gateway echoes in its report. */
  reference: string;
  gateway: string;
  kind: string;
  appointmentId?: string;
  status: 'accepted' | DeliveryStatus;
  /** The gateway's error or reason code of a failed delivery (letters, digits, a few signs; at most 40). */
  code?: string;
  acceptedAt: string;
  reportedAt?: string;
}

/** Result of recording a report: 'recorded', 'unknown' (no SMS with that reference from that gateway) or 'final' (already settled). */
export type ReportOutcome = { result: 'recorded'; delivery: SmsDelivery } | { result: 'unknown' } | { result: 'final'; delivery: SmsDelivery };

/** Persistence of the SMS outbox (lib/store/sqlite/sms-outbox.ts, migration 013) and its delivery reports (015). */
export interface SmsOutboxStore extends QueueStore<SmsRecord> {
  insert(record: NewSmsRecord): Promise<void>;
  /** Notes that the gateway accepted an SMS (idempotent: a re-send after a crash keeps the first row). */
  accepted(delivery: Pick<SmsDelivery, 'reference' | 'gateway' | 'kind' | 'appointmentId' | 'acceptedAt'>): Promise<void>;
  /**
   * Records a gateway's report on an SMS it accepted, matched by reference and gateway; a report on an SMS already
   * delivered or failed changes nothing ('final'), so a replayed or late report cannot turn 'delivered' into 'failed'.
   */
  report(reference: string, gateway: string, status: DeliveryStatus, code: string | undefined, atIso: string): Promise<ReportOutcome>;
  delivery(reference: string): Promise<SmsDelivery | undefined>;
}
