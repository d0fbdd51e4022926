import type { Migration } from '../migration';

/**
 * Twin of lib/store/postgres/migrations/014-room-directory.ts. On SQLite one process holds every media room, so the
 * directory lives in memory (lib/store/sqlite/rooms.ts) and this migration creates nothing; it keeps the numbers of
 * both engines in step.
 */
export const migration: Migration = {
  id: 14,
  name: 'room-directory',
  up: `SELECT 1;`,
};
