import { messageFor } from '../../appointments/messages';
import type { Held } from '../../appointments/slots';
import type { AppointmentStore, CancelResult, ClaimRequest, CreateResult, NewAppointment } from '../../appointments/store';
import { UserError } from '../../errors';
import type { NewEvent } from '../../events/types';
import { newToken } from '../../security/tokens';
import { MAX_APPOINTMENT_MS, shift, toAppointment, utc, type AppointmentRow as Row } from '../rows';
import type { Pg, Query } from './client';
import { recordEvent } from './events';

const COLUMNS = `id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email, resident_phone,
  remarks, status, created_at, cancelled_at, cancelled_by`;

/** Advisory-lock classes (first key); the second key is hashtext of the agent or idempotency key. */
const LOCK_IDEMPOTENCY = 7_260_431;
const LOCK_AGENT = 7_260_432;

const SQL = {
  byId: `SELECT ${COLUMNS} FROM appointments WHERE id = $1`,
  byTokenHash: `SELECT ${COLUMNS} FROM appointments WHERE cancel_token_hash = $1`,
  byIdempotency: `SELECT ${COLUMNS} FROM appointments WHERE idempotency_key = $1 AND status = 'booked' AND created_at >= $2
    ORDER BY created_at LIMIT 1`,
  countOnDay: `SELECT count(*)::int AS n FROM appointments WHERE agent = $1 AND status = 'booked' AND start_utc >= $2 AND start_utc < $3`,
  countsOnDay: `SELECT agent, count(*)::int AS n FROM appointments
    WHERE agent = ANY($1::text[]) AND status = 'booked' AND start_utc >= $2 AND start_utc < $3 GROUP BY agent`,
  listForAgent: `SELECT ${COLUMNS} FROM appointments WHERE agent = $1 AND start_utc >= $2 AND start_utc < $3 ORDER BY start_utc, id`,
  held: `SELECT agent, start_utc, end_utc FROM appointments WHERE status = 'booked' AND start_utc >= $1 AND start_utc < $2 AND end_utc > $3`,
  overlap: `SELECT 1 AS one FROM appointments
    WHERE agent = $1 AND status = 'booked' AND id != $2 AND start_utc >= $3 AND start_utc < $4 AND end_utc > $5 LIMIT 1`,
  insert: `INSERT INTO appointments (id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email,
      resident_phone, remarks, status, cancel_token_hash, idempotency_key, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'booked', $12, $13, $14) RETURNING ${COLUMNS}`,
  // ON CONFLICT DO NOTHING: a taken slot is an answer (no row), not an error that aborts the transaction.
  claim: `INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES ($1, $2, $3) ON CONFLICT (agent, start_utc) DO NOTHING`,
  cancel: `UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2 WHERE id = $3 AND status = 'booked'
    RETURNING ${COLUMNS}`,
  unclaim: `DELETE FROM slot_claims WHERE appointment_id = $1`,
  bookedFacts: `SELECT facts FROM appointment_events WHERE appointment_id = $1 AND kind = 'booked' ORDER BY created_at DESC LIMIT 1`,
};

/**
 * AppointmentStore on PostgreSQL, exact under concurrency across connections and instances:
 *
 * - The primary key of slot_claims decides who gets an agent's start time (as on SQLite). The claim is an INSERT …
 *   ON CONFLICT DO NOTHING inside a savepoint per candidate, so a lost race tries the next agent in the same
 *   transaction.
 * - What a unique key cannot express — the same resident's repeated request (idempotency key) and an overlap with a
 *   different start (another slot length, the buffer) — is made exact by transaction-scoped advisory locks: one on the
 *   idempotency key for the whole transaction, one on the agent for each attempt. Under READ COMMITTED every
 *   statement after a lock sees what the previous holder committed, so the checks that follow cannot miss a booking.
 *   SQLite gets the same from its one writer (BEGIN IMMEDIATE). Locks are taken in one order (key, then one agent
 *   at a time, released with the attempt's savepoint when it fails), and a deadlock would be retried by Pg.tx.
 * - Cancel is one UPDATE … WHERE status = 'booked': the row lock makes the second of two racing cancels find nothing.
 */
