/** The resident's fields retention erases (issue 14, point 5); what the processing log names as erased. */
export const ERASED_FIELDS = ['name', 'email', 'phone', 'remarks'] as const;

/** Persistence of the retention rule; async so PostgreSQL can replace SQLite (lib/store/sqlite/retention.ts). */
export interface RetentionStore {
  /**
   * Erases, in one transaction, the resident's name, e-mail, phone and remarks (and the booking's idempotency key,
   * a hash of the e-mail) of at most `limit` appointments that ended at or before `cutoffIso` and were not erased
   * yet — booked or cancelled alike — deletes their mails still in the outbox (failed ones keep the address), and
   * writes one 'resident_data_erased' line per appointment to the processing log (actor 'system'). Returns the ids.
   */
  eraseEnded(cutoffIso: string, nowIso: string, limit: number): Promise<string[]>;
}
