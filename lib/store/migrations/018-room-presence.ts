import type { Migration } from '../migration';

/**
 * Twin of lib/store/postgres/migrations/018-room-presence.ts. On SQLite one process holds every room and its presence
 * (in memory), so this migration creates nothing; it keeps the numbers of both engines in step.
 */
export const migration: Migration = {
  id: 18,
  name: 'room-presence',
  up: `SELECT 1;`,
};
