import { openWithToken, sealWithToken } from '../security/seal';
import { hashToken, looksLikeToken, newToken } from '../security/tokens';
import { liveSessionUser, LOGOUT_HINT_PURPOSE } from '../staff/auth';
import type { StaffStore } from '../staff/types';

/**
 * The flow editor's sessions, owned by the product instead of Node-RED. A token gives what the editor gives: function
 * and exec nodes, i.e. shell access. Node-RED would keep its tokens in plain text in IDV_DATA_DIR/.sessions.json and
 * in its own memory, where neither a password change nor a disabled account reaches them. Here a token is stored as
 * its SHA-256 only, in the staff session table, and every request checks it there (Node-RED's `adminAuth.tokens`
 * hook), so `staff-account password|disable|remove` ends it at once, from another process too.
 *
 * Editor tokens use their own id namespace in that table: a staff cookie can never be looked up as an editor token
 * nor the other way round, and "end this user's sessions" ends both kinds.
 */
const NAMESPACE = 'editor:';

/** The user Node-RED's adminAuth works with. */
export interface EditorUser {
  username: string;
  permissions: '*';
}

export interface EditorSessionsOptions {
  store: StaffStore;
  /** Hours a token lives at most (default 8, Node-RED's sessionExpiryTime here). */
  absoluteHours?: number;
  /** Minutes without an editor request after which a token ends (default 30, like staff sessions). */
  idleMinutes?: number;
  now?: () => Date;
  /** Tokens of local accounts work (default true); see StaffAuthOptions.localAccounts. */
  localAccounts?: boolean;
}

export interface EditorSessions {
  /**
   * A new token for an enabled administrator (checked by the caller); returned once, stored as its hash. `idToken`
   * (an SSO sign-in) is kept sealed with the token, for the sign-out at the provider.
   */
  issue(username: string, idToken?: string): Promise<{ token: string; expiresInSec: number }>;
  /** Node-RED's `adminAuth.tokens`: the user of a live token of an enabled administrator, else null. */
  validate(token: unknown): Promise<EditorUser | null>;
  /** Ends one token (the editor's sign-out); returns the ID token it was issued with, if any. */
  revoke(token: unknown): Promise<{ idToken?: string }>;
  /** Seconds a new token lives. */
  readonly lifetimeSec: number;
}

export function createEditorSessions(o: EditorSessionsOptions): EditorSessions {
  const now = o.now ?? (() => new Date());
  const absoluteMs = (o.absoluteHours ?? 8) * 3_600_000;
  const idleMs = (o.idleMinutes ?? 30) * 60_000;
  const id = (token: string) => NAMESPACE + hashToken(token);
  const localAccounts = o.localAccounts ?? true;

  return {
    lifetimeSec: absoluteMs / 1000,
    async issue(username, idToken) {
      const token = newToken();
      const hint = idToken ? sealWithToken(token, LOGOUT_HINT_PURPOSE, idToken) : undefined;
      await o.store.createSession(id(token), username, now().toISOString(), hint);
      return { token, expiresInSec: absoluteMs / 1000 };
    },
    async validate(token) {
      if (!looksLikeToken(token)) return null;
      const user = await liveSessionUser(o.store, id(token), now().getTime(), idleMs, absoluteMs, localAccounts);
      return user && user.roles.includes('admin') ? { username: user.username, permissions: '*' } : null;
    },
    async revoke(token) {
      if (!looksLikeToken(token)) return {};
      const hint = (await o.store.getSession(id(token)))?.logoutHint;
      await o.store.deleteSession(id(token));
      const idToken = hint ? openWithToken(token, LOGOUT_HINT_PURPOSE, hint) : undefined;
      return idToken ? { idToken } : {};
    },
  };
}
