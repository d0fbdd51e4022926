import type { Migration } from '../migration';

/**
 * SMS reminders, gateway delivery reports and connection quality (issue 14, the parts after h-life and h-sms).
 *
 * - sms_outbox.not_after: a scheduled SMS (a reminder) is deleted unsent once this instant (the appointment's start)
 *   has passed, and with the appointment's cancellation or move, as mail_outbox.not_after (012) does for mails.
 * - sms_deliveries: one row per SMS a gateway accepted, keyed by the reference we gave it (the outbox id, echoed in
 *   the gateway's delivery report). Ids, kind and codes only: no number, no text (the outbox row with those is
 *   deleted when the gateway accepts it). Kept as long as the appointment's other non-personal records.
 * - call_quality: per call and side, how long the media was good, poor or absent (milliseconds). Aggregate figures
 *   only, for the manager's statistics (lib/statistics); nothing that tells who was in the call.
 *
 * PostgreSQL twin: lib/store/postgres/migrations/015-sms-reminders-quality.ts.
 */
export const migration: Migration = {
  id: 15,
  name: 'sms-reminders-quality',
  up: `
ALTER TABLE sms_outbox ADD COLUMN not_after TEXT;
CREATE INDEX sms_outbox_not_after ON sms_outbox (not_after) WHERE not_after IS NOT NULL;

CREATE TABLE sms_deliveries (
  reference      TEXT PRIMARY KEY,
  gateway        TEXT NOT NULL,
  kind           TEXT NOT NULL,
  appointment_id TEXT,
  status         TEXT NOT NULL CHECK (status IN ('accepted', 'delivered', 'failed')),
  code           TEXT,
  accepted_at    TEXT NOT NULL,
  reported_at    TEXT
);
CREATE INDEX sms_deliveries_appointment ON sms_deliveries (appointment_id);

CREATE TABLE call_quality (
  appointment_id TEXT NOT NULL,
  side           TEXT NOT NULL CHECK (side IN ('resident', 'agent')),
  good_ms        INTEGER NOT NULL CHECK (good_ms >= 0),
  poor_ms        INTEGER NOT NULL CHECK (poor_ms >= 0),
  none_ms        INTEGER NOT NULL CHECK (none_ms >= 0),
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (appointment_id, side)
);
`,
};
