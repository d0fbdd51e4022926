import type { ContactRegistrationStore } from '../../openklant/store';
import { newToken } from '../../security/tokens';
import { toContactRegistration, type ContactRegistrationRow } from '../rows';
import type { Pg } from './client';

/**
 * ContactRegistrationStore on PostgreSQL (migration 011). Several instances may run a registrar for the same Open
 * Klant: `claimDue` leases due rows with `FOR UPDATE SKIP LOCKED`, so they take disjoint rows; every other write is one
 * statement guarded by the lease token.
 */
export function createPostgresContactRegistrations(pg: Pg): ContactRegistrationStore {
  const one = async (id: string) => (await pg.query<ContactRegistrationRow>('SELECT * FROM contact_registrations WHERE id = $1', [id]))[0];
  return {
    async add(r) {
      const inserted = await pg.run(
        `INSERT INTO contact_registrations (id, appointment_id, source, contact_made, identified, partij_uuid, max_attempts, next_attempt_at, trace_id, span_id, created_at, data_subject_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8, $11) ON CONFLICT (appointment_id) DO NOTHING`,
        [newToken(16), r.appointmentId, r.source, r.contactMade ? 1 : 0, r.identified ? 1 : 0, r.partijUuid ?? null, r.maxAttempts, r.createdAt, r.traceId, r.spanId, r.dataSubjectId ?? null],
      );
      const [row] = await pg.query<ContactRegistrationRow>('SELECT * FROM contact_registrations WHERE appointment_id = $1', [r.appointmentId]);
      if (!row) throw new Error('contact registration not stored');
      return { registration: toContactRegistration(row), created: inserted === 1 };
    },
    async get(id) {
      const row = await one(id);
      return row ? toContactRegistration(row) : undefined;
    },
    async claimDue(sources, lease, limit) {
      if (sources.length === 0) return [];
      const rows = await pg.statement<ContactRegistrationRow>(
        `WITH due AS (
           SELECT id FROM contact_registrations
           WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) AND source = ANY($2::text[])
           ORDER BY next_attempt_at, id LIMIT $3
           FOR UPDATE SKIP LOCKED)
         UPDATE contact_registrations c SET lease_token = $4, lease_instance = $5, lease_until = $6, attempts = c.attempts + 1
         FROM due WHERE c.id = due.id
         RETURNING c.*`,
        [lease.nowIso, [...sources], limit, lease.token, lease.instance, lease.untilIso],
      );
      return rows.map(toContactRegistration).sort((a, b) => (a.nextAttemptAt < b.nextAttemptAt ? -1 : a.nextAttemptAt > b.nextAttemptAt ? 1 : a.id < b.id ? -1 : 1));
    },
    async progress(id, token, p) {
      return (
        (await pg.run(
          `UPDATE contact_registrations SET partij_uuid = COALESCE($3, partij_uuid), klantcontact_uuid = COALESCE($4, klantcontact_uuid),
             actor_linked = GREATEST(actor_linked, $5), codes = COALESCE($6::jsonb, codes)
           WHERE id = $1 AND state = 'pending' AND lease_token = $2`,
          [id, token, p.partijUuid ?? null, p.klantcontactUuid ?? null, p.actorLinked ? 1 : 0, p.codes ? JSON.stringify(p.codes) : null],
        )) === 1
      );
    },
    async complete(id, token, codes, nowIso) {
      return (
        (await pg.run(
          `UPDATE contact_registrations SET state = 'done', codes = $3::jsonb, done_at = $4, lease_token = NULL, lease_instance = NULL, lease_until = NULL
           WHERE id = $1 AND state = 'pending' AND lease_token = $2`,
          [id, token, JSON.stringify(codes), nowIso],
        )) === 1
      );
    },
    async reschedule(id, token, retryAtIso, errorCode) {
      return (
        (await pg.run(
          `UPDATE contact_registrations SET next_attempt_at = $3, last_error = $4, lease_token = NULL, lease_instance = NULL, lease_until = NULL
           WHERE id = $1 AND state = 'pending' AND lease_token = $2`,
          [id, token, retryAtIso, errorCode.slice(0, 60)],
        )) === 1
      );
    },
    async fail(id, token, errorCode, nowIso) {
      return (
        (await pg.run(
          `UPDATE contact_registrations SET state = 'failed', last_error = $3, done_at = $4, lease_token = NULL, lease_instance = NULL, lease_until = NULL
           WHERE id = $1 AND state = 'pending' AND lease_token = $2`,
          [id, token, errorCode.slice(0, 60), nowIso],
        )) === 1
      );
    },
    reclaimInstance: (instance, nowIso) =>
      pg.run(`UPDATE contact_registrations SET lease_token = NULL, lease_instance = NULL, lease_until = NULL WHERE state = 'pending' AND lease_instance = $1 AND lease_until > $2`, [instance, nowIso]),
    async nextDueAt(sources) {
      if (sources.length === 0) return undefined;
      const [r] = await pg.query<{ next: string | null }>(`SELECT MIN(next_attempt_at) AS next FROM contact_registrations WHERE state = 'pending' AND source = ANY($1::text[])`, [[...sources]]);
      return r?.next ?? undefined;
    },
    async counts(source) {
      const [r] = await pg.query<{ pending: string; retrying: string; failed: string }>(
        `SELECT COUNT(*) FILTER (WHERE state = 'pending') AS pending, COUNT(*) FILTER (WHERE state = 'pending' AND last_error IS NOT NULL) AS retrying,
                COUNT(*) FILTER (WHERE state = 'failed') AS failed
         FROM contact_registrations WHERE source = $1`,
        [source],
      );
      return { pending: Number(r.pending), retrying: Number(r.retrying), failed: Number(r.failed) };
    },
  };
}
