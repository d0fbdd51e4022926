import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/010-staff-sso.ts (staff sign-in through the gemeente's identity provider):
 * the same columns and the same partial unique index, so one person at the provider (`iss`, `sub`) is one account on
 * every instance; two first sign-ins of that person racing on two instances make one account (the index decides).
 * The logout hint is sealed with the session's own secret, unreadable from the database alone.
 */
export const migration: Migration = {
  id: 10,
  name: 'staff-sso',
  up: `
    ALTER TABLE staff_users ADD COLUMN email text;
    ALTER TABLE staff_users ADD COLUMN sso_issuer text;
    ALTER TABLE staff_users ADD COLUMN sso_subject text;
    CREATE UNIQUE INDEX staff_users_sso ON staff_users (sso_issuer, sso_subject) WHERE sso_subject IS NOT NULL;
    ALTER TABLE staff_sessions ADD COLUMN logout_hint text;
  `,
};
