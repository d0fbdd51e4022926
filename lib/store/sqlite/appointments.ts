import type BetterSqlite3 from 'better-sqlite3';
import { UserError } from '../../errors';
import { newToken } from '../../security/tokens';
import { messageFor } from '../../appointments/messages';
import type { Held } from '../../appointments/slots';
import type {
  AppointmentStore,
  CancelResult,
  ClaimRequest,
  CreateResult,
  NewAppointment,
  RescheduleRequest,
  RescheduleResult,
} from '../../appointments/store';
import type { NewEvent } from '../../events/types';
import { sqliteEventWrites } from './events';
import { sqliteLinkWrites } from './links';
import { sqliteOutboxWrites } from './outbox';
import { immediateWithoutBlocking } from './immediate';
import { queueDiscard } from './queue';
import { checkNewAppointment, MAX_APPOINTMENT_MS, shift, toAppointment, utc, type AppointmentRow as Row } from '../rows';

type Db = BetterSqlite3.Database;

/** A clash with the agent's buffer around another appointment: roll back this agent's attempt, try the next. */
class BufferClash extends Error {}

function isClaimConflict(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') &&
    String((e as Error).message).includes('slot_claims')
  );
}

const COLUMNS = `id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email, resident_phone,
  remarks, sms_opt_in, status, created_at, cancelled_at, cancelled_by, sequence`;

/** Unsent mails whose links or times a move makes wrong (the hand-off of the move sends new ones). */
const STALE_ON_MOVE = ['resident-confirmation', 'agent-announcement', 'resident-rescheduled', 'agent-rescheduled'];

