import type { Migration } from '../../migration';

/**
 * The room directory of several instances (issue 12 part B; lib/call/room-directory-store.ts): which instance holds
 * each appointment's media room, and which instances are alive. References only (appointment ids, instance ids,
 * internal addresses); leases on the database's clock. The SQLite twin (lib/store/migrations/014-room-directory.ts)
 * creates nothing: one process holds every room.
 */
export const migration: Migration = {
  id: 14,
  name: 'room-directory',
  up: `
CREATE TABLE media_instances (
  instance_id text PRIMARY KEY CHECK (length(instance_id) <= 64),
  url         text NOT NULL CHECK (length(url) <= 300),
  draining    boolean NOT NULL DEFAULT false,
  expires_at  timestamptz NOT NULL
);

CREATE TABLE media_rooms (
  appointment_id text PRIMARY KEY CHECK (length(appointment_id) <= 200),
  instance_id    text NOT NULL CHECK (length(instance_id) <= 64),
  url            text NOT NULL CHECK (length(url) <= 300),
  expires_at     timestamptz NOT NULL
);
CREATE INDEX media_rooms_instance ON media_rooms (instance_id);
`,
};
