import type { Migration } from '../migration';

/**
 * The durable hand-off (../shared/DESIGN.md, "Every effect of a committed change happens"): every booking and
 * cancellation writes an event row in the same transaction as the change; the node responsible for its effects
 * (links, mails) claims it under a lease, carries the effects out and marks it done in one further transaction.
 *
 * - id: 128 bits from the CSPRNG (base64url), also msg.eventId, so flows can de-duplicate.
 * - source: the Node-RED node that made the change, so recovery goes to the nodes wired after it.
 * - facts: a small JSON of non-secret facts the effects need and the appointment row does not hold (language of the
 *   resident's pages, who cancelled, the path that served the booking). Never tokens, never contact details.
 * - lease_*: who works on it now. lease_instance is the instance id of the claimer (IDV_DATA_DIR/.instance-id), so a
 *   restart reclaims its own previous run's leases at once and leaves other instances' leases until they expire.
 *
 * mail_outbox.claim_instance does the same for mails that were 'sending' when the process died.
 */
export const migration: Migration = {
  id: 5,
  name: 'appointment-events',
  up: `
CREATE TABLE appointment_events (
  id              TEXT PRIMARY KEY,
  appointment_id  TEXT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  kind            TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
  source          TEXT,
  facts           TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
  outcome         TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_token     TEXT,
  lease_instance  TEXT,
  lease_until     TEXT,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  done_at         TEXT,
  CHECK ((state = 'done') = (done_at IS NOT NULL)),
  CHECK ((lease_token IS NULL) = (lease_until IS NULL))
);
CREATE INDEX appointment_events_due ON appointment_events (state, next_attempt_at);
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id);
CREATE INDEX appointment_events_done ON appointment_events (state, done_at);

ALTER TABLE mail_outbox ADD COLUMN claim_instance TEXT;
`,
};
