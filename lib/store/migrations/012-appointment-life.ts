import type { Migration } from '../migration';

/**
 * The life of an appointment after its booking (issue 14):
 *
 * - mail_outbox.not_after: a scheduled message (a reminder) that has no use after this instant (the appointment's
 *   start). The outbox deletes it unsent once the instant has passed (a runtime that was down, a clock jump), and a
 *   cancellation or a move deletes the appointment's scheduled messages in its own transaction.
 * - appointments.sequence: the revision of the appointment's invite (iCalendar SEQUENCE, RFC 5545 3.8.7.4); each
 *   move raises it, so calendars replace the event of the same UID.
 * - appointments.erased_at: when retention erased the resident's name, e-mail, phone and remarks.
 * - appointment_outcomes: how each appointment ended (completed with duration, a no-show of either side, cancelled by
 *   whom), one row per appointment, written once; ids and codes only.
 * - agent_feeds: the hash of each agent's secret calendar feed token (one live feed per agent; revoking deletes it).
 * - processing_log: the action 'resident_data_erased' (SQLite cannot change a CHECK in place: rebuilt like 011, with
 *   every column of 011).
 *
 * PostgreSQL twin: the same columns and tables; processing_log_action_check dropped and re-added with the new action.
 */
export const migration: Migration = {
  id: 12,
  name: 'appointment-life',
  up: `
    ALTER TABLE mail_outbox ADD COLUMN not_after TEXT;
    CREATE INDEX mail_outbox_not_after ON mail_outbox (not_after) WHERE not_after IS NOT NULL;

    ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE appointments ADD COLUMN erased_at TEXT;
    CREATE INDEX appointments_retention ON appointments (end_utc) WHERE erased_at IS NULL;

    CREATE TABLE appointment_outcomes (
      appointment_id   TEXT PRIMARY KEY,
      outcome          TEXT NOT NULL CHECK (outcome IN ('completed', 'resident_no_show', 'agent_no_show', 'cancelled')),
      duration_seconds INTEGER CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
      cancelled_by     TEXT CHECK (cancelled_by IS NULL OR cancelled_by IN ('resident', 'staff')),
      decided_at       TEXT NOT NULL
    );

    CREATE TABLE agent_feeds (
      username   TEXT PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 64),
      token_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL
    );

    CREATE TABLE processing_log_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      appointment_id TEXT NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
      action TEXT NOT NULL CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left','contact_registered','partij_looked_up',
        'resident_data_erased')),
      purpose TEXT CHECK (purpose IS NULL OR length(purpose) <= 200),
      method_id TEXT CHECK (method_id IS NULL OR length(method_id) <= 40),
      attribute_keys TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attribute_keys) AND json_type(attribute_keys) = 'array'),
      detail TEXT CHECK (detail IS NULL OR length(detail) <= 40),
      trace_id TEXT CHECK (trace_id IS NULL OR (length(trace_id) = 32 AND trace_id NOT GLOB '*[^0-9a-f]*')),
      span_id TEXT CHECK (span_id IS NULL OR (length(span_id) = 16 AND span_id NOT GLOB '*[^0-9a-f]*')),
      parent_span_id TEXT CHECK (parent_span_id IS NULL OR (length(parent_span_id) = 16 AND parent_span_id NOT GLOB '*[^0-9a-f]*')),
      status_code INTEGER CHECK (status_code IS NULL OR status_code IN (0, 1, 2)),
      ended_at TEXT,
      processing_activity_id TEXT CHECK (processing_activity_id IS NULL OR length(processing_activity_id) <= 500)
    );
    INSERT INTO processing_log_new SELECT id, at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail,
      trace_id, span_id, parent_span_id, status_code, ended_at, processing_activity_id FROM processing_log;
    DROP TABLE processing_log;
    ALTER TABLE processing_log_new RENAME TO processing_log;
    CREATE INDEX processing_log_appointment ON processing_log(appointment_id, at);
    CREATE INDEX processing_log_at ON processing_log(at);
    CREATE INDEX processing_log_trace ON processing_log(trace_id);
  `,
};
