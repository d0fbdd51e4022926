import type { AppointmentEvent, ClaimResult, Effects, EventCounts, EventStore, FinishResult, NewEvent } from '../../events/types';
import { newToken } from '../../security/tokens';
import { KIND, MAX_FACTS, toEvent, type EventRow as Row } from '../rows';
import type { Pg, Query } from './client';
import { linkWrites } from './links';
import { outboxWrites } from './outbox';
import { smsWrites } from './sms-outbox';

/** An event's source and facts as stored, checked as on SQLite (lib/store/sqlite/events.ts). */
export function eventFacts(event: NewEvent): { source: string | null; json: string } {
  const json = JSON.stringify(event.facts ?? {});
  if (json.length > MAX_FACTS) throw new Error('event facts are limited to 2000 characters of JSON');
  const source = event.source ?? null;
  if (source !== null && (typeof source !== 'string' || source.length > 100)) throw new Error('event source must be a node id');
  return { source, json };
}

/** Writes a pending event on the change's own transaction (AppointmentStore.cancel). Returns its id. */
export async function recordEvent(q: Query, appointmentId: string, kind: string, event: NewEvent, createdAtIso: string): Promise<string> {
  if (!KIND.test(kind)) throw new Error('event kind must be a short lower-case word');
  const { source, json: facts } = eventFacts(event);
  const id = newToken(16);
  await q.run(
    `INSERT INTO appointment_events (id, appointment_id, kind, source, facts, state, attempts, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)`,
    [id, appointmentId, kind, source, facts, createdAtIso],
  );
  return id;
}

/** Thrown inside the finish transaction to roll back everything when the appointment is no longer booked. */
class Superseded extends Error {}

const CLAIM = `UPDATE appointment_events
  SET lease_token = $2, lease_instance = $3, lease_until = $4, attempts = attempts + 1
  WHERE id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $5)
  RETURNING *`;
const FINISH = `UPDATE appointment_events
  SET state = 'done', outcome = $3, done_at = $4, lease_token = NULL, lease_instance = NULL, lease_until = NULL
  WHERE id = $1 AND state = 'pending' AND lease_token = $2`;

function byAge(a: Row, b: Row): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * EventStore on PostgreSQL. The hand-off's unit of work (`Effects`: links, the cancel-token hash, call sessions,
 * outbox mails) and the event's `done` commit in one transaction, as on SQLite. Across instances:
 *
 * - a claim is one UPDATE … WHERE the lease is free: of two instances claiming the same event one row lock wins and
 *   the other finds the lease taken;
 * - `claimDue` leases with `FOR UPDATE SKIP LOCKED`, so sweeps on several instances take disjoint events;
 * - `finish` locks the event row, and with `requireBooked` the appointment row (FOR SHARE): a cancellation that
 *   commits meanwhile waits for the hand-off, then revokes what it stored — never links for a cancelled booking.
 */
