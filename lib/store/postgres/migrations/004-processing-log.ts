import type { Migration } from '../../migration';

/**
 * PostgreSQL twin of lib/store/migrations/004-processing-log.ts: attribute NAMES only (a JSON array), never values.
 * The action check is named so migration 006 can widen it.
 */
export const migration: Migration = {
  id: 4,
  name: 'processing-log',
  up: `
    CREATE TABLE processing_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at text COLLATE "C" NOT NULL,
      appointment_id text NOT NULL CHECK (length(appointment_id) BETWEEN 1 AND 100),
      actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
      action text NOT NULL CONSTRAINT processing_log_action
        CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired')),
      purpose text CHECK (purpose IS NULL OR length(purpose) <= 200),
      method_id text CHECK (method_id IS NULL OR length(method_id) <= 40),
      attribute_keys jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attribute_keys) = 'array'),
      detail text CHECK (detail IS NULL OR length(detail) <= 40)
    );
    CREATE INDEX processing_log_appointment ON processing_log(appointment_id, at);
    CREATE INDEX processing_log_at ON processing_log(at);
  `,
};
