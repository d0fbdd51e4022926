import type { Database } from 'better-sqlite3';
import { ERASED_FIELDS, type RetentionStore } from '../../retention/types';

/** RetentionStore on better-sqlite3 (migration 012: appointments.erased_at, processing-log action; 013: SMS opt-in and queue). */
export function createSqliteRetentionStore(db: Database): RetentionStore {
  const due = db.prepare<[string, number], { id: string }>(
    `SELECT id FROM appointments WHERE erased_at IS NULL AND end_utc <= ? ORDER BY end_utc LIMIT ?`,
  );
  // The columns are NOT NULL since migration 002: an empty name and address say "erased" without a schema change.
  const erase = db.prepare<[string, string, string]>(
    `UPDATE appointments SET resident_name = '', resident_email = '', resident_phone = NULL, remarks = NULL, sms_opt_in = 0,
       idempotency_key = ?, erased_at = ? WHERE id = ? AND erased_at IS NULL`,
  );
  const mails = db.prepare<[string]>(`DELETE FROM mail_outbox WHERE appointment_id = ? AND status IN ('pending', 'failed')`);
  // An unsent SMS holds the number and the access link (migration 013).
  const sms = db.prepare<[string]>(`DELETE FROM sms_outbox WHERE appointment_id = ? AND status IN ('pending', 'failed')`);
  // The third participant's address (migration 017) goes with the resident's.
  const guest = db.prepare<[string]>(`UPDATE call_guests SET email = NULL WHERE appointment_id = ?`);
  // The verified person's pseudonym kept for an Open Klant registration's own record (migration 016); the processing
  // log keeps its copy, which is what the Logboek standard asks the log for.
  const subject = db.prepare<[string]>(`UPDATE contact_registrations SET data_subject_id = NULL WHERE appointment_id = ?`);
  const log = db.prepare<[string, string, string]>(
    `INSERT INTO processing_log (at, appointment_id, actor, action, attribute_keys, detail)
     VALUES (?, ?, 'system', 'resident_data_erased', ?, 'retention')`,
  );
  const keys = JSON.stringify(ERASED_FIELDS);
  const tx = db.transaction((cutoff: string, now: string, limit: number): string[] => {
    const ids = due.all(cutoff, limit).map((r) => r.id);
    for (const id of ids) {
      erase.run(`erased:${id}`, now, id);
      mails.run(id);
      sms.run(id);
      guest.run(id);
      subject.run(id);
      log.run(now, id, keys);
    }
    return ids;
  });
  return {
    async eraseEnded(cutoff, now, limit) {
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('limit must be 1-10000');
      return tx.immediate(cutoff, now, limit);
    },
  };
}
