import type { Migration } from '../migration';

/**
 * Verwerkingenlogging: who asked for which attribute NAMES for which appointment, and when they were shown, deleted
 * or expired. Values never come here (attribute_keys holds names; the CHECKs refuse anything that looks otherwise).
 * No foreign key to appointments: the log must outlive an appointment that is removed under the retention policy.
 */
export const migration: Migration = {
  id: 4,
  name: 'processing-log',
  up: `
    CREATE TABLE processing_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,                  -- UTC ISO
      appointment_id TEXT NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 64), -- staff username, 'resident' or 'system'
      action TEXT NOT NULL CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired')),
      purpose TEXT CHECK (purpose IS NULL OR length(purpose) <= 200),
      method_id TEXT CHECK (method_id IS NULL OR length(method_id) <= 40),
      attribute_keys TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attribute_keys) AND json_type(attribute_keys) = 'array'),
      detail TEXT CHECK (detail IS NULL OR length(detail) <= 40)  -- a reason code, e.g. 'acr_too_low'
    );
    CREATE INDEX processing_log_appointment ON processing_log(appointment_id, at);
    CREATE INDEX processing_log_at ON processing_log(at);
  `,
};
