import type { Migration } from '../migration';

/**
 * The processing log gets one more action: 'booking_viewed' — the assigned agent opened the contact details the
 * resident typed at booking (name, e-mail, phone, remarks). Like every line, it holds the field NAMES, never values.
 * SQLite cannot change a CHECK in place, so the table is rebuilt with the same columns, rows, ids and indexes.
 */
export const migration: Migration = {
  id: 6,
  name: 'booking-viewed',
  up: `
    CREATE TABLE processing_log_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      appointment_id TEXT NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
      action TEXT NOT NULL CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed')),
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
  `,
};
