import type { Migration } from '../../migration';

/** PostgreSQL twin of lib/store/migrations/006-booking-viewed.ts: one more processing-log action, names only. */
export const migration: Migration = {
  id: 6,
  name: 'booking-viewed',
  up: `
    ALTER TABLE processing_log DROP CONSTRAINT processing_log_action;
    ALTER TABLE processing_log ADD CONSTRAINT processing_log_action
      CHECK (action IN ('requested','method_chosen','verified','failed','shown','deleted','expired','booking_viewed'));
  `,
};
