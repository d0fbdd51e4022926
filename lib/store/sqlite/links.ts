import type { Database } from 'better-sqlite3';
import type { LinkStore, StoredLink } from '../../links/types';
import { toLink, toSession, type LinkRow, type SessionRow } from '../rows';

/** The synchronous writes of links, for use inside a larger transaction (lib/store/sqlite/events.ts). */
export interface SqliteLinkWrites {
  /** Stores the link, replacing the appointment's link of the same role. Call inside a transaction. */
  replaceLink(link: StoredLink): void;
  /** Removes the appointment's links and call sessions; returns the number of rows removed. */
  revokeAppointment(appointmentId: string): number;
}

export function sqliteLinkWrites(db: Database): SqliteLinkWrites {
  const deleteLinkFor = db.prepare('DELETE FROM access_links WHERE appointment_id = ? AND role = ?');
  const insertLink = db.prepare(
    `INSERT INTO access_links (token_hash, appointment_id, role, agent_username, valid_from, valid_until, created_at)
     VALUES (@tokenHash, @appointmentId, @role, @agentUsername, @validFrom, @validUntil, @createdAt)`,
  );
  const deleteLinks = db.prepare('DELETE FROM access_links WHERE appointment_id = ?');
  const deleteSessions = db.prepare('DELETE FROM call_sessions WHERE appointment_id = ?');
  return {
    replaceLink(link) {
      deleteLinkFor.run(link.appointmentId, link.role);
      insertLink.run({ ...link, agentUsername: link.agentUsername ?? null });
    },
    revokeAppointment(appointmentId) {
      return deleteLinks.run(appointmentId).changes + deleteSessions.run(appointmentId).changes;
    },
  };
}

/** SQLite implementation of LinkStore on tables from migration 003. */
export function createSqliteLinkStore(db: Database): LinkStore {
  const writes = sqliteLinkWrites(db);
  // Delete then insert in one transaction: there is never a moment with two live links or none half-written.
  const replace = db.transaction((link: StoredLink) => writes.replaceLink(link));
  const byHash = db.prepare('SELECT * FROM access_links WHERE token_hash = ?');
  const byAppointmentRole = db.prepare('SELECT * FROM access_links WHERE appointment_id = ? AND role = ?');
  const deleteLinks = db.prepare('DELETE FROM access_links WHERE appointment_id = ?');
  const insertSession = db.prepare(
    `INSERT INTO call_sessions (id_hash, appointment_id, role, agent_username, created_at, expires_at)
     VALUES (@idHash, @appointmentId, @role, @agentUsername, @createdAt, @expiresAt)`,
  );
  const sessionByHash = db.prepare('SELECT * FROM call_sessions WHERE id_hash = ?');
  const deleteSessions = db.prepare('DELETE FROM call_sessions WHERE appointment_id = ?');
  const deleteSession = db.prepare('DELETE FROM call_sessions WHERE id_hash = ?');
  const purgeLinks = db.prepare('DELETE FROM access_links WHERE valid_until <= ?');
  const purgeSessions = db.prepare('DELETE FROM call_sessions WHERE expires_at <= ?');
  const purge = db.transaction((now: string) => purgeLinks.run(now).changes + purgeSessions.run(now).changes);

  return {
    async replaceLink(link) {
      replace(link);
    },
    async findLinkByHash(tokenHash) {
      return toLink(byHash.get(tokenHash) as LinkRow | undefined);
    },
    async findLink(appointmentId, role) {
      return toLink(byAppointmentRole.get(appointmentId, role) as LinkRow | undefined);
    },
    async deleteLinksForAppointment(appointmentId) {
      return deleteLinks.run(appointmentId).changes;
    },
    async insertCallSession(session) {
      insertSession.run({ ...session, agentUsername: session.agentUsername ?? null });
    },
    async findCallSessionByHash(idHash) {
      return toSession(sessionByHash.get(idHash) as SessionRow | undefined);
    },
    async deleteCallSessionsForAppointment(appointmentId) {
      return deleteSessions.run(appointmentId).changes;
    },
    async deleteCallSessionByHash(idHash) {
      return deleteSession.run(idHash).changes;
    },
    async purgeExpired(nowIso) {
      return purge(nowIso);
    },
  };
}
