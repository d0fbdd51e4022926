import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/012-appointment-life.ts (issue 14): scheduled mails (`not_after`), the
 * invite's sequence and the retention mark on appointments, outcomes, the agents' calendar feed hashes, and the
 * processing-log action 'resident_data_erased' (the CHECK widened in place where SQLite rebuilds the table).
 */
export const migration: Migration = {
  id: 12,
  name: 'appointment-life',
  up: `
    ALTER TABLE mail_outbox ADD COLUMN not_after text COLLATE "C";
    CREATE INDEX mail_outbox_not_after ON mail_outbox (not_after) WHERE not_after IS NOT NULL;

    ALTER TABLE appointments ADD COLUMN sequence integer NOT NULL DEFAULT 0;
    ALTER TABLE appointments ADD COLUMN erased_at text COLLATE "C";
    CREATE INDEX appointments_retention ON appointments (end_utc) WHERE erased_at IS NULL;

    CREATE TABLE appointment_outcomes (
      appointment_id   text COLLATE "C" PRIMARY KEY,
      outcome          text NOT NULL CHECK (outcome IN ('completed', 'resident_no_show', 'agent_no_show', 'cancelled')),
      duration_seconds integer CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
      cancelled_by     text CHECK (cancelled_by IS NULL OR cancelled_by IN ('resident', 'staff')),
      decided_at       text COLLATE "C" NOT NULL
    );

    CREATE TABLE agent_feeds (
      username   text COLLATE "C" PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 64),
      token_hash text COLLATE "C" NOT NULL UNIQUE,
      created_at text COLLATE "C" NOT NULL
    );

    ALTER TABLE processing_log DROP CONSTRAINT processing_log_action;
    ALTER TABLE processing_log ADD CONSTRAINT processing_log_action
      CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left',
        'contact_registered','partij_looked_up','resident_data_erased'));
  `,
};
