import type { InstanceRef, RoomDirectoryStore, RoomPresence } from '../../call/room-directory-store';

/**
 * The room directory of one process (SQLite is one instance's store): every room is this instance's, so a claim
 * always answers `me`. Kept in memory with the same lease rules, so the code above it runs unchanged.
 */
export function createLocalRoomDirectory(now: () => number = Date.now): RoomDirectoryStore {
  const rooms = new Map<string, InstanceRef & { until: number; presence?: RoomPresence }>();
  const instances = new Map<string, InstanceRef & { until: number; draining: boolean }>();
  const live = (appointmentId: string) => {
    const r = rooms.get(appointmentId);
    return r && r.until > now() ? r : undefined;
  };
  return {
    async claim(appointmentId, me, leaseMs) {
      const r = live(appointmentId);
      if (r && r.instanceId !== me.instanceId) return { instanceId: r.instanceId, url: r.url };
      rooms.set(appointmentId, { ...me, until: now() + leaseMs, ...(r?.presence ? { presence: r.presence } : {}) });
      return { ...me };
    },
    async takeOver(appointmentId, dead, me, leaseMs) {
      if (rooms.get(appointmentId)?.instanceId === dead) rooms.delete(appointmentId);
      return this.claim(appointmentId, me, leaseMs);
    },
    async owner(appointmentId) {
      const r = live(appointmentId);
      return r ? { instanceId: r.instanceId, url: r.url } : undefined;
    },
    async heartbeat(me, appointmentIds, leaseMs, draining) {
      const until = now() + leaseMs;
      instances.set(me.instanceId, { ...me, until, draining });
      const keep = new Set(appointmentIds);
      for (const [id, r] of rooms) {
        if (r.instanceId !== me.instanceId) continue;
        if (keep.has(id)) r.until = until;
        else rooms.delete(id);
      }
    },
    async liveInstances() {
      return [...instances.values()].filter((i) => i.until > now()).map((i) => ({ instanceId: i.instanceId, url: i.url, draining: i.draining }));
    },
    async setPresence(appointmentId, me, presence) {
      const r = rooms.get(appointmentId);
      if (r?.instanceId === me) r.presence = { ...presence };
    },
    async presenceOf(appointmentIds) {
      const out = new Map<string, RoomPresence>();
      for (const id of appointmentIds) {
        const p = live(id)?.presence;
        if (p) out.set(id, { ...p });
      }
      return out;
    },
    async lapsedInstances(me, graceMs) {
      return [...instances.values()].filter((i) => i.instanceId !== me && i.until < now() - graceMs).map((i) => i.instanceId);
    },
    async forget(instanceId) {
      instances.delete(instanceId);
      for (const [id, r] of rooms) if (r.instanceId === instanceId) rooms.delete(id);
    },
  };
}
