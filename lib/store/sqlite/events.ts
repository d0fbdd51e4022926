import type { Database } from 'better-sqlite3';
import type {
  AppointmentEvent,
  ClaimResult,
  DueFilter,
  Effects,
  EventCounts,
  EventStore,
  FinishResult,
  Lease,
  NewEvent,
} from '../../events/types';
import { newToken } from '../../security/tokens';
import { sqliteLinkWrites } from './links';
import { sqliteOutboxWrites } from './outbox';
import { sqliteSmsWrites } from './sms-outbox';
import { KIND, MAX_FACTS, toEvent, type EventRow as Row } from '../rows';

/** Thrown inside the finish transaction to roll back everything when the appointment is no longer booked. */
class Superseded extends Error {}

/** The event insert, for the appointment store's claim and cancel transactions. */
export interface SqliteEventWrites {
  /** Writes a pending event; call inside the transaction of the change. Returns the new event id. */
  record(appointmentId: string, kind: string, event: NewEvent, createdAtIso: string): string;
}

export function sqliteEventWrites(db: Database): SqliteEventWrites {
  const insert = db.prepare(
    `INSERT INTO appointment_events (id, appointment_id, kind, source, facts, state, attempts, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
  );
  return {
    record(appointmentId, kind, event, createdAtIso) {
      if (!KIND.test(kind)) throw new Error('event kind must be a short lower-case word');
      const facts = JSON.stringify(event.facts ?? {});
      if (facts.length > MAX_FACTS) throw new Error('event facts are limited to 2000 characters of JSON');
      const source = event.source ?? null;
      if (source !== null && (typeof source !== 'string' || source.length > 100)) throw new Error('event source must be a node id');
      const id = newToken(16);
      insert.run(id, appointmentId, kind, source, facts, createdAtIso, createdAtIso);
      return id;
    },
  };
}

/**
 * EventStore on better-sqlite3 (migration 005). `finish` and `apply` write links, the cancel-token hash, call
 * sessions, outbox rows and the event state in one transaction, so a crash leaves all of it or none of it.
 */
export function createSqliteEventStore(db: Database): EventStore {
  const links = sqliteLinkWrites(db);
  const outbox = sqliteOutboxWrites(db);
  const sms = sqliteSmsWrites(db);
  const stmt = {
    get: db.prepare<[string], Row>('SELECT * FROM appointment_events WHERE id = ?'),
    claim: db.prepare(
      `UPDATE appointment_events
       SET lease_token = @token, lease_instance = @instance, lease_until = @until, attempts = attempts + 1
       WHERE id = @id AND state = 'pending' AND (lease_until IS NULL OR lease_until <= @now)
       RETURNING *`,
    ),
    finish: db.prepare(
      `UPDATE appointment_events
       SET state = 'done', outcome = @outcome, done_at = @now, lease_token = NULL, lease_instance = NULL, lease_until = NULL
       WHERE id = @id AND state = 'pending' AND lease_token = @token`,
    ),
    release: db.prepare(
      `UPDATE appointment_events
       SET lease_token = NULL, lease_instance = NULL, lease_until = NULL, next_attempt_at = @retryAt, last_error = @error
       WHERE id = @id AND state = 'pending' AND lease_token = @token`,
    ),
    reclaim: db.prepare(
      `UPDATE appointment_events SET lease_token = NULL, lease_instance = NULL, lease_until = NULL
       WHERE state = 'pending' AND lease_instance = @instance AND lease_until > @now`,
    ),
    holds: db.prepare<[string, string], { one: number }>(
      `SELECT 1 AS one FROM appointment_events WHERE id = ? AND state = 'pending' AND lease_token = ?`,
    ),
    appointmentStatus: db.prepare<[string], { status: string }>('SELECT status FROM appointments WHERE id = ?'),
    setCancelHash: db.prepare<[string, string]>(`UPDATE appointments SET cancel_token_hash = ? WHERE id = ? AND status = 'booked'`),
    counts: db.prepare<[], { pending: number; retrying: number }>(
      `SELECT COUNT(*) AS pending, COALESCE(SUM(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS retrying
       FROM appointment_events WHERE state = 'pending'`,
    ),
    purge: db.prepare<[string]>(`DELETE FROM appointment_events WHERE state = 'done' AND done_at < ?`),
  };

  const applyEffects = (e: Effects): void => {
    if (e.requireBooked && stmt.appointmentStatus.get(e.appointmentId)?.status !== 'booked') throw new Superseded();
    if (e.revokeLinks) links.revokeAppointment(e.appointmentId);
    for (const link of e.links ?? []) {
      if (link.appointmentId !== e.appointmentId) throw new Error('a link of another appointment in these effects');
      links.replaceLink(link);
    }
    if (e.cancelTokenHash !== undefined && stmt.setCancelHash.run(e.cancelTokenHash, e.appointmentId).changes !== 1) {
      throw new Superseded();
    }
    if (e.discardMailKinds?.length) outbox.discard(e.appointmentId, e.discardMailKinds);
    for (const mail of e.mails ?? []) outbox.insert(mail);
    if (e.discardSmsKinds?.length) sms.discard(e.appointmentId, e.discardSmsKinds);
    for (const text of e.sms ?? []) sms.insert(text);
  };

  const finishTx = db.transaction((id: string, token: string, effects: Effects, now: string): FinishResult => {
    if (!stmt.holds.get(id, token)) return 'lost';
    applyEffects(effects);
    stmt.finish.run({ id, token, now, outcome: 'handled' });
    return 'done';
  });

  const claimDueTx = db.transaction((filter: DueFilter, lease: Lease, limit: number): AppointmentEvent[] => {
    const where: string[] = [];
    const params: unknown[] = [lease.nowIso, filter.createdBeforeIso, lease.nowIso, ...filter.kinds];
    if (filter.sources.length) {
      where.push(`source IN (${filter.sources.map(() => '?').join(', ')})`);
      params.push(...filter.sources);
    }
    if (filter.orphansOf) {
      where.push(
        filter.orphansOf.length
          ? `(source IS NOT NULL AND source NOT IN (${filter.orphansOf.map(() => '?').join(', ')}))`
          : 'source IS NOT NULL',
      );
      params.push(...filter.orphansOf);
    }
    if (filter.includeSourceless) where.push('source IS NULL');
    if (where.length === 0 || filter.kinds.length === 0) return [];
    // Built from placeholders only; every value is a bound parameter.
    const ids = db
      .prepare(
        `SELECT id FROM appointment_events
         WHERE state = 'pending' AND next_attempt_at <= ? AND created_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
           AND kind IN (${filter.kinds.map(() => '?').join(', ')}) AND (${where.join(' OR ')})
         ORDER BY created_at, id LIMIT ?`,
      )
      .all(...params, limit) as { id: string }[];
    const claimed: AppointmentEvent[] = [];
    for (const { id } of ids) {
      const row = stmt.claim.get({ id, token: lease.token, instance: lease.instance, until: lease.untilIso, now: lease.nowIso }) as Row | undefined;
      if (row) claimed.push(toEvent(row));
    }
    return claimed;
  });

  return {
    async get(id) {
      const r = stmt.get.get(id);
      return r ? toEvent(r) : undefined;
    },
    async claim(id, lease) {
      const row = stmt.claim.get({ id, token: lease.token, instance: lease.instance, until: lease.untilIso, now: lease.nowIso }) as Row | undefined;
      if (row) return { status: 'claimed', event: toEvent(row) } satisfies ClaimResult;
      const current = stmt.get.get(id);
      if (!current) return { status: 'unknown' };
      return { status: current.state === 'done' ? 'done' : 'busy', event: toEvent(current) };
    },
    async claimDue(filter, lease, limit) {
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error('limit must be 1-1000');
      return claimDueTx.immediate(filter, lease, limit);
    },
    async finish(id, token, effects, now) {
      try {
        return finishTx.immediate(id, token, effects, now);
      } catch (e) {
        if (!(e instanceof Superseded)) throw e;
        // Rolled back: nothing of the effects stays. The event itself is over.
        return stmt.finish.run({ id, token, now, outcome: 'superseded' }).changes === 1 ? 'superseded' : 'lost';
      }
    },
    async settle(id, token, outcome, now) {
      return stmt.finish.run({ id, token, now, outcome }).changes === 1;
    },
    async apply(effects) {
      try {
        db.transaction(applyEffects).immediate(effects);
      } catch (e) {
        // Without an event to end, a no-longer-booked appointment simply gets nothing.
        if (!(e instanceof Superseded)) throw e;
      }
    },
    async release(id, token, errorCode, retryAt, _now) {
      return stmt.release.run({ id, token, retryAt, error: errorCode.slice(0, 60) }).changes === 1;
    },
    async reclaimInstance(instance, now) {
      return stmt.reclaim.run({ instance, now }).changes;
    },
    async counts(): Promise<EventCounts> {
      const r = stmt.counts.get() as { pending: number; retrying: number };
      return { pending: r.pending, retrying: r.retrying };
    },
    async purgeDone(before) {
      return stmt.purge.run(before).changes;
    },
  };
}