export function createPostgresEventStore(pg: Pg): EventStore {
  const applyEffects = async (q: Query, e: Effects): Promise<void> => {
    if (e.requireBooked) {
      const [a] = await q.query<{ status: string }>('SELECT status FROM appointments WHERE id = $1 FOR SHARE', [e.appointmentId]);
      if (a?.status !== 'booked') throw new Superseded();
    }
    const links = linkWrites(q);
    const outbox = outboxWrites(q);
    if (e.revokeLinks) await links.revokeAppointment(e.appointmentId);
    for (const link of e.links ?? []) {
      if (link.appointmentId !== e.appointmentId) throw new Error('a link of another appointment in these effects');
      await links.replaceLink(link);
    }
    if (e.cancelTokenHash !== undefined) {
      const n = await q.run(`UPDATE appointments SET cancel_token_hash = $1 WHERE id = $2 AND status = 'booked'`, [e.cancelTokenHash, e.appointmentId]);
      if (n !== 1) throw new Superseded();
    }
    if (e.discardMailKinds?.length) await outbox.discard(e.appointmentId, e.discardMailKinds);
    for (const mail of e.mails ?? []) await outbox.insert(mail);
    const sms = smsWrites(q);
    if (e.discardSmsKinds?.length) await sms.discard(e.appointmentId, e.discardSmsKinds);
    for (const text of e.sms ?? []) await sms.insert(text);
  };

  const settle = (id: string, token: string, outcome: string, now: string) => pg.run(FINISH, [id, token, outcome, now]);

  return {
    async get(id) {
      const [r] = await pg.query<Row>('SELECT * FROM appointment_events WHERE id = $1', [id]);
      return r ? toEvent(r) : undefined;
    },
    async claim(id, lease): Promise<ClaimResult> {
      const [row] = await pg.query<Row>(CLAIM, [id, lease.token, lease.instance, lease.untilIso, lease.nowIso]);
      if (row) return { status: 'claimed', event: toEvent(row) };
      const [current] = await pg.query<Row>('SELECT * FROM appointment_events WHERE id = $1', [id]);
      if (!current) return { status: 'unknown' };
      return { status: current.state === 'done' ? 'done' : 'busy', event: toEvent(current) };
    },
    async claimDue(filter, lease, limit): Promise<AppointmentEvent[]> {
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error('limit must be 1-1000');
      if (filter.kinds.length === 0) return [];
      const params: unknown[] = [lease.nowIso, filter.createdBeforeIso, [...filter.kinds]];
      const where: string[] = [];
      if (filter.sources.length) {
        params.push([...filter.sources]);
        where.push(`source = ANY($${params.length}::text[])`);
      }
      if (filter.orphansOf) {
        params.push([...filter.orphansOf]);
        where.push(`(source IS NOT NULL AND NOT (source = ANY($${params.length}::text[])))`);
      }
      if (filter.includeSourceless) where.push('source IS NULL');
      if (where.length === 0) return [];
      params.push(limit, lease.token, lease.instance, lease.untilIso);
      const n = params.length;
      // Built from placeholders only; every value is a bound parameter.
      const rows = await pg.query<Row>(
        `WITH due AS (
           SELECT id FROM appointment_events
           WHERE state = 'pending' AND next_attempt_at <= $1 AND created_at <= $2 AND (lease_until IS NULL OR lease_until <= $1)
             AND kind = ANY($3::text[]) AND (${where.join(' OR ')})
           ORDER BY created_at, id LIMIT $${n - 3}
           FOR UPDATE SKIP LOCKED)
         UPDATE appointment_events e SET lease_token = $${n - 2}, lease_instance = $${n - 1}, lease_until = $${n}, attempts = e.attempts + 1
         FROM due WHERE e.id = due.id
         RETURNING e.*`,
        params,
      );
      return rows.sort(byAge).map(toEvent);
    },
    async finish(id, token, effects, now): Promise<FinishResult> {
      try {
        return await pg.tx(async (q) => {
          const [held] = await q.query(`SELECT 1 AS one FROM appointment_events WHERE id = $1 AND state = 'pending' AND lease_token = $2 FOR UPDATE`, [id, token]);
          if (!held) return 'lost' as const;
          await applyEffects(q, effects);
          await q.run(FINISH, [id, token, 'handled', now]);
          return 'done' as const;
        });
      } catch (e) {
        if (!(e instanceof Superseded)) throw e;
        // Rolled back: nothing of the effects stays. The event itself is over.
        return (await settle(id, token, 'superseded', now)) === 1 ? 'superseded' : 'lost';
      }
    },
    async settle(id, token, outcome, now) {
      return (await settle(id, token, outcome, now)) === 1;
    },
    async apply(effects) {
      try {
        await pg.tx((q) => applyEffects(q, effects));
      } catch (e) {
        // Without an event to end, a no-longer-booked appointment simply gets nothing.
        if (!(e instanceof Superseded)) throw e;
      }
    },
    async release(id, token, errorCode, retryAt) {
      const n = await pg.run(
        `UPDATE appointment_events SET lease_token = NULL, lease_instance = NULL, lease_until = NULL, next_attempt_at = $3, last_error = $4
         WHERE id = $1 AND state = 'pending' AND lease_token = $2`,
        [id, token, retryAt, errorCode.slice(0, 60)],
      );
      return n === 1;
    },
    reclaimInstance: (instance, now) =>
      pg.run(
        `UPDATE appointment_events SET lease_token = NULL, lease_instance = NULL, lease_until = NULL
         WHERE state = 'pending' AND lease_instance = $1 AND lease_until > $2`,
        [instance, now],
      ),
    async counts(): Promise<EventCounts> {
      const [r] = await pg.query<EventCounts>(
        `SELECT COUNT(*)::int AS pending, COUNT(*) FILTER (WHERE last_error IS NOT NULL)::int AS retrying
         FROM appointment_events WHERE state = 'pending'`,
      );
      return { pending: r.pending, retrying: r.retrying };
    },
    purgeDone: (before) => pg.run(`DELETE FROM appointment_events WHERE state = 'done' AND done_at < $1`, [before]),
  };
}
