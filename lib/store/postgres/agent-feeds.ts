import type { AgentFeedStore } from '../../agent-feed/feed';
import type { Pg } from './client';

/** AgentFeedStore on PostgreSQL (migration 012 agent_feeds). */
export function createPostgresAgentFeedStore(pg: Pg): AgentFeedStore {
  return {
    async replace(username, hash, now) {
      await pg.run(
        `INSERT INTO agent_feeds (username, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
        [username, hash, now],
      );
    },
    async revoke(username) {
      return (await pg.run('DELETE FROM agent_feeds WHERE username = $1', [username])) === 1;
    },
    async find(hash) {
      const [r] = await pg.query<{ username: string; token_hash: string }>('SELECT username, token_hash FROM agent_feeds WHERE token_hash = $1', [hash]);
      return r ? { username: r.username, tokenHash: r.token_hash } : undefined;
    },
    async createdAt(username) {
      const [r] = await pg.query<{ created_at: string }>('SELECT created_at FROM agent_feeds WHERE username = $1', [username]);
      return r?.created_at;
    },
  };
}
