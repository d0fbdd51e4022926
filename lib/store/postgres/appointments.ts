import { messageFor } from '../../appointments/messages';
import type { Held } from '../../appointments/slots';
import type { AppointmentStore, CancelResult } from '../../appointments/store';
import { UserError } from '../../errors';
import type { NewEvent } from '../../events/types';
import { newToken } from '../../security/tokens';
import { checkNewAppointment, MAX_APPOINTMENT_MS, shift, toAppointment, utc, type AppointmentRow as Row } from '../rows';
import type { Pg } from './client';
import { eventFacts, recordEvent } from './events';

const COLUMNS = `id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email, resident_phone,
  remarks, sms_opt_in, status, created_at, cancelled_at, cancelled_by`;

const SQL = {
  byId: `SELECT ${COLUMNS} FROM appointments WHERE id = $1`,
  byTokenHash: `SELECT ${COLUMNS} FROM appointments WHERE cancel_token_hash = $1`,
  byIdempotency: `SELECT ${COLUMNS} FROM appointments WHERE idempotency_key = $1 AND status = 'booked' AND created_at >= $2
    ORDER BY created_at LIMIT 1`,
  countOnDay: `SELECT count(*)::int AS n FROM appointments WHERE agent = $1 AND status = 'booked' AND start_utc >= $2 AND start_utc < $3`,
  listForAgent: `SELECT ${COLUMNS} FROM appointments WHERE agent = $1 AND start_utc >= $2 AND start_utc < $3 ORDER BY start_utc, id`,
  held: `SELECT agent, start_utc, end_utc FROM appointments WHERE status = 'booked' AND start_utc >= $1 AND start_utc < $2 AND end_utc > $3`,
  cancel: `UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2 WHERE id = $3 AND status = 'booked'
    RETURNING ${COLUMNS}`,
  unclaim: `DELETE FROM slot_claims WHERE appointment_id = $1`,
  bookedFacts: `SELECT facts FROM appointment_events WHERE appointment_id = $1 AND kind = 'booked' ORDER BY created_at DESC LIMIT 1`,
};

/**
 * AppointmentStore on PostgreSQL, exact under concurrency across connections and instances:
 *
 * - A booking is one statement: `idv_book` (migration 005) runs every step in the statement's own transaction, one
 *   round trip instead of a dozen. The primary key of slot_claims decides who gets an agent's start time (as on
 *   SQLite); a lost race on it rolls back that candidate's attempt (a PL/pgSQL exception block is a savepoint) and the
 *   next candidate is tried.
 * - What a unique key cannot express — the same resident's repeated request (idempotency key) and an overlap with a
 *   different start (another slot length, the buffer) — is made exact by transaction-scoped advisory locks: one on the
 *   idempotency key, one on the agent for each attempt. Under READ COMMITTED every statement after a lock sees what
 *   the previous holder committed, so the checks after it cannot miss a booking. SQLite gets the same from its one
 *   writer (BEGIN IMMEDIATE). Locks are taken in one order (key, then one agent at a time); a deadlock (40P01) would
 *   be retried by Pg.statement.
 * - Cancel is one UPDATE … WHERE status = 'booked': the row lock makes the second of two racing cancels find nothing.
 */
export function createPostgresAppointmentStore(pg: Pg): AppointmentStore {
  return {
    async create(a, claim, event: NewEvent = {}) {
      checkNewAppointment(a, claim);
      const facts = eventFacts(event);
      // Different start, but overlapping (other slot length after a schedule change) or inside the buffer.
      const bufferMs = claim.bufferMinutes * 60_000;
      const lo = shift(a.startUtc, -bufferMs);
      const eventId = newToken(16);
      const [row] = await pg.statement<Row & { outcome: 'booked' | 'duplicate' | 'taken' }>(
        `SELECT * FROM idv_book($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text[], $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
        [
          newToken(16), eventId, a.startUtc, a.endUtc, a.topic, a.channel, a.bookedBy, a.resident.name, a.resident.email,
          a.resident.phone, a.resident.remarks, a.cancelTokenHash, a.idempotencyKey, a.createdAt, [...claim.candidates],
          claim.dayStartUtc, claim.dayEndUtc, claim.idempotentSinceUtc, shift(lo, -MAX_APPOINTMENT_MS), shift(a.endUtc, bufferMs), lo,
          facts.source, facts.json, a.resident.sms === true && a.resident.phone !== null ? 1 : 0,
        ],
      );
      if (!row || row.outcome === 'taken') throw new UserError(409, 'slot_taken', messageFor('slot_taken', 'nl'));
      if (row.outcome === 'duplicate') return { appointment: toAppointment(row), duplicate: true, eventId: null };
      // Same statement as the claim: a committed booking always has its event (../shared/DESIGN.md).
      return { appointment: toAppointment(row), duplicate: false, eventId };
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
