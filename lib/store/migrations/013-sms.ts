import type { Migration } from '../migration';

/**
 * SMS as a channel (issue 14, point 2).
 *
 * - appointments.sms_opt_in: the resident (or the KCC for them) asked for SMS; resident_phone then holds the number
 *   in E.164 (+316…), checked as a Dutch mobile number. Retention erases it with the other resident fields.
 * - sms_outbox: the SMS queue, the same queue columns as mail_outbox (lib/outbox/queue-store.ts) plus the gateway
 *   (the idv-sms-gateway config node id), the number and the text. The text carries the resident's access link: the
 *   row is deleted once the gateway accepted it, failed rows after the outbox's retention (7 days by default).
 *
 * PostgreSQL twin: the same statements (TEXT and INTEGER columns as here).
 */
export const migration: Migration = {
  id: 13,
  name: 'sms',
  up: `
ALTER TABLE appointments ADD COLUMN sms_opt_in INTEGER NOT NULL DEFAULT 0 CHECK (sms_opt_in IN (0, 1));

CREATE TABLE sms_outbox (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  appointment_id  TEXT,
  gateway         TEXT NOT NULL,
  to_number       TEXT NOT NULL,
  text_body       TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  claim_id        TEXT,
  claim_instance  TEXT,
  lease_until     TEXT,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (status, next_attempt_at);
CREATE INDEX sms_outbox_appointment ON sms_outbox (appointment_id);
`,
};
