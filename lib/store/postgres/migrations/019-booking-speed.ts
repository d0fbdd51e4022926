import type { Migration } from '../../migration';

/**
 * Booking speed on PostgreSQL (issue 12, Performance); the SQLite twin (lib/store/migrations/019-booking-speed.ts)
 * changes nothing there.
 *
 * - `idv_lock_agent_span(agent, from, to)` replaces the one lock per agent (7260432, hashtext(agent)) that `idv_book`
 *   (013) and a move took. That lock put every booking of an agent in one line, held through its commit's WAL flush,
 *   and since every booking ranks the least busy agent of the day first, nearly all concurrent bookings of a day
 *   queued behind one lock. Now a booking locks the agent's five-minute spans that its own interval widened by the
 *   buffer on both sides touches, in ascending order. Still exact: two bookings of one agent whose overlap checks could
 *   see each other (one's interval meets the other's widened interval) share at least one span, so the second waits
 *   for the first's commit and, under READ COMMITTED, its check (a statement after the lock) sees it. Bookings of
 *   one agent at other hours no longer wait for each other.
 * - `rate_limits` becomes UNLOGGED: the flood counters (rate-limiter-flexible's upsert, one row per client network and
 *   per e-mail address) wrote WAL and waited for its flush on every booking, and all requests from one network update
 *   one row, so they queued behind each other's flush. An unlogged table is not flushed at commit; what it costs is
 *   that the counters start from zero after a crash of the database server (and are not on a streaming replica):
 *   a flood gets at most one fresh window then. Nothing a person was promised lives there.
 */
export const migration: Migration = {
  id: 19,
  name: 'booking-speed',
  up: `
ALTER TABLE rate_limits SET UNLOGGED;

CREATE FUNCTION idv_lock_agent_span(p_agent text, p_from text, p_to text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  h bigint := hashtext(p_agent)::bigint << 32;
  b bigint := floor(extract(epoch FROM p_from::timestamptz) / 300)::bigint;
  last bigint := floor((extract(epoch FROM p_to::timestamptz) - 0.001) / 300)::bigint;
BEGIN
  -- One bigint key per (agent, five-minute span): its own lock space, apart from the two-integer keys (class, object).
  LOOP
    PERFORM pg_advisory_xact_lock(h | (b & 4294967295));
    b := b + 1;
    EXIT WHEN b > last;
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION idv_book(
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
      -- This agent's spans around the slot (p_overlap_end = start - buffer, p_overlap_to = end + buffer), on every
      -- instance: the overlap check below sees every earlier commit that could clash.
      PERFORM idv_lock_agent_span(cand, p_overlap_end, p_overlap_to);
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
