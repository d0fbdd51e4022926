import type { Migration } from '../migration';

/**
 * Staff sign-in through the gemeente's identity provider (lib/staff/sso.ts). Plain ALTER TABLE … ADD COLUMN and a
 * partial unique index, the same statements on PostgreSQL (there `roles`, a JSON list, may also hold 'manager' now;
 * no schema change needed for that).
 *
 * - staff_users.sso_issuer / sso_subject: the person at the provider (`iss`, `sub`) an account is linked to; never a
 *   username or e-mail claim. One account per person. password_hash holds '!sso' for such accounts (no password).
 * - staff_users.email: the e-mail address from the ID token.
 * - staff_sessions.logout_hint: the ID token for RP-initiated logout, AES-GCM-sealed with a key derived from the
 *   session's own secret (the cookie or editor token, stored nowhere): unreadable from the database alone.
 */
export const migration: Migration = {
  id: 10,
  name: 'staff-sso',
  up: `
    ALTER TABLE staff_users ADD COLUMN email TEXT;
    ALTER TABLE staff_users ADD COLUMN sso_issuer TEXT;
    ALTER TABLE staff_users ADD COLUMN sso_subject TEXT;
    CREATE UNIQUE INDEX staff_users_sso ON staff_users (sso_issuer, sso_subject) WHERE sso_subject IS NOT NULL;
    ALTER TABLE staff_sessions ADD COLUMN logout_hint TEXT;
  `,
};
