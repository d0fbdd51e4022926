import type { Db } from '../db';
import { SSO_PASSWORD_MARKER, type Role, type SsoProfile, type SsoSaveResult, type StaffAccount, type StaffIdentity, type StaffStore, type StaffUser } from '../../staff/types';
import { parseRoles, toStaffAccount, toStaffUser, type StaffUserRow } from '../rows';

export class SqliteStaffStore implements StaffStore {
  constructor(private readonly db: Db) {}

  async getUser(username: string): Promise<StaffUser | undefined> {
    const r = this.db.prepare('SELECT * FROM staff_users WHERE username = ?').get(username) as StaffUserRow | undefined;
    return r && toStaffUser(r);
  }

  async getSsoUser(issuer: string, subject: string): Promise<StaffUser | undefined> {
    const r = this.db.prepare('SELECT * FROM staff_users WHERE sso_issuer = ? AND sso_subject = ?').get(issuer, subject) as StaffUserRow | undefined;
    return r && toStaffUser(r);
  }

  async saveSsoUser(p: SsoProfile, nowIso: string): Promise<SsoSaveResult> {
    const save = this.db.transaction((): SsoSaveResult => {
      const linked = this.db.prepare('SELECT username, disabled FROM staff_users WHERE sso_issuer = ? AND sso_subject = ?').get(p.issuer, p.subject) as
        | { username: string; disabled: number }
        | undefined;
      if (linked) {
        this.db
          .prepare('UPDATE staff_users SET display_name = ?, email = ?, roles = ? WHERE username = ?')
          .run(p.displayName, p.email ?? null, JSON.stringify(p.roles), linked.username);
        return { ok: true, username: linked.username, created: false, disabled: linked.disabled === 1 };
      }
      const inserted = this.db
        .prepare(
          `INSERT INTO staff_users (username, display_name, roles, password_hash, created_at, email, sso_issuer, sso_subject)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
        )
        .run(p.username, p.displayName, JSON.stringify(p.roles), SSO_PASSWORD_MARKER, nowIso, p.email ?? null, p.issuer, p.subject);
      return inserted.changes === 1 ? { ok: true, username: p.username, created: true, disabled: false } : { ok: false, reason: 'username_taken' };
    });
    return save.immediate();
  }

  async upsertUser(u: { username: string; displayName: string; roles: Role[]; passwordHash: string }): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO staff_users (username, display_name, roles, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(username) DO UPDATE SET display_name = excluded.display_name, roles = excluded.roles,
           password_hash = excluded.password_hash, failed_logins = 0, locked_until = NULL`,
      )
      .run(u.username, u.displayName, JSON.stringify(u.roles), u.passwordHash, new Date().toISOString());
  }

  async listUsers(): Promise<StaffIdentity[]> {
    const rows = this.db.prepare('SELECT username, display_name, roles FROM staff_users WHERE disabled = 0 ORDER BY username').all() as StaffUserRow[];
    return rows.map((r) => ({ username: r.username, displayName: r.display_name, roles: parseRoles(r.roles) }));
  }

  async listAccounts(): Promise<StaffAccount[]> {
    const rows = this.db.prepare('SELECT username, display_name, roles, disabled, sso_subject FROM staff_users ORDER BY username').all() as StaffUserRow[];
    return rows.map(toStaffAccount);
  }

  async setDisabled(username: string, disabled: boolean): Promise<boolean> {
    const sql = disabled
      ? 'UPDATE staff_users SET disabled = 1 WHERE username = ?'
      : 'UPDATE staff_users SET disabled = 0, failed_logins = 0, locked_until = NULL WHERE username = ?';
    return this.db.prepare(sql).run(username).changes === 1;
  }

  async removeUser(username: string): Promise<boolean> {
    const remove = this.db.transaction((name: string) => {
      this.db.prepare('DELETE FROM staff_sessions WHERE username = ?').run(name);
      return this.db.prepare('DELETE FROM staff_users WHERE username = ?').run(name).changes === 1;
    });
    return remove(username);
  }

  async recordFailure(username: string, lockedUntil: string | undefined): Promise<number> {
    const row = this.db
      .prepare('UPDATE staff_users SET failed_logins = failed_logins + 1, locked_until = ? WHERE username = ? RETURNING failed_logins')
      .get(lockedUntil ?? null, username) as { failed_logins: number } | undefined;
    return row?.failed_logins ?? 0;
  }

  async resetFailures(username: string): Promise<void> {
    this.db.prepare('UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE username = ?').run(username);
  }

  async createSession(idHash: string, username: string, nowIso: string, logoutHint?: string, ssoSid?: string): Promise<void> {
    this.db
      .prepare('INSERT INTO staff_sessions (id_hash, username, created_at, last_seen_at, logout_hint, sso_sid) VALUES (?, ?, ?, ?, ?, ?)')
      .run(idHash, username, nowIso, nowIso, logoutHint ?? null, ssoSid ?? null);
  }

  async usersWithSsoSid(ssoSid: string): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT username FROM staff_sessions WHERE sso_sid = ?').all(ssoSid) as { username: string }[]).map((r) => r.username);
  }

  async getSession(idHash: string) {
    const r = this.db.prepare('SELECT username, created_at, last_seen_at, logout_hint FROM staff_sessions WHERE id_hash = ?').get(idHash) as
      | { username: string; created_at: string; last_seen_at: string; logout_hint: string | null }
      | undefined;
    return r && { username: r.username, createdAt: r.created_at, lastSeenAt: r.last_seen_at, ...(r.logout_hint ? { logoutHint: r.logout_hint } : {}) };
  }

  async touchSession(idHash: string, nowIso: string): Promise<void> {
    this.db.prepare('UPDATE staff_sessions SET last_seen_at = ? WHERE id_hash = ?').run(nowIso, idHash);
  }

  async deleteSession(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM staff_sessions WHERE id_hash = ?').run(idHash);
  }

  async deleteSessionsOf(username: string): Promise<number> {
    return this.db.prepare('DELETE FROM staff_sessions WHERE username = ?').run(username).changes;
  }

  async purgeSessions(olderThanIso: string, idleSinceIso: string): Promise<number> {
    return this.db.prepare('DELETE FROM staff_sessions WHERE created_at < ? OR last_seen_at < ?').run(olderThanIso, idleSinceIso).changes;
  }
}
