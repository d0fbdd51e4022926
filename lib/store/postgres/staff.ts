import type { Role, StaffAccount, StaffIdentity, StaffStore, StaffUser } from '../../staff/types';
import { parseRoles, toStaffUser, type StaffUserRow } from '../rows';
import type { Pg } from './client';

/** StaffStore on PostgreSQL (migration 001); sessions by the hash of their secret only, editor tokens included. */
export function createPostgresStaffStore(pg: Pg): StaffStore {
  return {
    async getUser(username): Promise<StaffUser | undefined> {
      const [r] = await pg.query<StaffUserRow>('SELECT * FROM staff_users WHERE username = $1', [username]);
      return r ? toStaffUser(r) : undefined;
    },
    async upsertUser(u: { username: string; displayName: string; roles: Role[]; passwordHash: string }) {
      await pg.run(
        `INSERT INTO staff_users (username, display_name, roles, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, roles = excluded.roles,
           password_hash = excluded.password_hash, failed_logins = 0, locked_until = NULL`,
        [u.username, u.displayName, JSON.stringify(u.roles), u.passwordHash, new Date().toISOString()],
      );
    },
    async listUsers(): Promise<StaffIdentity[]> {
      const rows = await pg.query<StaffUserRow>('SELECT username, display_name, roles FROM staff_users WHERE NOT disabled ORDER BY username');
      return rows.map((r) => ({ username: r.username, displayName: r.display_name, roles: parseRoles(r.roles) }));
    },
    async listAccounts(): Promise<StaffAccount[]> {
      const rows = await pg.query<StaffUserRow>('SELECT username, display_name, roles, disabled FROM staff_users ORDER BY username');
      return rows.map((r) => ({ username: r.username, displayName: r.display_name, roles: parseRoles(r.roles), disabled: r.disabled === true }));
    },
    async setDisabled(username, disabled) {
      const sql = disabled
        ? 'UPDATE staff_users SET disabled = true WHERE username = $1'
        : 'UPDATE staff_users SET disabled = false, failed_logins = 0, locked_until = NULL WHERE username = $1';
      return (await pg.run(sql, [username])) === 1;
    },
    async removeUser(username) {
      return pg.tx(async (q) => {
        await q.run('DELETE FROM staff_sessions WHERE username = $1', [username]);
        return (await q.run('DELETE FROM staff_users WHERE username = $1', [username])) === 1;
      });
    },
    async recordFailure(username, lockedUntil) {
      const [row] = await pg.query<{ failed_logins: number }>(
        'UPDATE staff_users SET failed_logins = failed_logins + 1, locked_until = $1 WHERE username = $2 RETURNING failed_logins',
        [lockedUntil ?? null, username],
      );
      return row?.failed_logins ?? 0;
    },
    async resetFailures(username) {
      await pg.run('UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE username = $1', [username]);
    },
    async createSession(idHash, username, nowIso) {
      await pg.run('INSERT INTO staff_sessions (id_hash, username, created_at, last_seen_at) VALUES ($1, $2, $3, $3)', [idHash, username, nowIso]);
    },
    async getSession(idHash) {
      const [r] = await pg.query<{ username: string; created_at: string; last_seen_at: string }>(
        'SELECT username, created_at, last_seen_at FROM staff_sessions WHERE id_hash = $1',
        [idHash],
      );
      return r && { username: r.username, createdAt: r.created_at, lastSeenAt: r.last_seen_at };
    },
    async touchSession(idHash, nowIso) {
      await pg.run('UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2', [nowIso, idHash]);
    },
    async deleteSession(idHash) {
      await pg.run('DELETE FROM staff_sessions WHERE id_hash = $1', [idHash]);
    },
    deleteSessionsOf: (username) => pg.run('DELETE FROM staff_sessions WHERE username = $1', [username]),
    purgeSessions: (olderThanIso, idleSinceIso) => pg.run('DELETE FROM staff_sessions WHERE created_at < $1 OR last_seen_at < $2', [olderThanIso, idleSinceIso]),
  };
}