/** AppointmentStore on better-sqlite3. The database must have migration 002 applied (lib/store/db.ts does that). */
export function createSqliteAppointmentStore(db: Db): AppointmentStore {
  const events = sqliteEventWrites(db);
  const outbox = sqliteOutboxWrites(db);
  const links = sqliteLinkWrites(db);
  const smsDiscard = queueDiscard(db, 'sms_outbox');
  // Waiting for another process's write lock happens on timers, not in SQLite's busy handler on the event loop.
  const write = immediateWithoutBlocking(db);
  const stmt = {
    byId: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM appointments WHERE id = ?`),
    byTokenHash: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM appointments WHERE cancel_token_hash = ?`),
    byIdempotency: db.prepare<[string, string], Row>(
      `SELECT ${COLUMNS} FROM appointments WHERE idempotency_key = ? AND status = 'booked' AND created_at >= ?
       ORDER BY created_at LIMIT 1`,
    ),
    countOnDay: db.prepare<[string, string, string], { n: number }>(
      `SELECT count(*) AS n FROM appointments WHERE agent = ? AND status = 'booked' AND start_utc >= ? AND start_utc < ?`,
    ),
    // Every candidate's count in one statement (a JSON array of usernames) instead of one statement per agent.
    countsOnDay: db.prepare<[string, string, string], { agent: string; n: number }>(
      `SELECT agent, count(*) AS n FROM appointments
       WHERE agent IN (SELECT value FROM json_each(?)) AND status = 'booked' AND start_utc >= ? AND start_utc < ? GROUP BY agent`,
    ),
    listForAgent: db.prepare<[string, string, string], Row>(
      `SELECT ${COLUMNS} FROM appointments WHERE agent = ? AND start_utc >= ? AND start_utc < ? ORDER BY start_utc, id`,
    ),
    held: db.prepare<[string, string, string], { agent: string; start_utc: string; end_utc: string }>(
      `SELECT agent, start_utc, end_utc FROM appointments
       WHERE status = 'booked' AND start_utc >= ? AND start_utc < ? AND end_utc > ?`,
    ),
    overlap: db.prepare<[string, string, string, string, string], { one: number }>(
      `SELECT 1 AS one FROM appointments
       WHERE agent = ? AND status = 'booked' AND id != ? AND start_utc >= ? AND start_utc < ? AND end_utc > ? LIMIT 1`,
    ),
    insert: db.prepare(
      `INSERT INTO appointments (id, start_utc, end_utc, topic, agent, channel, booked_by, resident_name, resident_email,
         resident_phone, remarks, sms_opt_in, status, cancel_token_hash, idempotency_key, created_at)
       VALUES (@id, @start_utc, @end_utc, @topic, @agent, @channel, @booked_by, @resident_name, @resident_email,
         @resident_phone, @remarks, @sms_opt_in, 'booked', @cancel_token_hash, @idempotency_key, @created_at)`,
    ),
    claim: db.prepare<[string, string, string]>(`INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES (?, ?, ?)`),
    cancel: db.prepare<[string, string | null, string]>(
      `UPDATE appointments SET status = 'cancelled', cancelled_at = ?, cancelled_by = ? WHERE id = ? AND status = 'booked'`,
    ),
    unclaim: db.prepare<[string]>(`DELETE FROM slot_claims WHERE appointment_id = ?`),
    tokenHashOf: db.prepare<[string], { cancel_token_hash: string }>(`SELECT cancel_token_hash FROM appointments WHERE id = ?`),
    moveTo: db.prepare<[string, string, string, string]>(`UPDATE appointments SET start_utc = ?, end_utc = ?, agent = ? WHERE id = ?`),
    afterMove: db.prepare<[string, string]>(`UPDATE appointments SET sequence = sequence + 1, cancel_token_hash = ? WHERE id = ?`),
    bookedFacts: db.prepare<[string], { facts: string }>(
      `SELECT facts FROM appointment_events WHERE appointment_id = ? AND kind = 'booked' ORDER BY created_at DESC LIMIT 1`,
    ),
  };

  /** The candidates, fewest booked appointments that day first; ties keep the caller's (schedule) order. */
  const rank = (claim: Pick<ClaimRequest, 'candidates' | 'dayStartUtc' | 'dayEndUtc'>) => {
    const counts = new Map<string, number>();
    for (const r of stmt.countsOnDay.all(JSON.stringify(claim.candidates), claim.dayStartUtc, claim.dayEndUtc)) counts.set(r.agent, r.n);
    return claim.candidates.map((agent, i) => ({ agent, i, n: counts.get(agent) ?? 0 })).sort((x, y) => x.n - y.n || x.i - y.i);
  };

  /** One agent's attempt, run as a savepoint inside the claim transaction so a failed attempt leaves nothing behind. */
  const attempt = db.transaction((a: NewAppointment, agent: string, bufferMs: number): Row => {
    const id = newToken(16);
    stmt.insert.run({
      id,
      start_utc: a.startUtc,
      end_utc: a.endUtc,
      topic: a.topic,
      agent,
      channel: a.channel,
      booked_by: a.bookedBy,
      resident_name: a.resident.name,
      resident_email: a.resident.email,
      resident_phone: a.resident.phone,
      remarks: a.resident.remarks,
      sms_opt_in: a.resident.sms === true && a.resident.phone !== null ? 1 : 0,
      cancel_token_hash: a.cancelTokenHash,
      idempotency_key: a.idempotencyKey,
      created_at: a.createdAt,
    });
    // The primary key of slot_claims, not a prior SELECT, is what stops a second booking of this agent and start.
    stmt.claim.run(agent, a.startUtc, id);
    // Different start, but overlapping (other slot length after a schedule change) or inside the buffer.
    const lo = shift(a.startUtc, -bufferMs);
    if (stmt.overlap.get(agent, id, shift(lo, -MAX_APPOINTMENT_MS), shift(a.endUtc, bufferMs), lo)) {
      throw new BufferClash();
    }
    return stmt.byId.get(id) as Row;
  });

  const claimTx = db.transaction((a: NewAppointment, claim: ClaimRequest, event: NewEvent): CreateResult => {
    const existing = stmt.byIdempotency.get(a.idempotencyKey, claim.idempotentSinceUtc);
    if (existing) return { appointment: toAppointment(existing), duplicate: true, eventId: null };
    // Fewest appointments that day first; ties keep the caller's (schedule) order.
    const ranked = rank(claim);
    for (const { agent } of ranked) {
      let row: Row;
      try {
        row = attempt(a, agent, claim.bufferMinutes * 60_000);
      } catch (e) {
        if (e instanceof BufferClash || isClaimConflict(e)) continue;
        throw e;
      }
      // Same transaction as the claim: a committed booking always has its event (../shared/DESIGN.md).
      const eventId = events.record(row.id, event.kind ?? 'booked', event, a.createdAt);
      return { appointment: toAppointment(row), duplicate: false, eventId };
    }
    throw new UserError(409, 'slot_taken', messageFor('slot_taken', 'nl'));
  });

  /** One agent's attempt at the new slot, as a savepoint: a clash rolls back only this attempt. */
  const moveAttempt = db.transaction((id: string, r: RescheduleRequest, agent: string): void => {
    stmt.moveTo.run(r.startUtc, r.endUtc, agent, id);
    stmt.claim.run(agent, r.startUtc, id);
    const bufferMs = r.claim.bufferMinutes * 60_000;
    const lo = shift(r.startUtc, -bufferMs);
    if (stmt.overlap.get(agent, id, shift(lo, -MAX_APPOINTMENT_MS), shift(r.endUtc, bufferMs), lo)) throw new BufferClash();
  });

  const langOf = (id: string, given: NewEvent['facts']): 'nl' | 'en' => {
    if (given?.lang) return given.lang;
    const booked = stmt.bookedFacts.get(id);
    const recorded = booked ? (JSON.parse(booked.facts) as { lang?: unknown }).lang : undefined;
    return recorded === 'en' ? 'en' : 'nl';
  };

  const rescheduleTx = db.transaction((id: string, r: RescheduleRequest, event: NewEvent): RescheduleResult | null => {
    const before = stmt.byId.get(id);
    if (!before || before.status !== 'booked') return null;
    if (r.tokenHash !== undefined && stmt.tokenHashOf.get(id)?.cancel_token_hash !== r.tokenHash) return null;
    // The old place is free from here on, inside this transaction: moving within one's own buffer works too.
    stmt.unclaim.run(id);
    const ranked = rank(r.claim);
    let moved = false;
    for (const { agent } of ranked) {
      try {
        moveAttempt(id, r, agent);
        moved = true;
        break;
      } catch (e) {
        if (e instanceof BufferClash || isClaimConflict(e)) continue;
        throw e;
      }
    }
    // Thrown inside the transaction: the old claim comes back, nothing moved.
    if (!moved) throw new UserError(409, 'slot_taken', messageFor('slot_taken', 'nl'));
    stmt.afterMove.run(r.newCancelTokenHash, id);
    links.revokeAppointment(id);
    outbox.discardScheduled(id);
    outbox.discard(id, STALE_ON_MOVE);
    // An SMS still waiting carries a link that dies now (the move's hand-off sends a new one).
    smsDiscard(id);
    const lang = langOf(id, event.facts);
    const facts = { ...event.facts, lang, previousStart: before.start_utc, previousEnd: before.end_utc, previousAgent: before.agent };
    const eventId = events.record(id, 'rescheduled', { ...event, facts }, r.atUtc);
    return {
      appointment: toAppointment(stmt.byId.get(id) as Row),
      eventId,
      lang,
      previous: { agent: before.agent, startUtc: before.start_utc, endUtc: before.end_utc },
    };
  });

  const cancelTx = db.transaction((id: string, by: string | null, at: string, event: NewEvent): CancelResult | null => {
    if (stmt.cancel.run(at, by, id).changes !== 1) return null;
    stmt.unclaim.run(id);
    // Reminders die with the appointment in this very transaction, not when the hand-off of the event runs: a
    // reminder falling due in between must find nothing to send. Unsent SMS (reminders, a confirmation) likewise.
    outbox.discardScheduled(id);
    smsDiscard(id);
    // The resident's mails keep the language they booked in, also when an employee cancels.
    let lang = event.facts?.lang;
    if (!lang) {
      const booked = stmt.bookedFacts.get(id);
      const recorded = booked ? (JSON.parse(booked.facts) as { lang?: unknown }).lang : undefined;
      lang = recorded === 'en' ? 'en' : 'nl';
    }
    const eventId = events.record(id, 'cancelled', { ...event, facts: { ...event.facts, lang } }, at);
    return { appointment: toAppointment(stmt.byId.get(id) as Row), eventId, lang };
  });

  return {
    async create(a, claim, event = {}) {
      checkNewAppointment(a, claim);
      // IMMEDIATE takes the write lock before the first read, so the idempotency and buffer checks see every commit
      // from other connections and processes.
      return write(() => claimTx.immediate(a, claim, event));
    },
    async get(id) {
      const r = stmt.byId.get(id);
      return r ? toAppointment(r) : null;
    },
    async listForAgent(agent, fromUtc, toUtc) {
      return stmt.listForAgent.all(agent, utc(fromUtc, 'fromUtc'), utc(toUtc, 'toUtc')).map(toAppointment);
    },
    async countForAgentOnDay(agent, dayStartUtc, dayEndUtc) {
      return (stmt.countOnDay.get(agent, utc(dayStartUtc, 'dayStartUtc'), utc(dayEndUtc, 'dayEndUtc')) as { n: number }).n;
    },
    async cancel(id, cancelledBy, atUtc, event = {}) {
      const at = utc(atUtc, 'atUtc');
      return write(() => cancelTx.immediate(id, cancelledBy, at, event));
    },
    async reschedule(id, r, event = {}) {
      utc(r.startUtc, 'startUtc');
      utc(r.endUtc, 'endUtc');
      utc(r.atUtc, 'atUtc');
      utc(r.claim.dayStartUtc, 'dayStartUtc');
      utc(r.claim.dayEndUtc, 'dayEndUtc');
      if (!Number.isInteger(r.claim.bufferMinutes) || r.claim.bufferMinutes < 0) throw new Error('bad bufferMinutes');
      return write(() => rescheduleTx.immediate(id, r, event));
    },
    async heldInRange(fromUtc, toUtc): Promise<Held[]> {
      utc(fromUtc, 'fromUtc');
      utc(toUtc, 'toUtc');
      return stmt.held
        .all(shift(fromUtc, -MAX_APPOINTMENT_MS), toUtc, fromUtc)
        .map((r) => ({ agent: r.agent, startUtc: r.start_utc, endUtc: r.end_utc }));
    },
    async findByIdempotencyKey(key, sinceUtc) {
      const r = stmt.byIdempotency.get(key, utc(sinceUtc, 'sinceUtc'));
      return r ? toAppointment(r) : null;
    },
    async findByCancelTokenHash(hash) {
      const r = stmt.byTokenHash.get(hash);
      return r ? toAppointment(r) : null;
    },
  };
}
