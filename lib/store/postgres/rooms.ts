import type { InstanceRef, LiveInstance, RoomDirectoryStore, RoomPresence } from '../../call/room-directory-store';
import type { Pg } from './client';

/**
 * The room directory on PostgreSQL (migration 014: media_instances, media_rooms). A claim is one INSERT … ON CONFLICT
 * whose update only happens while the current lease is over or already ours, so of two instances claiming one
 * appointment at once exactly one wins and both read the same owner back. Times are the database's (now()).
 */
export function createPostgresRoomDirectory(pg: Pg): RoomDirectoryStore {
  const ownerOf = async (appointmentId: string): Promise<InstanceRef | undefined> => {
    const [row] = await pg.query<{ instance_id: string; url: string }>(
      'SELECT instance_id, url FROM media_rooms WHERE appointment_id = $1 AND expires_at > now()',
      [appointmentId],
    );
    return row ? { instanceId: row.instance_id, url: row.url } : undefined;
  };
  return {
    async claim(appointmentId, me, leaseMs) {
      const [row] = await pg.query<{ instance_id: string; url: string }>(
        `INSERT INTO media_rooms AS r (appointment_id, instance_id, url, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000))
         ON CONFLICT (appointment_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, url = EXCLUDED.url, expires_at = EXCLUDED.expires_at,
           -- A new owner starts with an empty room: who was in the old one is not in this one.
           resident = r.resident AND r.instance_id = EXCLUDED.instance_id, agent = r.agent AND r.instance_id = EXCLUDED.instance_id,
           guest = r.guest AND r.instance_id = EXCLUDED.instance_id
           WHERE r.expires_at <= now() OR r.instance_id = EXCLUDED.instance_id
         RETURNING instance_id, url`,
        [appointmentId, me.instanceId, me.url, leaseMs],
      );
      if (row) return { instanceId: row.instance_id, url: row.url };
      // Someone else's live lease; read it (it can have ended in between: claim again once).
      return (await ownerOf(appointmentId)) ?? this.claim(appointmentId, me, leaseMs);
    },
    async takeOver(appointmentId, deadInstanceId, me, leaseMs) {
      await pg.run(
        `UPDATE media_rooms SET instance_id = $3, url = $4, expires_at = now() + make_interval(secs => $5::float8 / 1000),
           resident = false, agent = false, guest = false
         WHERE appointment_id = $1 AND instance_id = $2`,
        [appointmentId, deadInstanceId, me.instanceId, me.url, leaseMs],
      );
      return this.claim(appointmentId, me, leaseMs);
    },
    owner: ownerOf,
    async heartbeat(me, appointmentIds, leaseMs, draining) {
      await pg.run(
        `WITH inst AS (
           INSERT INTO media_instances (instance_id, url, draining, expires_at)
           VALUES ($1, $2, $4, now() + make_interval(secs => $5::float8 / 1000))
           ON CONFLICT (instance_id) DO UPDATE SET url = EXCLUDED.url, draining = EXCLUDED.draining, expires_at = EXCLUDED.expires_at
         ), renewed AS (
           UPDATE media_rooms SET expires_at = now() + make_interval(secs => $5::float8 / 1000)
           WHERE instance_id = $1 AND appointment_id = ANY($3::text[])
         )
         DELETE FROM media_rooms WHERE instance_id = $1 AND NOT (appointment_id = ANY($3::text[]))`,
        [me.instanceId, me.url, [...appointmentIds], draining, leaseMs],
      );
    },
    async liveInstances(): Promise<LiveInstance[]> {
      const rows = await pg.query<{ instance_id: string; url: string; draining: boolean }>(
        'SELECT instance_id, url, draining FROM media_instances WHERE expires_at > now() ORDER BY instance_id',
      );
      return rows.map((r) => ({ instanceId: r.instance_id, url: r.url, draining: r.draining }));
    },
    async setPresence(appointmentId, me, p) {
      await pg.run('UPDATE media_rooms SET resident = $3, agent = $4, guest = $5 WHERE appointment_id = $1 AND instance_id = $2', [appointmentId, me, p.resident, p.agent, p.guest]);
    },
    async presenceOf(appointmentIds) {
      const out = new Map<string, RoomPresence>();
      if (appointmentIds.length === 0) return out;
      const rows = await pg.query<{ appointment_id: string; resident: boolean; agent: boolean; guest: boolean }>(
        'SELECT appointment_id, resident, agent, guest FROM media_rooms WHERE appointment_id = ANY($1::text[]) AND expires_at > now()',
        [[...appointmentIds]],
      );
      for (const r of rows) out.set(r.appointment_id, { resident: r.resident, agent: r.agent, guest: r.guest });
      return out;
    },
    async lapsedInstances(me, graceMs) {
      const rows = await pg.query<{ instance_id: string }>(
        `SELECT instance_id FROM media_instances WHERE instance_id <> $1 AND expires_at < now() - make_interval(secs => $2::float8 / 1000)
         ORDER BY instance_id`,
        [me, graceMs],
      );
      return rows.map((r) => r.instance_id);
    },
    async forget(instanceId) {
      await pg.run('WITH rooms AS (DELETE FROM media_rooms WHERE instance_id = $1) DELETE FROM media_instances WHERE instance_id = $1', [instanceId]);
    },
  };
}
