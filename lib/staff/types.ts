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

/** Staff accounts and their server-side sessions. Async so a shared PostgreSQL store can implement it too. */
export interface StaffStore {
  getUser(username: string): Promise<StaffUser | undefined>;
  upsertUser(user: { username: string; displayName: string; roles: Role[]; passwordHash: string }): Promise<void>;
  listUsers(): Promise<StaffIdentity[]>;
  recordFailure(username: string, lockedUntil: string | undefined): Promise<number>;
  resetFailures(username: string): Promise<void>;
  createSession(idHash: string, username: string, nowIso: string): Promise<void>;
  getSession(idHash: string): Promise<{ username: string; createdAt: string; lastSeenAt: string } | undefined>;
  touchSession(idHash: string, nowIso: string): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
  purgeSessions(olderThanIso: string, idleSinceIso: string): Promise<number>;
}
