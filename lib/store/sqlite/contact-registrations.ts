import type { Database } from 'better-sqlite3';
import type { ContactRegistration, ContactRegistrationStore } from '../../openklant/store';
import { toContactRegistration, type ContactRegistrationRow } from '../rows';
import { newToken } from '../../security/tokens';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** ContactRegistrationStore on better-sqlite3 (migration 011). */
export function createSqliteContactRegistrations(db: Database): ContactRegistrationStore {
  const stmt = {
    insert: db.prepare(
      `INSERT INTO contact_registrations (id, appointment_id, source, contact_made, identified, partij_uuid, data_subject_id, max_attempts, next_attempt_at, trace_id, span_id, created_at)
       VALUES (@id, @appointmentId, @source, @contactMade, @identified, @partijUuid, @dataSubjectId, @maxAttempts, @createdAt, @traceId, @spanId, @createdAt)
       ON CONFLICT (appointment_id) DO NOTHING`,
    ),
    get: db.prepare<[string], ContactRegistrationRow>('SELECT * FROM contact_registrations WHERE id = ?'),
    byAppointment: db.prepare<[string], ContactRegistrationRow>('SELECT * FROM contact_registrations WHERE appointment_id = ?'),
    claim: db.prepare(
      `UPDATE contact_registrations SET lease_token = @token, lease_instance = @instance, lease_until = @until, attempts = attempts + 1
       WHERE id = @id AND state = 'pending' AND (lease_until IS NULL OR lease_until <= @now) RETURNING *`,
    ),
    progress: db.prepare(
      `UPDATE contact_registrations SET
         partij_uuid = COALESCE(@partijUuid, partij_uuid), klantcontact_uuid = COALESCE(@klantcontactUuid, klantcontact_uuid),
         actor_linked = MAX(actor_linked, @actorLinked), codes = COALESCE(@codes, codes)
       WHERE id = @id AND state = 'pending' AND lease_token = @token`,
    ),
    finish: db.prepare(
      `UPDATE contact_registrations SET state = @state, codes = COALESCE(@codes, codes), last_error = COALESCE(@error, last_error), done_at = @now,
         lease_token = NULL, lease_instance = NULL, lease_until = NULL
       WHERE id = @id AND state = 'pending' AND lease_token = @token`,
    ),
    reschedule: db.prepare(
      `UPDATE contact_registrations SET next_attempt_at = @retryAt, last_error = @error, lease_token = NULL, lease_instance = NULL, lease_until = NULL
       WHERE id = @id AND state = 'pending' AND lease_token = @token`,
    ),
    reclaim: db.prepare(
      `UPDATE contact_registrations SET lease_token = NULL, lease_instance = NULL, lease_until = NULL
       WHERE state = 'pending' AND lease_instance = @instance AND lease_until > @now`,
    ),
    counts: db.prepare<[string], { pending: number; retrying: number; failed: number }>(
      `SELECT COALESCE(SUM(state = 'pending'), 0) AS pending, COALESCE(SUM(state = 'pending' AND last_error IS NOT NULL), 0) AS retrying,
              COALESCE(SUM(state = 'failed'), 0) AS failed
       FROM contact_registrations WHERE source = ?`,
    ),
  };

  const claimDueTx = db.transaction((sources: readonly string[], lease: { token: string; instance: string; nowIso: string; untilIso: string }, limit: number) => {
    const ids = db
      .prepare(
        `SELECT id FROM contact_registrations WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
           AND source IN (${placeholders(sources.length)}) ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(lease.nowIso, lease.nowIso, ...sources, limit) as { id: string }[];
    const claimed: ContactRegistration[] = [];
    for (const { id } of ids) {
      const row = stmt.claim.get({ id, token: lease.token, instance: lease.instance, until: lease.untilIso, now: lease.nowIso }) as ContactRegistrationRow | undefined;
      if (row) claimed.push(toContactRegistration(row));
    }
    return claimed;
  });

  return {
    async add(r) {
      const id = newToken(16);
      const info = stmt.insert.run({
        id,
        appointmentId: r.appointmentId,
        source: r.source,
        contactMade: r.contactMade ? 1 : 0,
        identified: r.identified ? 1 : 0,
        partijUuid: r.partijUuid ?? null,
        dataSubjectId: r.dataSubjectId ?? null,
        maxAttempts: r.maxAttempts,
        traceId: r.traceId,
        spanId: r.spanId,
        createdAt: r.createdAt,
      });
      const row = stmt.byAppointment.get(r.appointmentId);
      if (!row) throw new Error('contact registration not stored');
      return { registration: toContactRegistration(row), created: info.changes === 1 };
    },
    async get(id) {
      const row = stmt.get.get(id);
      return row ? toContactRegistration(row) : undefined;
    },
    async claimDue(sources, lease, limit) {
      if (sources.length === 0) return [];
      return claimDueTx.immediate(sources, lease, limit);
    },
    async progress(id, token, p) {
      return (
        stmt.progress.run({
          id,
          token,
          partijUuid: p.partijUuid ?? null,
          klantcontactUuid: p.klantcontactUuid ?? null,
          actorLinked: p.actorLinked ? 1 : 0,
          codes: p.codes ? JSON.stringify(p.codes) : null,
        }).changes === 1
      );
    },
    async complete(id, token, codes, nowIso) {
      return stmt.finish.run({ id, token, state: 'done', codes: JSON.stringify(codes), error: null, now: nowIso }).changes === 1;
    },
    async reschedule(id, token, retryAtIso, errorCode) {
      return stmt.reschedule.run({ id, token, retryAt: retryAtIso, error: errorCode.slice(0, 60) }).changes === 1;
    },
    async fail(id, token, errorCode, nowIso) {
      return stmt.finish.run({ id, token, state: 'failed', codes: null, error: errorCode.slice(0, 60), now: nowIso }).changes === 1;
    },
    async reclaimInstance(instance, nowIso) {
      return stmt.reclaim.run({ instance, now: nowIso }).changes;
    },
    async nextDueAt(sources) {
      if (sources.length === 0) return undefined;
      const r = db
        .prepare(`SELECT MIN(next_attempt_at) AS next FROM contact_registrations WHERE state = 'pending' AND source IN (${placeholders(sources.length)})`)
        .get(...sources) as { next: string | null };
      return r.next ?? undefined;
    },
    async counts(source) {
      return stmt.counts.get(source) as { pending: number; retrying: number; failed: number };
    },
  };
}
