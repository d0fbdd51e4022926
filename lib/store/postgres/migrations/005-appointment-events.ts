import type { Migration } from '../../migration';

/** PostgreSQL twin of lib/store/migrations/005-appointment-events.ts (the durable hand-off; see there). */
export const migration: Migration = {
  id: 5,
  name: 'appointment-events',
  up: `
CREATE TABLE appointment_events (
  id              text COLLATE "C" PRIMARY KEY,
  appointment_id  text COLLATE "C" NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
  source          text,
  facts           text NOT NULL DEFAULT '{}',
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
  outcome         text,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at text COLLATE "C" NOT NULL,
  lease_token     text,
  lease_instance  text,
  lease_until     text COLLATE "C",
  last_error      text,
  created_at      text COLLATE "C" NOT NULL,
  done_at         text COLLATE "C",
  CHECK ((state = 'done') = (done_at IS NOT NULL)),
  CHECK ((lease_token IS NULL) = (lease_until IS NULL))
);
CREATE INDEX appointment_events_due ON appointment_events (state, next_attempt_at);
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id);
CREATE INDEX appointment_events_done ON appointment_events (state, done_at);

ALTER TABLE mail_outbox ADD COLUMN claim_instance text;
`,
};
