import { SSO_PASSWORD_MARKER, type Role, type SsoSaveResult, type StaffAccount, type StaffIdentity, type StaffStore, type StaffUser } from '../../staff/types';
import { parseRoles, toStaffAccount, toStaffUser, type StaffUserRow } from '../rows';
import type { Pg } from './client';

/** Advisory lock class of one person at an identity provider (their first sign-in makes one account). */
const SSO_LOCK_CLASS = 7_260_433;

/**
 * StaffStore on PostgreSQL (migrations 001, 010); sessions by the hash of their secret only, editor tokens included.
 */
export function createPostgresStaffStore(pg: Pg): StaffStore {
  return {
    async getUser(username): Promise<StaffUser | undefined> {
      const [r] = await pg.query<StaffUserRow>('SELECT * FROM staff_users WHERE username = $1', [username]);
      return r ? toStaffUser(r) : undefined;
    },
    async getSsoUser(issuer, subject) {
      const [r] = await pg.query<StaffUserRow>('SELECT * FROM staff_users WHERE sso_issuer = $1 AND sso_subject = $2', [issuer, subject]);
      return r ? toStaffUser(r) : undefined;
    },
    saveSsoUser(p, nowIso) {
      // The same person signing in for the first time on two instances at once: the lock per (iss, sub) makes the second
      // find the account the first made, as SQLite's one writer does (the partial unique index would only refuse it).
      return pg.tx(async (q): Promise<SsoSaveResult> => {
        await q.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SSO_LOCK_CLASS, `${p.issuer}\n${p.subject}`]);
        const [linked] = await q.query<{ username: string; disabled: boolean }>('SELECT username, disabled FROM staff_users WHERE sso_issuer = $1 AND sso_subject = $2', [p.issuer, p.subject]);
        if (linked) {
          await q.run('UPDATE staff_users SET display_name = $1, email = $2, roles = $3 WHERE username = $4', [p.displayName, p.email ?? null, JSON.stringify(p.roles), linked.username]);
          return { ok: true, username: linked.username, created: false, disabled: linked.disabled };
        }
        const inserted = await q.run(
          `INSERT INTO staff_users (username, display_name, roles, password_hash, created_at, email, sso_issuer, sso_subject)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING`,
          [p.username, p.displayName, JSON.stringify(p.roles), SSO_PASSWORD_MARKER, nowIso, p.email ?? null, p.issuer, p.subject],
        );
        return inserted === 1 ? { ok: true, username: p.username, created: true, disabled: false } : { ok: false, reason: 'username_taken' };
      });
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
      const rows = await pg.query<StaffUserRow>('SELECT username, display_name, roles, disabled, sso_subject FROM staff_users ORDER BY username');
      return rows.map(toStaffAccount);
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
    async createSession(idHash, username, nowIso, logoutHint, ssoSid) {
      await pg.run('INSERT INTO staff_sessions (id_hash, username, created_at, last_seen_at, logout_hint, sso_sid) VALUES ($1, $2, $3, $3, $4, $5)', [
        idHash, username, nowIso, logoutHint ?? null, ssoSid ?? null,
      ]);
    },
    async usersWithSsoSid(ssoSid) {
      return (await pg.query<{ username: string }>('SELECT DISTINCT username FROM staff_sessions WHERE sso_sid = $1', [ssoSid])).map((r) => r.username);
    },
    async getSession(idHash) {
      const [r] = await pg.query<{ username: string; created_at: string; last_seen_at: string; logout_hint: string | null }>(
        'SELECT username, created_at, last_seen_at, logout_hint FROM staff_sessions WHERE id_hash = $1',
        [idHash],
      );
      return r && { username: r.username, createdAt: r.created_at, lastSeenAt: r.last_seen_at, ...(r.logout_hint ? { logoutHint: r.logout_hint } : {}) };
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
