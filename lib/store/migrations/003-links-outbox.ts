import type { Migration } from '../migration';

/**
 * Access links, call sessions and the mail outbox. No foreign key to appointments: these tables must work (and be
 * tested) on their own, and a PostgreSQL store may keep appointments elsewhere.
 *
 * Only SHA-256 hashes of link tokens and session ids are stored. The outbox holds personal data (recipient, rendered
 * text) only until the mail is sent (the row is then deleted) or, for failures, until the retention runs out.
 */
export const migration: Migration = {
  id: 3,
  name: 'links-outbox',
  up: `
CREATE TABLE access_links (
  token_hash     TEXT PRIMARY KEY,
  appointment_id TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('resident', 'agent')),
  agent_username TEXT,
  valid_from     TEXT NOT NULL,
  valid_until    TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  CHECK (valid_from < valid_until),
  UNIQUE (appointment_id, role)
);

CREATE TABLE call_sessions (
  id_hash        TEXT PRIMARY KEY,
  appointment_id TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('resident', 'agent')),
  agent_username TEXT,
  created_at     TEXT NOT NULL,
  expires_at     TEXT NOT NULL
);
CREATE INDEX call_sessions_appointment ON call_sessions (appointment_id);
CREATE INDEX call_sessions_expires ON call_sessions (expires_at);

CREATE TABLE mail_outbox (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  appointment_id  TEXT,
  message_id      TEXT NOT NULL UNIQUE,
  from_name       TEXT,
  from_address    TEXT NOT NULL,
  to_address      TEXT NOT NULL,
  to_name         TEXT,
  subject         TEXT NOT NULL,
  text_body       TEXT NOT NULL,
  html_body       TEXT,
  ics_method      TEXT CHECK (ics_method IS NULL OR ics_method IN ('REQUEST', 'CANCEL')),
  ics_content     TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  claim_id        TEXT,
  lease_until     TEXT,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_appointment ON mail_outbox (appointment_id);
`,
};
