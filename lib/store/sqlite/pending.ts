import type { Database } from 'better-sqlite3';
import { checkAttempt, type PendingIdentificationStore, type TakeResult } from '../../identification/pending-store';
import { toPendingAttempt, type PendingRow } from '../rows';

/** Pending identifications on SQLite (migration 008): take = DELETE … RETURNING and the tombstone, in one transaction. */
export function createSqlitePendingStore(db: Database): PendingIdentificationStore {
  const insert = db.prepare(
    `INSERT INTO identification_pending (kind, key_hash, session_hash, payload, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const remove = db.prepare<[string, string], PendingRow>('DELETE FROM identification_pending WHERE kind = ? AND key_hash = ? RETURNING *');
  const tomb = db.prepare('INSERT OR IGNORE INTO identification_taken (kind, key_hash, expires_at) VALUES (?, ?, ?)');
  const tombstone = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM identification_taken WHERE kind = ? AND key_hash = ?');
  const peek = db.prepare<[string, string, number], PendingRow>('SELECT * FROM identification_pending WHERE kind = ? AND key_hash = ? AND expires_at > ?');
  const count = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM identification_pending WHERE expires_at > ?');
  const mark = db.prepare(
    `INSERT INTO identification_taken (kind, key_hash, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (kind, key_hash) DO UPDATE SET expires_at = excluded.expires_at WHERE identification_taken.expires_at <= ?`,
  );
  const purgePending = db.prepare('DELETE FROM identification_pending WHERE expires_at <= ?');
  const purgeTaken = db.prepare('DELETE FROM identification_taken WHERE expires_at <= ?');
  const take = db.transaction((kind: string, keyHash: string): PendingRow | undefined => {
    const row = remove.get(kind, keyHash);
    if (row) tomb.run(row.kind, row.key_hash, row.expires_at);
    return row;
  });
  return {
    async put(a) {
      insert.run(a.kind, a.keyHash, a.sessionHash, checkAttempt(a), a.createdAt, a.expiresAt);
    },
    async take(kind, keyHash, nowMs): Promise<TakeResult> {
      const row = take.immediate(kind, keyHash);
      if (row) {
        const attempt = toPendingAttempt(row);
        return attempt.expiresAt > nowMs ? { status: 'taken', attempt } : { status: 'expired', attempt };
      }
      return tombstone.get(kind, keyHash) ? { status: 'replayed' } : { status: 'unknown' };
    },
    async peek(kind, keyHash, nowMs) {
      const row = peek.get(kind, keyHash, nowMs);
      return row ? toPendingAttempt(row) : undefined;
    },
    async countOpen(nowMs, kinds) {
      if (!kinds) return (count.get(nowMs) as { n: number }).n;
      if (kinds.length === 0) return 0;
      const sql = `SELECT count(*) AS n FROM identification_pending WHERE expires_at > ? AND kind IN (${kinds.map(() => '?').join(', ')})`;
      return (db.prepare(sql).get(nowMs, ...kinds) as { n: number }).n;
    },
    async once(kind, keyHash, expiresAt, nowMs) {
      if (!/^[0-9a-f]{64}$/.test(keyHash)) throw new Error('single-use keys are SHA-256 hex');
      return mark.run(kind, keyHash, expiresAt, nowMs).changes === 1;
    },
    async purgeExpired(nowMs) {
      return db.transaction(() => purgePending.run(nowMs).changes + purgeTaken.run(nowMs).changes)();
    },
  };
}
