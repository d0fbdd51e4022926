import { messageFor } from '../../appointments/messages';
import type { Held } from '../../appointments/slots';
import type { AppointmentStore, CancelResult, RescheduleResult } from '../../appointments/store';
import { UserError } from '../../errors';
import type { NewEvent } from '../../events/types';
import { newToken } from '../../security/tokens';
import { checkNewAppointment, MAX_APPOINTMENT_MS, shift, toAppointment, utc, type AppointmentRow as Row } from '../rows';
import type { Pg } from './client';
import { eventFacts, recordEvent } from './events';
import { linkWrites } from './links';
import { outboxWrites } from './outbox';
import { queueDiscard } from './queue';

const COLUMNS = `id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email, resident_phone,
  remarks, sms_opt_in, status, created_at, cancelled_at, cancelled_by, sequence`;

/** Unsent mails whose links or times a move makes wrong (the hand-off of the move sends new ones). */
const STALE_ON_MOVE = ['resident-confirmation', 'agent-announcement', 'resident-rescheduled', 'agent-rescheduled'];

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
 *   idempotency key, and for each attempt the agent's five-minute spans that the slot widened by the buffer touches
 *   (`idv_lock_agent_span`, migration 019; bookings of one agent at other hours do not wait). Under READ COMMITTED every statement after a lock sees what
 *   the previous holder committed, so the checks after it cannot miss a booking. SQLite gets the same from its one
 *   writer (BEGIN IMMEDIATE). Locks are taken in one order (key, then one agent at a time, its spans ascending); a deadlock (40P01) would
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
        // Reminders die with the appointment in this very transaction (a reminder due meanwhile finds nothing), by
        // mail and by SMS; an SMS confirmation still waiting carries a link that dies now.
        await outboxWrites(q).discardScheduled(id);
        await queueDiscard(q, 'sms_outbox', id);
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
    async reschedule(id, r, event: NewEvent = {}) {
      for (const [v, what] of [[r.startUtc, 'startUtc'], [r.endUtc, 'endUtc'], [r.atUtc, 'atUtc'], [r.claim.dayStartUtc, 'dayStartUtc'], [r.claim.dayEndUtc, 'dayEndUtc']]) utc(v, what);
      if (!Number.isInteger(r.claim.bufferMinutes) || r.claim.bufferMinutes < 0) throw new Error('bad bufferMinutes');
      const bufferMs = r.claim.bufferMinutes * 60_000;
      const lo = shift(r.startUtc, -bufferMs);
      return pg.tx(async (q): Promise<RescheduleResult | null> => {
        // The row lock orders this move after a racing cancel or move of the same appointment.
        const [before] = await q.query<Row & { cancel_token_hash: string }>(`SELECT ${COLUMNS}, cancel_token_hash FROM appointments WHERE id = $1 FOR UPDATE`, [id]);
        if (!before || before.status !== 'booked') return null;
        if (r.tokenHash !== undefined && before.cancel_token_hash !== r.tokenHash) return null;
        await q.run(SQL.unclaim, [id]);
        const ranked = await q.query<{ agent: string }>(
          `SELECT c.agent FROM unnest($1::text[]) WITH ORDINALITY AS c(agent, ord)
           ORDER BY (SELECT count(*) FROM appointments x WHERE x.agent = c.agent AND x.status = 'booked'
                     AND x.start_utc >= $2 AND x.start_utc < $3), c.ord`,
          [[...r.claim.candidates], r.claim.dayStartUtc, r.claim.dayEndUtc],
        );
        let moved = false;
        for (const { agent } of ranked) {
          // The same locks as idv_book (migration 019: the agent's spans around the slot widened by the buffer): the
          // overlap check sees every earlier commit that could clash.
          await q.run('SELECT idv_lock_agent_span($1, $2, $3)', [agent, lo, shift(r.endUtc, bufferMs)]);
          await q.run('SAVEPOINT move_attempt');
          try {
            await q.run('UPDATE appointments SET start_utc = $1, end_utc = $2, agent = $3 WHERE id = $4', [r.startUtc, r.endUtc, agent, id]);
            await q.run('INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES ($1, $2, $3)', [agent, r.startUtc, id]);
            const [clash] = await q.query(
              `SELECT 1 FROM appointments WHERE agent = $1 AND status = 'booked' AND id <> $2 AND start_utc >= $3 AND start_utc < $4 AND end_utc > $5 LIMIT 1`,
              [agent, id, shift(lo, -MAX_APPOINTMENT_MS), shift(r.endUtc, bufferMs), lo],
            );
            if (clash) {
              await q.run('ROLLBACK TO SAVEPOINT move_attempt');
              continue;
            }
            await q.run('RELEASE SAVEPOINT move_attempt');
            moved = true;
            break;
          } catch (e) {
            // The slot_claims primary key: this agent holds that start already; try the next one.
            if ((e as { code?: string }).code !== '23505') throw e;
            await q.run('ROLLBACK TO SAVEPOINT move_attempt');
          }
        }
        // Thrown inside the transaction: the old claim comes back, nothing moved.
        if (!moved) throw new UserError(409, 'slot_taken', messageFor('slot_taken', 'nl'));
        await q.run('UPDATE appointments SET sequence = sequence + 1, cancel_token_hash = $1 WHERE id = $2', [r.newCancelTokenHash, id]);
        await linkWrites(q).revokeAppointment(id);
        const mails = outboxWrites(q);
        await mails.discardScheduled(id);
        await mails.discard(id, STALE_ON_MOVE);
        // An SMS still waiting carries a link that dies now (the move's hand-off sends a new one).
        await queueDiscard(q, 'sms_outbox', id);
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
        const facts = { ...event.facts, lang, previousStart: before.start_utc, previousEnd: before.end_utc, previousAgent: before.agent };
        const eventId = await recordEvent(q, id, 'rescheduled', { ...event, facts }, r.atUtc);
        const [after] = await q.query<Row>(SQL.byId, [id]);
        return { appointment: toAppointment(after), eventId, lang, previous: { agent: before.agent, startUtc: before.start_utc, endUtc: before.end_utc } };
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
