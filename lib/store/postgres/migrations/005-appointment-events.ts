import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/005-appointment-events.ts (the durable hand-off; see there), and the booking
 * as one server-side function: `idv_book` claims the slot for the first free candidate and writes the booking and its
 * event, all in the one statement that calls it, so a booking costs one round trip instead of a dozen (see
 * lib/store/postgres/appointments.ts for the locking; the SQLite store does the same steps in TypeScript, and the one
 * test suite holds both to the same behaviour).
 */
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

CREATE FUNCTION idv_book(
  p_id text, p_event_id text, p_start text, p_end text, p_topic text, p_channel text, p_booked_by text,
  p_name text, p_email text, p_phone text, p_remarks text, p_cancel_hash text, p_idem text, p_created text,
  p_candidates text[], p_day_start text, p_day_end text, p_idem_since text,
  p_overlap_from text, p_overlap_to text, p_overlap_end text, p_source text, p_facts text)
RETURNS TABLE (outcome text, id text, start_utc text, end_utc text, topic text, agent text, channel text, booked_by text,
  resident_name text, resident_email text, resident_phone text, remarks text, status text, created_at text,
  cancelled_at text, cancelled_by text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  cand text;
  cname text;
BEGIN
  -- The same request (resident, moment, topic) is decided once, whichever instance it reaches.
  PERFORM pg_advisory_xact_lock(7260431, hashtext(p_idem));
  RETURN QUERY SELECT 'duplicate'::text, a.id, a.start_utc, a.end_utc, a.topic, a.agent, a.channel, a.booked_by, a.resident_name,
      a.resident_email, a.resident_phone, a.remarks, a.status, a.created_at, a.cancelled_at, a.cancelled_by
    FROM appointments a WHERE a.idempotency_key = p_idem AND a.status = 'booked' AND a.created_at >= p_idem_since
    ORDER BY a.created_at LIMIT 1;
  IF FOUND THEN RETURN; END IF;
  -- Fewest appointments that day first; ties keep the caller's (schedule) order.
  FOR cand IN
    SELECT c.agent FROM unnest(p_candidates) WITH ORDINALITY AS c(agent, ord)
    ORDER BY (SELECT count(*) FROM appointments x WHERE x.agent = c.agent AND x.status = 'booked'
              AND x.start_utc >= p_day_start AND x.start_utc < p_day_end), c.ord
  LOOP
    BEGIN
      -- One attempt per agent at a time, on every instance: the overlap check below sees every earlier commit.
      PERFORM pg_advisory_xact_lock(7260432, hashtext(cand));
      INSERT INTO appointments (id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email,
          resident_phone, remarks, status, cancel_token_hash, idempotency_key, created_at)
        VALUES (p_id, p_start, p_end, p_topic, cand, p_channel, p_booked_by, p_name, p_email, p_phone, p_remarks, 'booked',
          p_cancel_hash, p_idem, p_created);
      -- The primary key, not a prior read, refuses a second claim of this agent and start.
      INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES (cand, p_start, p_id);
      IF EXISTS (SELECT 1 FROM appointments x WHERE x.agent = cand AND x.status = 'booked' AND x.id <> p_id
                 AND x.start_utc >= p_overlap_from AND x.start_utc < p_overlap_to AND x.end_utc > p_overlap_end) THEN
        RAISE EXCEPTION 'buffer clash' USING ERRCODE = 'IDV01';
      END IF;
      INSERT INTO appointment_events (id, appointment_id, kind, source, facts, state, attempts, next_attempt_at, created_at)
        VALUES (p_event_id, p_id, 'booked', p_source, p_facts, 'pending', 0, p_created, p_created);
      RETURN QUERY SELECT 'booked'::text, a.id, a.start_utc, a.end_utc, a.topic, a.agent, a.channel, a.booked_by, a.resident_name,
          a.resident_email, a.resident_phone, a.remarks, a.status, a.created_at, a.cancelled_at, a.cancelled_by
        FROM appointments a WHERE a.id = p_id;
      RETURN;
    EXCEPTION
      WHEN unique_violation THEN
        -- Only a taken slot means "next agent"; any other duplicate (a cancel-token hash) is a fault to surface.
        GET STACKED DIAGNOSTICS cname = CONSTRAINT_NAME;
        IF cname IS DISTINCT FROM 'slot_claims_pkey' THEN RAISE; END IF;
      WHEN SQLSTATE 'IDV01' THEN
        NULL;
    END;
  END LOOP;
  RETURN QUERY SELECT 'taken'::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
    NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text;
END
$fn$;
`,
};
