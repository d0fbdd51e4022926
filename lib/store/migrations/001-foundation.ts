import type { Migration } from '../migration';

export const migration: Migration = {
  id: 1,
  name: 'foundation',
  up: `
    CREATE TABLE kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    CREATE TABLE staff_users (
      username TEXT PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 64),
      display_name TEXT NOT NULL,
      roles TEXT NOT NULL,               -- JSON array of 'agent' | 'kcc' | 'admin'
      password_hash TEXT NOT NULL,       -- scrypt$N$r$p$salt$hash
      failed_logins INTEGER NOT NULL DEFAULT 0,
      locked_until TEXT,                 -- UTC ISO; back-off after repeated failures
      disabled INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );
    CREATE TABLE staff_sessions (
      id_hash TEXT PRIMARY KEY,          -- SHA-256 of the cookie value; the cookie value itself is never stored
      username TEXT NOT NULL REFERENCES staff_users(username) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      last_seen_at TEXT NOT NULL
    );
    CREATE INDEX staff_sessions_user ON staff_sessions(username);
  `,
};
