import type { Migration } from '../migration';

/**
 * More than a face on a screen (issue 13): chat, a document from the resident, the agent's screen and a third
 * participant. Their contents never come here (memory only); what the database learns:
 *
 * - processing_log: new actions naming what happened, never what was said or shown — chat_message, document_shared,
 *   document_viewed, document_fetched, document_deleted, screen_shared, chat_deleted, guest_invited, guest_admitted, guest_removed,
 *   participant_joined, participant_left.
 * - access_links / call_sessions: the role 'guest' (interpreter, sign-language interpreter, family member), one per
 *   appointment like the other roles (UNIQUE (appointment_id, role)).
 * - call_guests: who was invited to which appointment, as a kind (never a name or address: the invitation's address
 *   lives in the mail outbox only until the mail is sent).
 *
 * SQLite cannot change a CHECK in place, so the three tables are rebuilt with the same columns, rows and indexes.
 * PostgreSQL equivalent (h-pg): for each of the three CHECKs
 *   ALTER TABLE processing_log DROP CONSTRAINT processing_log_action_check,
 *     ADD CONSTRAINT processing_log_action_check CHECK (action IN (… the list below …));
 *   ALTER TABLE access_links DROP CONSTRAINT access_links_role_check,
 *     ADD CONSTRAINT access_links_role_check CHECK (role IN ('resident', 'agent', 'guest'));
 *   (the same for call_sessions), and CREATE TABLE call_guests as below (TEXT columns as here).
 */
export const migration: Migration = {
  id: 9,
  name: 'call-extras',
  up: `
    CREATE TABLE processing_log_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      appointment_id TEXT NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
      action TEXT NOT NULL CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left')),
      purpose TEXT CHECK (purpose IS NULL OR length(purpose) <= 200),
      method_id TEXT CHECK (method_id IS NULL OR length(method_id) <= 40),
      attribute_keys TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attribute_keys) AND json_type(attribute_keys) = 'array'),
      detail TEXT CHECK (detail IS NULL OR length(detail) <= 40)
    );
    INSERT INTO processing_log_new (id, at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail)
      SELECT id, at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail FROM processing_log;
    DROP TABLE processing_log;
    ALTER TABLE processing_log_new RENAME TO processing_log;
    CREATE INDEX processing_log_appointment ON processing_log(appointment_id, at);
    CREATE INDEX processing_log_at ON processing_log(at);

    CREATE TABLE access_links_new (
      token_hash     TEXT PRIMARY KEY,
      appointment_id TEXT NOT NULL,
      role           TEXT NOT NULL CHECK (role IN ('resident', 'agent', 'guest')),
      agent_username TEXT,
      valid_from     TEXT NOT NULL,
      valid_until    TEXT NOT NULL,
      created_at     TEXT NOT NULL,
      CHECK (valid_from < valid_until),
      UNIQUE (appointment_id, role)
    );
    INSERT INTO access_links_new SELECT token_hash, appointment_id, role, agent_username, valid_from, valid_until, created_at FROM access_links;
    DROP TABLE access_links;
    ALTER TABLE access_links_new RENAME TO access_links;

    CREATE TABLE call_sessions_new (
      id_hash        TEXT PRIMARY KEY,
      appointment_id TEXT NOT NULL,
      role           TEXT NOT NULL CHECK (role IN ('resident', 'agent', 'guest')),
      agent_username TEXT,
      created_at     TEXT NOT NULL,
      expires_at     TEXT NOT NULL
    );
    INSERT INTO call_sessions_new SELECT id_hash, appointment_id, role, agent_username, created_at, expires_at FROM call_sessions;
    DROP TABLE call_sessions;
    ALTER TABLE call_sessions_new RENAME TO call_sessions;
    CREATE INDEX call_sessions_appointment ON call_sessions (appointment_id);
    CREATE INDEX call_sessions_expires ON call_sessions (expires_at);

    CREATE TABLE call_guests (
      appointment_id TEXT PRIMARY KEY,
      kind           TEXT NOT NULL CHECK (kind IN ('interpreter', 'sign_language_interpreter', 'family_member', 'other')),
      invited_by     TEXT NOT NULL CHECK (length(invited_by) BETWEEN 1 AND 64),
      invited_at     TEXT NOT NULL,
      removed_at     TEXT
    );
  `,
};
