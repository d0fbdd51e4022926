import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/011-openklant-logboek.ts (issue 15): the Logboek Dataverwerkingen fields of
 * the processing log (old rows get a random trace and span of their own, status from the action, end = start) and the
 * actions 'contact_registered', 'partij_looked_up'; the contact_registrations table (ids and codes only, never a BSN).
 */
export const migration: Migration = {
  id: 11,
  name: 'openklant-logboek',
  up: `
    ALTER TABLE processing_log DROP CONSTRAINT processing_log_action;
    ALTER TABLE processing_log ADD CONSTRAINT processing_log_action
      CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left',
        'contact_registered','partij_looked_up'));
    ALTER TABLE processing_log
      ADD COLUMN trace_id text CHECK (trace_id IS NULL OR trace_id ~ '^[0-9a-f]{32}$'),
      ADD COLUMN span_id text CHECK (span_id IS NULL OR span_id ~ '^[0-9a-f]{16}$'),
      ADD COLUMN parent_span_id text CHECK (parent_span_id IS NULL OR parent_span_id ~ '^[0-9a-f]{16}$'),
      ADD COLUMN status_code smallint CHECK (status_code IS NULL OR status_code IN (0, 1, 2)),
      ADD COLUMN ended_at text,
      ADD COLUMN processing_activity_id text CHECK (processing_activity_id IS NULL OR length(processing_activity_id) <= 500);
    UPDATE processing_log SET
      trace_id = md5(random()::text || id::text || clock_timestamp()::text),
      span_id = substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 16),
      status_code = CASE action WHEN 'failed' THEN 2 ELSE 1 END,
      ended_at = at;
    CREATE INDEX processing_log_trace ON processing_log(trace_id);

    CREATE TABLE contact_registrations (
      id                text COLLATE "C" PRIMARY KEY,
      appointment_id    text COLLATE "C" NOT NULL UNIQUE REFERENCES appointments (id) ON DELETE CASCADE,
      source            text NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
      contact_made      smallint NOT NULL CHECK (contact_made IN (0, 1)),
      identified        smallint NOT NULL DEFAULT 0 CHECK (identified IN (0, 1)),
      partij_uuid       text CHECK (partij_uuid IS NULL OR length(partij_uuid) = 36),
      klantcontact_uuid text CHECK (klantcontact_uuid IS NULL OR length(klantcontact_uuid) = 36),
      actor_linked      smallint NOT NULL DEFAULT 0 CHECK (actor_linked IN (0, 1)),
      codes             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(codes) = 'array'),
      state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
      attempts          integer NOT NULL DEFAULT 0,
      max_attempts      integer NOT NULL,
      next_attempt_at   text COLLATE "C" NOT NULL,
      lease_token       text,
      lease_instance    text,
      lease_until       text COLLATE "C",
      last_error        text CHECK (last_error IS NULL OR length(last_error) <= 60),
      trace_id          text NOT NULL CHECK (length(trace_id) = 32),
      span_id           text NOT NULL CHECK (length(span_id) = 16),
      created_at        text NOT NULL,
      done_at           text,
      CHECK ((lease_token IS NULL) = (lease_until IS NULL))
    );
    CREATE INDEX contact_registrations_due ON contact_registrations (state, next_attempt_at);
  `,
};