export function createPostgresAppointmentStore(pg: Pg): AppointmentStore {
  const attempt = async (q: Query, a: NewAppointment, agent: string, bufferMs: number): Promise<Row | null> => {
    await q.run('SAVEPOINT attempt');
    await q.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_AGENT, agent]);
    const id = newToken(16);
    const [row] = await q.query<Row>(SQL.insert, [
      id, a.startUtc, a.endUtc, a.topic, agent, a.channel, a.bookedBy, a.resident.name, a.resident.email,
      a.resident.phone, a.resident.remarks, a.cancelTokenHash, a.idempotencyKey, a.createdAt,
    ]);
    const claimed = await q.run(SQL.claim, [agent, a.startUtc, id]);
    const lo = shift(a.startUtc, -bufferMs);
    const clash = claimed === 1 && (await q.query(SQL.overlap, [agent, id, shift(lo, -MAX_APPOINTMENT_MS), shift(a.endUtc, bufferMs), lo])).length > 0;
    if (claimed !== 1 || clash) {
      // Undo this attempt's rows; the agent's lock is released with them (taken after the savepoint).
      await q.run('ROLLBACK TO SAVEPOINT attempt');
      return null;
    }
    await q.run('RELEASE SAVEPOINT attempt');
    return row;
  };

  return {
    async create(a, claim, event: NewEvent = {}) {
      utc(a.startUtc, 'startUtc');
      utc(a.endUtc, 'endUtc');
      utc(a.createdAt, 'createdAt');
      utc(claim.dayStartUtc, 'dayStartUtc');
      utc(claim.dayEndUtc, 'dayEndUtc');
      utc(claim.idempotentSinceUtc, 'idempotentSinceUtc');
      if (!Number.isInteger(claim.bufferMinutes) || claim.bufferMinutes < 0) throw new Error('bad bufferMinutes');
      return pg.tx(async (q): Promise<CreateResult> => {
        await q.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_IDEMPOTENCY, a.idempotencyKey]);
        const [existing] = await q.query<Row>(SQL.byIdempotency, [a.idempotencyKey, claim.idempotentSinceUtc]);
        if (existing) return { appointment: toAppointment(existing), duplicate: true, eventId: null };
        const ranked = await rank(q, claim);
        for (const agent of ranked) {
          const row = await attempt(q, a, agent, claim.bufferMinutes * 60_000);
          if (!row) continue;
          // Same transaction as the claim: a committed booking always has its event (../shared/DESIGN.md).
          const eventId = await recordEvent(q, row.id, 'booked', event, a.createdAt);
          return { appointment: toAppointment(row), duplicate: false, eventId };
        }
        throw new UserError(409, 'slot_taken', messageFor('slot_taken', 'nl'));
      });
    },
    async get(id) {
      const [r] = await pg.query<Row>(SQL.byId, [id]);
      return r ? toAppointment(r) : null;
    },
    async listForAgent(agent, fromUtc, toUtc) {
      return (await pg.query<Row>(SQL.listForAgent, [agent, utc(fromUtc, 'fromUtc'), utc(toUtc, 'toUtc')])).map(toAppointment);
    },
    async countForAgentOnDay(agent, dayStartUtc, dayEndUtc) {
      const [r] = await pg.query<{ n: number }>(SQL.countOnDay, [agent, utc(dayStartUtc, 'dayStartUtc'), utc(dayEndUtc, 'dayEndUtc')]);
      return r.n;
    },
    async cancel(id, cancelledBy, atUtc, event: NewEvent = {}) {
      utc(atUtc, 'atUtc');
      return pg.tx(async (q): Promise<CancelResult | null> => {
        const [row] = await q.query<Row>(SQL.cancel, [atUtc, cancelledBy, id]);
        if (!row) return null;
        await q.run(SQL.unclaim, [id]);
        // The resident's mails keep the language they booked in, also when an employee cancels.
        let lang = event.facts?.lang;
        if (!lang) {
          const [booked] = await q.query<{ facts: string }>(SQL.bookedFacts, [id]);
          let recorded: unknown;
          try {
            recorded = booked ? (JSON.parse(booked.facts) as { lang?: unknown }).lang : undefined;
          } catch {
            recorded = undefined;
          }
          lang = recorded === 'en' ? 'en' : 'nl';
        }
        const eventId = await recordEvent(q, id, 'cancelled', { ...event, facts: { ...event.facts, lang } }, atUtc);
        return { appointment: toAppointment(row), eventId, lang };
      });
    },
    async heldInRange(fromUtc, toUtc): Promise<Held[]> {
      utc(fromUtc, 'fromUtc');
      utc(toUtc, 'toUtc');
      const rows = await pg.query<{ agent: string; start_utc: string; end_utc: string }>(SQL.held, [shift(fromUtc, -MAX_APPOINTMENT_MS), toUtc, fromUtc]);
      return rows.map((r) => ({ agent: r.agent, startUtc: r.start_utc, endUtc: r.end_utc }));
    },
    async findByIdempotencyKey(key, sinceUtc) {
      const [r] = await pg.query<Row>(SQL.byIdempotency, [key, utc(sinceUtc, 'sinceUtc')]);
      return r ? toAppointment(r) : null;
    },
    async findByCancelTokenHash(hash) {
      const [r] = await pg.query<Row>(SQL.byTokenHash, [hash]);
      return r ? toAppointment(r) : null;
    },
  };
}

/** Fewest appointments that day first; ties keep the caller's (schedule) order. One query for all candidates. */
async function rank(q: Query, claim: ClaimRequest): Promise<string[]> {
  if (claim.candidates.length === 0) return [];
  const rows = await q.query<{ agent: string; n: number }>(SQL.countsOnDay, [[...claim.candidates], claim.dayStartUtc, claim.dayEndUtc]);
  const count = new Map(rows.map((r) => [r.agent, r.n]));
  return claim.candidates
    .map((agent, i) => ({ agent, i, n: count.get(agent) ?? 0 }))
    .sort((x, y) => x.n - y.n || x.i - y.i)
    .map((x) => x.agent);
}
