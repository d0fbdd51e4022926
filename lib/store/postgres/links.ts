import type { LinkStore, StoredLink } from '../../links/types';
import { toLink, toSession, type LinkRow, type SessionRow } from '../rows';
import type { Pg, Query } from './client';

// One statement replaces the appointment's link of that role: there is never a moment with two live links or none,
// and two replacements racing on different instances end with one of them, never a unique-key error.
const REPLACE = `INSERT INTO access_links (token_hash, appointment_id, role, agent_username, valid_from, valid_until, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (appointment_id, role) DO UPDATE SET token_hash = excluded.token_hash, agent_username = excluded.agent_username,
    valid_from = excluded.valid_from, valid_until = excluded.valid_until, created_at = excluded.created_at`;

/** Link writes on a transaction's connection (lib/store/postgres/events.ts applies a hand-off's effects with them). */
export function linkWrites(q: Query) {
  return {
    async replaceLink(link: StoredLink): Promise<void> {
      await q.run(REPLACE, [link.tokenHash, link.appointmentId, link.role, link.agentUsername ?? null, link.validFrom, link.validUntil, link.createdAt]);
    },
    async revokeAppointment(appointmentId: string): Promise<number> {
      return (await q.run('DELETE FROM access_links WHERE appointment_id = $1', [appointmentId])) + (await q.run('DELETE FROM call_sessions WHERE appointment_id = $1', [appointmentId]));
    },
  };
}

/** LinkStore on PostgreSQL (migration 003). */
export function createPostgresLinkStore(pg: Pg): LinkStore {
  const writes = linkWrites(pg);
  return {
    replaceLink: (link) => writes.replaceLink(link),
    async findLinkByHash(tokenHash) {
      return toLink((await pg.query<LinkRow>('SELECT * FROM access_links WHERE token_hash = $1', [tokenHash]))[0]);
    },
    async findLink(appointmentId, role) {
      return toLink((await pg.query<LinkRow>('SELECT * FROM access_links WHERE appointment_id = $1 AND role = $2', [appointmentId, role]))[0]);
    },
    deleteLinksForAppointment: (appointmentId) => pg.run('DELETE FROM access_links WHERE appointment_id = $1', [appointmentId]),
    async insertCallSession(s) {
      await pg.run(
        `INSERT INTO call_sessions (id_hash, appointment_id, role, agent_username, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [s.idHash, s.appointmentId, s.role, s.agentUsername ?? null, s.createdAt, s.expiresAt],
      );
    },
    async findCallSessionByHash(idHash) {
      return toSession((await pg.query<SessionRow>('SELECT * FROM call_sessions WHERE id_hash = $1', [idHash]))[0]);
    },
    deleteCallSessionsForAppointment: (appointmentId) => pg.run('DELETE FROM call_sessions WHERE appointment_id = $1', [appointmentId]),
    deleteCallSessionByHash: (idHash) => pg.run('DELETE FROM call_sessions WHERE id_hash = $1', [idHash]),
    purgeExpired: (nowIso) =>
      pg.tx(async (q) => (await q.run('DELETE FROM access_links WHERE valid_until <= $1', [nowIso])) + (await q.run('DELETE FROM call_sessions WHERE expires_at <= $1', [nowIso]))),
  };
}
