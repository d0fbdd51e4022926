import type { Migration } from '../../migration';

/** PostgreSQL twin of lib/store/migrations/001-foundation.ts. Text columns that are sorted use the "C" collation, so
 * both engines order them byte for byte. */
export const migration: Migration = {
  id: 1,
  name: 'foundation',
  up: `
    CREATE TABLE kv (
      key text PRIMARY KEY,
      value text NOT NULL
    );
    CREATE TABLE staff_users (
      username text COLLATE "C" PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 64),
      display_name text NOT NULL,
      roles text NOT NULL,
      password_hash text NOT NULL,
      failed_logins integer NOT NULL DEFAULT 0,
      locked_until text,
      disabled boolean NOT NULL DEFAULT false,
      created_at text NOT NULL
    );
    CREATE TABLE staff_sessions (
      id_hash text PRIMARY KEY,
      username text COLLATE "C" NOT NULL REFERENCES staff_users(username) ON DELETE CASCADE,
      created_at text COLLATE "C" NOT NULL,
      last_seen_at text COLLATE "C" NOT NULL
    );
    CREATE INDEX staff_sessions_user ON staff_sessions(username);
  `,
};
