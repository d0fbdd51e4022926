import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/009-call-extras.ts (issue 13): the processing-log actions of chat, documents,
 * screen and a third participant (names only, never what was said or shown), the link and call-session role 'guest',
 * and call_guests (who was invited as a kind, never a name or an address). PostgreSQL widens the CHECKs in place
 * where SQLite rebuilds the tables.
 */
export const migration: Migration = {
  id: 9,
  name: 'call-extras',
  up: `
    ALTER TABLE processing_log DROP CONSTRAINT processing_log_action;
    ALTER TABLE processing_log ADD CONSTRAINT processing_log_action
      CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left'));

    ALTER TABLE access_links DROP CONSTRAINT access_links_role_check;
    ALTER TABLE access_links ADD CONSTRAINT access_links_role_check CHECK (role IN ('resident', 'agent', 'guest'));
    ALTER TABLE call_sessions DROP CONSTRAINT call_sessions_role_check;
    ALTER TABLE call_sessions ADD CONSTRAINT call_sessions_role_check CHECK (role IN ('resident', 'agent', 'guest'));

    CREATE TABLE call_guests (
      appointment_id text COLLATE "C" PRIMARY KEY,
      kind           text NOT NULL CHECK (kind IN ('interpreter', 'sign_language_interpreter', 'family_member', 'other')),
      invited_by     text NOT NULL CHECK (length(invited_by) BETWEEN 1 AND 64),
      invited_at     text NOT NULL,
      removed_at     text
    );
  `,
};
