import type { Migration } from '../migration';

/**
 * Issue 15: every video contact registered in Open Klant, and the processing log mapped to the Logboek
 * Dataverwerkingen standard (Logius).
 *
 * - contact_registrations: one row per appointment whose contact is to be registered in Open Klant (after the call or
 *   for a no-show), retried durably like the mail outbox (lease per claim marked with the instance id, back-off, a
 *   final 'failed'). It holds ids only: the partij uuid found by BSN (never the BSN: that lives in the attribute cache,
 *   in memory, for minutes), the klantcontact uuid once registered (so a retry never registers twice), the trace and
 *   span id of the registration (W3C Trace Context) and result codes. The contact details come from the appointment
 *   row when the registration runs (ON DELETE CASCADE: a removed appointment takes its pending registration along).
 * - processing_log: the fields of the Logboek standard per record — trace_id (16 bytes hex), span_id (8 bytes hex),
 *   parent_span_id, status_code (0 unset, 1 ok, 2 error), ended_at (start is `at`) and the processing activity id
 *   (a URI in the gemeente's register of processing activities) — and the actions 'contact_registered' and
 *   'partij_looked_up' (the verified BSN was sent to Open Klant's partij search; the record holds the outcome code). Rows written
 *   before get a trace and span of their own (each was one processing, linked to nothing), their status from the
 *   action and end = start; their processing activity stays NULL (it was not configured then).
 *
 * SQLite cannot change a CHECK in place, so processing_log is rebuilt with the same rows and indexes.
 * PostgreSQL equivalent (h-pg): ALTER TABLE processing_log ADD COLUMN trace_id TEXT, … (as below), filled for old
 * rows with encode(gen_random_bytes(16), 'hex') / (8) (pgcrypto), and the action CHECK replaced with the list below; CREATE TABLE contact_registrations as below (TEXT/INTEGER columns as here).
 */
export const migration: Migration = {
  id: 11,
  name: 'openklant-logboek',
  up: `
    CREATE TABLE processing_log_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      appointment_id TEXT NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
      action TEXT NOT NULL CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed',
        'chat_message','document_shared','document_viewed','document_fetched','document_deleted','screen_shared',
        'chat_deleted','guest_invited','guest_admitted','guest_removed','participant_joined','participant_left','contact_registered','partij_looked_up')),
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
    INSERT INTO processing_log_new (id, at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail,
        trace_id, span_id, status_code, ended_at)
      SELECT id, at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail,
        lower(hex(randomblob(16))), lower(hex(randomblob(8))), CASE action WHEN 'failed' THEN 2 ELSE 1 END, at
      FROM processing_log;
    DROP TABLE processing_log;
    ALTER TABLE processing_log_new RENAME TO processing_log;
    CREATE INDEX processing_log_appointment ON processing_log(appointment_id, at);
    CREATE INDEX processing_log_at ON processing_log(at);
    CREATE INDEX processing_log_trace ON processing_log(trace_id);

    CREATE TABLE contact_registrations (
      id                TEXT PRIMARY KEY,
      appointment_id    TEXT NOT NULL UNIQUE REFERENCES appointments (id) ON DELETE CASCADE,
      source            TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
      contact_made      INTEGER NOT NULL CHECK (contact_made IN (0, 1)),
      identified        INTEGER NOT NULL DEFAULT 0 CHECK (identified IN (0, 1)),
      partij_uuid       TEXT CHECK (partij_uuid IS NULL OR length(partij_uuid) = 36),
      klantcontact_uuid TEXT CHECK (klantcontact_uuid IS NULL OR length(klantcontact_uuid) = 36),
      actor_linked      INTEGER NOT NULL DEFAULT 0 CHECK (actor_linked IN (0, 1)),
      codes             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(codes) AND json_type(codes) = 'array'),
      state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
      attempts          INTEGER NOT NULL DEFAULT 0,
      max_attempts      INTEGER NOT NULL,
      next_attempt_at   TEXT NOT NULL,
      lease_token       TEXT,
      lease_instance    TEXT,
      lease_until       TEXT,
      last_error        TEXT CHECK (last_error IS NULL OR length(last_error) <= 60),
      trace_id          TEXT NOT NULL CHECK (length(trace_id) = 32),
      span_id           TEXT NOT NULL CHECK (length(span_id) = 16),
      created_at        TEXT NOT NULL,
      done_at           TEXT,
      CHECK ((lease_token IS NULL) = (lease_until IS NULL))
    );
    CREATE INDEX contact_registrations_due ON contact_registrations (state, next_attempt_at);
  `,
};
