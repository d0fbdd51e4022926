import type { Database } from 'better-sqlite3';
import type { AgentFeedStore } from '../../agent-feed/feed';

/** AgentFeedStore on better-sqlite3 (migration 012 agent_feeds). */
export function createSqliteAgentFeedStore(db: Database): AgentFeedStore {
  const upsert = db.prepare<[string, string, string]>(
    `INSERT INTO agent_feeds (username, token_hash, created_at) VALUES (?, ?, ?)
     ON CONFLICT (username) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
  );
  const del = db.prepare<[string]>('DELETE FROM agent_feeds WHERE username = ?');
  const byHash = db.prepare<[string], { username: string; token_hash: string }>('SELECT username, token_hash FROM agent_feeds WHERE token_hash = ?');
  const created = db.prepare<[string], { created_at: string }>('SELECT created_at FROM agent_feeds WHERE username = ?');
  return {
    async replace(username, hash, now) {
      upsert.run(username, hash, now);
    },
    async revoke(username) {
      return del.run(username).changes === 1;
    },
    async find(hash) {
      const r = byHash.get(hash);
      return r ? { username: r.username, tokenHash: r.token_hash } : undefined;
    },
    async createdAt(username) {
      return created.get(username)?.created_at;
    },
  };
}
