export type Role = 'agent' | 'kcc' | 'admin';
export const ROLES: readonly Role[] = ['agent', 'kcc', 'admin'];

export interface StaffUser {
  username: string;
  displayName: string;
  roles: Role[];
  passwordHash: string;
  failedLogins: number;
  lockedUntil?: string;
  disabled: boolean;
}

export interface StaffIdentity {
  username: string;
  displayName: string;
  roles: Role[];
}

/** An account as the account command lists it. */
export interface StaffAccount extends StaffIdentity {
  disabled: boolean;
}

/**
 * Staff accounts and their server-side sessions (SQLite or the shared PostgreSQL store). Sessions are
 * stored by the hash of their secret only; the flow editor's tokens live here too, under their own id namespace
 * (lib/editor/sessions.ts), so ending a user's sessions ends both.
 */
export interface StaffStore {
  getUser(username: string): Promise<StaffUser | undefined>;
  upsertUser(user: { username: string; displayName: string; roles: Role[]; passwordHash: string }): Promise<void>;
  /** Enabled accounts. */
  listUsers(): Promise<StaffIdentity[]>;
  /** Every account, disabled ones too. */
  listAccounts(): Promise<StaffAccount[]>;
  /** Disables or enables an account; false when there is no such account. Does not end sessions by itself. */
  setDisabled(username: string, disabled: boolean): Promise<boolean>;
  /** Removes an account and (by cascade) all its sessions; false when there is no such account. */
  removeUser(username: string): Promise<boolean>;
  recordFailure(username: string, lockedUntil: string | undefined): Promise<number>;
  resetFailures(username: string): Promise<void>;
  createSession(idHash: string, username: string, nowIso: string): Promise<void>;
  getSession(idHash: string): Promise<{ username: string; createdAt: string; lastSeenAt: string } | undefined>;
  touchSession(idHash: string, nowIso: string): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of the user: staff cookies and editor tokens alike. */
  deleteSessionsOf(username: string): Promise<number>;
  purgeSessions(olderThanIso: string, idleSinceIso: string): Promise<number>;
}
