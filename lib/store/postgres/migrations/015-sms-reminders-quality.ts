import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/015-sms-reminders-quality.ts: `sms_outbox.not_after` (scheduled SMS, the
 * reminders), `sms_deliveries` (gateway delivery reports by our reference, ids and codes only) and `call_quality`
 * (per call and side, milliseconds of good, poor and no media).
 */
export const migration: Migration = {
  id: 15,
  name: 'sms-reminders-quality',
  up: `
ALTER TABLE sms_outbox ADD COLUMN not_after text COLLATE "C";
CREATE INDEX sms_outbox_not_after ON sms_outbox (not_after) WHERE not_after IS NOT NULL;

CREATE TABLE sms_deliveries (
  reference      text COLLATE "C" PRIMARY KEY,
  gateway        text NOT NULL,
  kind           text NOT NULL,
  appointment_id text COLLATE "C",
  status         text NOT NULL CHECK (status IN ('accepted', 'delivered', 'failed')),
  code           text,
  accepted_at    text COLLATE "C" NOT NULL,
  reported_at    text COLLATE "C"
);
CREATE INDEX sms_deliveries_appointment ON sms_deliveries (appointment_id);

CREATE TABLE call_quality (
  appointment_id text COLLATE "C" NOT NULL,
  side           text NOT NULL CHECK (side IN ('resident', 'agent')),
  good_ms        integer NOT NULL CHECK (good_ms >= 0),
  poor_ms        integer NOT NULL CHECK (poor_ms >= 0),
  none_ms        integer NOT NULL CHECK (none_ms >= 0),
  updated_at     text COLLATE "C" NOT NULL,
  PRIMARY KEY (appointment_id, side)
);
`,
};
