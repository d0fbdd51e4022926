import type { Migration } from '../migration';

/**
 * Twin of lib/store/postgres/migrations/019-booking-speed.ts (finer agent locks in `idv_book`, unlogged rate-limit
 * counters). SQLite has one writer at a time and keeps its rate limits in the process's memory, so nothing changes
 * here; the migration keeps the numbers of both engines in step.
 */
export const migration: Migration = {
  id: 19,
  name: 'booking-speed',
  up: `SELECT 1;`,
};
