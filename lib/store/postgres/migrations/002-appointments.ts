import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/002-appointments.ts. The primary key of slot_claims is what makes double
 * booking impossible across every connection and instance; times are the same UTC ISO strings as on SQLite ("C"
 * collation: compared and sorted byte for byte, which is time order for that one format).
 */
export const migration: Migration = {
  id: 2,
  name: 'appointments',
  up: `
CREATE TABLE appointments (
  id text COLLATE "C" PRIMARY KEY,
  start_utc text COLLATE "C" NOT NULL,
  end_utc text COLLATE "C" NOT NULL,
  topic text NOT NULL,
  agent text COLLATE "C" NOT NULL,
  channel text NOT NULL CHECK (channel IN ('website', 'phone')),
  booked_by text,
  resident_name text NOT NULL,
  resident_email text NOT NULL,
  resident_phone text,
  remarks text,
  status text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
  cancel_token_hash text NOT NULL UNIQUE,
  idempotency_key text NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  cancelled_at text,
  cancelled_by text,
  CHECK (end_utc > start_utc),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX appointments_agent_start ON appointments (agent, start_utc);
CREATE INDEX appointments_start ON appointments (start_utc);
CREATE INDEX appointments_idempotency ON appointments (idempotency_key);

CREATE TABLE slot_claims (
  agent text COLLATE "C" NOT NULL,
  start_utc text COLLATE "C" NOT NULL,
  appointment_id text COLLATE "C" NOT NULL UNIQUE REFERENCES appointments (id) ON DELETE CASCADE,
  PRIMARY KEY (agent, start_utc)
);
`,
};
