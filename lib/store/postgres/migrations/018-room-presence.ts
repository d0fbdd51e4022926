import type { Migration } from '../../migration';

/**
 * Who is in each room, beside its owner (issue 12; lib/call/room-directory-store.ts `setPresence`): the owner writes
 * it on each join and leave, so an agent's dashboard served by another instance shows a waiting resident too.
 * Three flags, nothing about the people. The SQLite twin creates nothing (one process: the tracker in memory).
 */
export const migration: Migration = {
  id: 18,
  name: 'room-presence',
  up: `
ALTER TABLE media_rooms ADD COLUMN resident boolean NOT NULL DEFAULT false;
ALTER TABLE media_rooms ADD COLUMN agent boolean NOT NULL DEFAULT false;
ALTER TABLE media_rooms ADD COLUMN guest boolean NOT NULL DEFAULT false;
`,
};
