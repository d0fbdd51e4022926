/**
 * What an employee may do: `agent` the dashboard and calls, `kcc` booking for callers, `admin` the flow editor and
 * the processing log, `manager` the statistics (a page still to come).
 */
export type Role = 'agent' | 'kcc' | 'admin' | 'manager';
export const ROLES: readonly Role[] = ['agent', 'kcc', 'admin', 'manager'];

/** The roles in a stored JSON list that are roles (anything else is dropped). */
export function parseRoles(json: string): Role[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v.filter((r) => (ROLES as readonly unknown[]).includes(r)) as Role[]) : [];
  } catch {
    return [];
  }
}

export interface StaffUser {
  username: string;
  displayName: string;
  roles: Role[];
  passwordHash: string;
  failedLogins: number;
  lockedUntil?: string;
  disabled: boolean;
  /** From the gemeente's identity provider (SSO accounts). */
  email?: string;
  /** Signs in through the gemeente's identity provider only (no password of ours). */
  sso?: boolean;
}

export interface StaffIdentity {
  username: string;
  displayName: string;
  roles: Role[];
}

/** An account as the account command lists it. */
export interface StaffAccount extends StaffIdentity {
  disabled: boolean;
  sso?: boolean;
}

/** An employee as the gemeente's identity provider describes them at a sign-in (lib/staff/sso.ts). */
export interface SsoProfile {
  /** The provider (`iss`) and its stable id of the person (`sub`): the account is found by these two. */
  issuer: string;
  subject: string;
  /** The username for a new account (from the configured claim); an existing account keeps its own. */
  username: string;
  displayName: string;
  email?: string;
  roles: Role[];
}

export type SsoSaveResult =
  | { ok: true; username: string; created: boolean; disabled: boolean }
  /** A new person whose username another account (local, or another subject) already has: nothing is written. */
  | { ok: false; reason: 'username_taken' };

/** The marker in password_hash of an account that signs in through the identity provider only (never a scrypt hash). */
export const SSO_PASSWORD_MARKER = '!sso';

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
  /**
   * The account linked to a person at the identity provider, or undefined. Accounts are linked by issuer and subject,
   * never by a username or e-mail claim (those can change or be reused).
   */
  getSsoUser(issuer: string, subject: string): Promise<StaffUser | undefined>;
  /**
   * At an SSO sign-in, in one transaction: the linked account gets the profile's display name, e-mail and roles
   * (roles may be empty: a person without a mapped group keeps an account without access); a person seen for the
   * first time gets a new account under `profile.username` unless that name is taken (then nothing is written).
   */
  saveSsoUser(profile: SsoProfile, nowIso: string): Promise<SsoSaveResult>;
  /**
   * `logoutHint`: what a later sign-out needs to end the provider's session too (the ID token, sealed with the
   * session's own secret, lib/security/seal.ts); undefined for password sign-ins. `ssoSid`: the provider session the
   * sign-in came from (hashed), for a back-channel logout naming it (migration 016).
   */
  createSession(idHash: string, username: string, nowIso: string, logoutHint?: string, ssoSid?: string): Promise<void>;
  /**
   * The usernames with a session opened in the provider's session `ssoSid` (SHA-256 hex of issuer and `sid`, see
   * lib/staff/backchannel-logout.ts `sidHash`): who a back-channel logout token naming only that session is about.
   */
  usersWithSsoSid(ssoSid: string): Promise<string[]>;
  getSession(idHash: string): Promise<{ username: string; createdAt: string; lastSeenAt: string; logoutHint?: string } | undefined>;
  touchSession(idHash: string, nowIso: string): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of the user: staff cookies and editor tokens alike. */
  deleteSessionsOf(username: string): Promise<number>;
  purgeSessions(olderThanIso: string, idleSinceIso: string): Promise<number>;
}
