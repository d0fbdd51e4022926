import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/013-sms.ts (issue 14, SMS): `appointments.sms_opt_in` and `sms_outbox` with
 * the same columns as on SQLite (the queue columns of mail_outbox, lib/outbox/queue-store.ts), and `idv_book` (005)
 * again with the opt-in as its last parameter and in its result, so a booking and its opt-in stay one statement.
 */
export const migration: Migration = {
  id: 13,
  name: 'sms',
  up: `
ALTER TABLE appointments ADD COLUMN sms_opt_in integer NOT NULL DEFAULT 0 CHECK (sms_opt_in IN (0, 1));

CREATE TABLE sms_outbox (
  id              text COLLATE "C" PRIMARY KEY,
  kind            text NOT NULL,
  appointment_id  text COLLATE "C",
  gateway         text NOT NULL,
  to_number       text NOT NULL,
  text_body       text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL,
  next_attempt_at text COLLATE "C" NOT NULL,
  claim_id        text,
  claim_instance  text,
  lease_until     text COLLATE "C",
  last_error      text,
  created_at      text COLLATE "C" NOT NULL,
  updated_at      text COLLATE "C" NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (status, next_attempt_at);
CREATE INDEX sms_outbox_appointment ON sms_outbox (appointment_id);

DROP FUNCTION idv_book(text, text, text, text, text, text, text, text, text, text, text, text, text, text, text[], text, text,
  text, text, text, text, text, text);

CREATE FUNCTION idv_book(
  p_id text, p_event_id text, p_start text, p_end text, p_topic text, p_channel text, p_booked_by text,
  p_name text, p_email text, p_phone text, p_remarks text, p_cancel_hash text, p_idem text, p_created text,
  p_candidates text[], p_day_start text, p_day_end text, p_idem_since text,
  p_overlap_from text, p_overlap_to text, p_overlap_end text, p_source text, p_facts text, p_sms integer)
RETURNS TABLE (outcome text, id text, start_utc text, end_utc text, topic text, agent text, channel text, booked_by text,
  resident_name text, resident_email text, resident_phone text, remarks text, sms_opt_in integer, status text, created_at text,
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
      a.resident_email, a.resident_phone, a.remarks, a.sms_opt_in, a.status, a.created_at, a.cancelled_at, a.cancelled_by
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
          resident_phone, remarks, sms_opt_in, status, cancel_token_hash, idempotency_key, created_at)
        VALUES (p_id, p_start, p_end, p_topic, cand, p_channel, p_booked_by, p_name, p_email, p_phone, p_remarks, p_sms, 'booked',
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
          a.resident_email, a.resident_phone, a.remarks, a.sms_opt_in, a.status, a.created_at, a.cancelled_at, a.cancelled_by
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
    NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text;
END
$fn$;
`,
};
