import type { Migration } from '../../migration';

/** PostgreSQL twin of lib/store/migrations/003-links-outbox.ts: hashes only; the outbox keeps a mail until it is sent. */
export const migration: Migration = {
  id: 3,
  name: 'links-outbox',
  up: `
CREATE TABLE access_links (
  token_hash     text PRIMARY KEY,
  appointment_id text COLLATE "C" NOT NULL,
  role           text NOT NULL CHECK (role IN ('resident', 'agent')),
  agent_username text,
  valid_from     text COLLATE "C" NOT NULL,
  valid_until    text COLLATE "C" NOT NULL,
  created_at     text NOT NULL,
  CHECK (valid_from < valid_until),
  UNIQUE (appointment_id, role)
);

CREATE TABLE call_sessions (
  id_hash        text PRIMARY KEY,
  appointment_id text COLLATE "C" NOT NULL,
  role           text NOT NULL CHECK (role IN ('resident', 'agent')),
  agent_username text,
  created_at     text NOT NULL,
  expires_at     text COLLATE "C" NOT NULL
);
CREATE INDEX call_sessions_appointment ON call_sessions (appointment_id);
CREATE INDEX call_sessions_expires ON call_sessions (expires_at);

CREATE TABLE mail_outbox (
  id              text COLLATE "C" PRIMARY KEY,
  kind            text NOT NULL,
  appointment_id  text COLLATE "C",
  message_id      text NOT NULL UNIQUE,
  from_name       text,
  from_address    text NOT NULL,
  to_address      text NOT NULL,
  to_name         text,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text,
  ics_method      text CHECK (ics_method IS NULL OR ics_method IN ('REQUEST', 'CANCEL')),
  ics_content     text,
  status          text NOT NULL CHECK (status IN ('pending', 'sending', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL,
  next_attempt_at text COLLATE "C" NOT NULL,
  claim_id        text,
  lease_until     text COLLATE "C",
  last_error      text,
  created_at      text COLLATE "C" NOT NULL,
  updated_at      text COLLATE "C" NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_appointment ON mail_outbox (appointment_id);
`,
};
