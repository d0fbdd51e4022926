import { checkAttempt, type PendingIdentificationStore, type TakeResult } from '../../identification/pending-store';
import { toPendingAttempt, type PendingRow } from '../rows';
import type { Pg } from './client';

/**
 * Pending identifications on PostgreSQL (migration 008): `take` is one statement — the row is deleted and returned
 * (`DELETE … RETURNING`) and its tombstone written in the same statement — so of two callbacks with the same state on
 * two instances exactly one gets the attempt; the other finds the tombstone ('replayed').
 */
export function createPostgresPendingStore(pg: Pg): PendingIdentificationStore {
  return {
    async put(a) {
      const payload = checkAttempt(a);
      await pg.run(
        `INSERT INTO identification_pending (kind, key_hash, session_hash, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [a.kind, a.keyHash, a.sessionHash, payload, a.createdAt, a.expiresAt],
      );
    },
    async take(kind, keyHash, nowMs): Promise<TakeResult> {
      const [row] = await pg.query<PendingRow>(
        `WITH taken AS (DELETE FROM identification_pending WHERE kind = $1 AND key_hash = $2 RETURNING *),
              tomb AS (INSERT INTO identification_taken (kind, key_hash, expires_at) SELECT kind, key_hash, expires_at FROM taken
                       ON CONFLICT DO NOTHING)
         SELECT * FROM taken`,
        [kind, keyHash],
      );
      if (row) {
        const attempt = toPendingAttempt(row);
        return attempt.expiresAt > nowMs ? { status: 'taken', attempt } : { status: 'expired', attempt };
      }
      const [tomb] = await pg.query('SELECT 1 AS one FROM identification_taken WHERE kind = $1 AND key_hash = $2', [kind, keyHash]);
      return tomb ? { status: 'replayed' } : { status: 'unknown' };
    },
    async peek(kind, keyHash, nowMs) {
      const [row] = await pg.query<PendingRow>('SELECT * FROM identification_pending WHERE kind = $1 AND key_hash = $2 AND expires_at > $3', [kind, keyHash, nowMs]);
      return row ? toPendingAttempt(row) : undefined;
    },
    async countOpen(nowMs, kinds) {
      const [r] = kinds
        ? await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM identification_pending WHERE expires_at > $1 AND kind = ANY($2::text[])', [nowMs, [...kinds]])
        : await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM identification_pending WHERE expires_at > $1', [nowMs]);
      return r.n;
    },
    async once(kind, keyHash, expiresAt, nowMs) {
      if (!/^[0-9a-f]{64}$/.test(keyHash)) throw new Error('single-use keys are SHA-256 hex');
      // Inserted, or taken over from an expired mark: one row counted; a live mark leaves the statement without a row.
      const n = await pg.run(
        `INSERT INTO identification_taken (kind, key_hash, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (kind, key_hash) DO UPDATE SET expires_at = excluded.expires_at WHERE identification_taken.expires_at <= $4`,
        [kind, keyHash, expiresAt, nowMs],
      );
      return n === 1;
    },
    purgeExpired: (nowMs) =>
      pg.tx(async (q) => (await q.run('DELETE FROM identification_pending WHERE expires_at <= $1', [nowMs])) + (await q.run('DELETE FROM identification_taken WHERE expires_at <= $1', [nowMs]))),
  };
}
