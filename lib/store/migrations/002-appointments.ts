import type { Migration } from '../migration';

/**
 * Appointments and the slot claims that make double booking impossible: the primary key of slot_claims says one
 * agent holds one start time at most once, across every connection and process on the database.
 */
export const migration: Migration = {
  id: 2,
  name: 'appointments',
  up: `
CREATE TABLE appointments (
  id TEXT PRIMARY KEY,
  start_utc TEXT NOT NULL,
  end_utc TEXT NOT NULL,
  topic TEXT NOT NULL,
  agent TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('website', 'phone')),
  booked_by TEXT,
  resident_name TEXT NOT NULL,
  resident_email TEXT NOT NULL,
  resident_phone TEXT,
  remarks TEXT,
  status TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
  cancel_token_hash TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  cancelled_at TEXT,
  cancelled_by TEXT,
  CHECK (end_utc > start_utc),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX appointments_agent_start ON appointments (agent, start_utc);
CREATE INDEX appointments_start ON appointments (start_utc);
CREATE INDEX appointments_idempotency ON appointments (idempotency_key);

CREATE TABLE slot_claims (
  agent TEXT NOT NULL,
  start_utc TEXT NOT NULL,
  appointment_id TEXT NOT NULL UNIQUE REFERENCES appointments (id) ON DELETE CASCADE,
  PRIMARY KEY (agent, start_utc)
);
`,
};
