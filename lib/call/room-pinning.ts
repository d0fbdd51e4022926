import type { InstanceRef, RoomDirectoryStore } from './room-directory-store';

/** Where an appointment's call is handled: here, or on its owner (forward there). */
export type RoomRoute = { local: true } | { local: false; owner: InstanceRef };

export interface RoomPinningOptions {
  directory: RoomDirectoryStore;
  me: InstanceRef;
  /** How long a room's ownership outlives its owner's last heartbeat; heartbeats run every third of it. */
  leaseMs: number;
  /** Appointments with a room or a signaling connection on this instance right now. */
  active(): readonly string[];
  draining(): boolean;
  /**
   * Called once an instance is taken to be gone (its address refused a connection, or its heartbeat lapsed by more
   * than a lease): ends the leases that instance held on jobs (hand-offs, mails, SMS) so a live instance does them
   * now instead of after their own, much longer leases. Must be idempotent (several survivors may call it). The
   * instance is forgotten only after it resolved; a rejection is retried at the next heartbeat.
   */
  onInstanceGone?(instanceId: string): Promise<void>;
  log: { warn(m: string): void };
}

const LOCAL: RoomRoute = { local: true };

/**
 * Media rooms pinned to one instance (issue 12 part B). The first participant's signaling connection decides: the
 * instance it reaches claims the appointment's room in the store's directory, unless another live instance holds it
 * already; then the connection is forwarded there, so resident and agent always meet on one router. The owner renews
 * its rooms with a heartbeat; a room whose owner stopped renewing (or whose address refuses connections: the process
 * died) is claimed by the next instance a participant reaches, and the clients' reconnect lands them in a new room
 * there. A draining instance (SIGTERM) claims no new room: a new call goes to a live instance that is not draining.
 */
export class RoomPinning {
  private readonly timer: NodeJS.Timeout;
  /** Rooms claimed here in the last lease whose first connection may not be up yet: kept by the heartbeat. */
  private readonly claimed = new Map<string, number>();
  private beating: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: RoomPinningOptions) {
    this.timer = setInterval(() => void this.beat(), Math.max(500, Math.floor(o.leaseMs / 3)));
    this.timer.unref();
    void this.beat();
  }

  get me(): InstanceRef {
    return this.o.me;
  }

  /** One heartbeat now (also at start, so the others see this instance at once). Never rejects. */
  beat(): Promise<void> {
    this.beating = this.beating.then(async () => {
      if (this.closed) return;
      const now = Date.now();
      for (const [id, at] of this.claimed) if (now - at > this.o.leaseMs) this.claimed.delete(id);
      const ids = new Set([...this.o.active(), ...this.claimed.keys()]);
      try {
        await this.o.directory.heartbeat(this.o.me, [...ids], this.o.leaseMs, this.o.draining());
        // A lapse of one more lease: a heartbeat delayed by a busy event loop is not taken for a dead process.
        for (const dead of await this.o.directory.lapsedInstances(this.o.me.instanceId, this.o.leaseMs)) await this.gone(dead);
      } catch (e) {
        this.o.log.warn(`room directory heartbeat failed: ${(e as Error).message}`);
      }
    });
    return this.beating;
  }

  /** An instance is gone: its job leases end (onInstanceGone), then the directory forgets it and its rooms. */
  private async gone(instanceId: string): Promise<void> {
    await this.o.onInstanceGone?.(instanceId);
    await this.o.directory.forget(instanceId);
  }

  /**
   * Where a participant's signaling connection for the appointment goes. Claims the room here when nobody live holds
   * it (not while draining: then a live instance that is not draining gets it, or this one when there is none).
   */
  async routeConnection(appointmentId: string): Promise<RoomRoute> {
    const { directory, me, leaseMs } = this.o;
    if (this.o.draining()) {
      const owner = await directory.owner(appointmentId);
      if (owner) return owner.instanceId === me.instanceId ? LOCAL : { local: false, owner };
      const other = (await directory.liveInstances()).find((i) => i.instanceId !== me.instanceId && !i.draining);
      return other ? { local: false, owner: other } : LOCAL;
    }
    const owner = await directory.claim(appointmentId, me, leaseMs);
    if (owner.instanceId !== me.instanceId) return { local: false, owner };
    this.claimed.set(appointmentId, Date.now());
    return LOCAL;
  }

  /**
   * Call memory for the appointment was just stored here, possibly before anyone connected (lib/call/room-holds.ts):
   * claims its room here when nobody live holds it, so every participant is sent to that memory. The caller keeps the
   * id in `active()` while the memory lives. A draining instance claims nothing (answers where the room is, if anywhere).
   */
  async hold(appointmentId: string): Promise<RoomRoute> {
    return this.o.draining() ? this.routeRequest(appointmentId) : this.routeConnection(appointmentId);
  }

  /** Where a request about the appointment's call (chat, identification, documents) goes: its room's owner, or here. */
  async routeRequest(appointmentId: string): Promise<RoomRoute> {
    const owner = await this.o.directory.owner(appointmentId);
    return !owner || owner.instanceId === this.o.me.instanceId ? LOCAL : { local: false, owner };
  }

  /**
   * The owner's address refused the connection: its process is gone. Takes its room over (only if it still holds
   * it) and forgets that instance; the caller then handles the participant here.
   */
  async ownerGone(appointmentId: string, dead: InstanceRef): Promise<RoomRoute> {
    const { directory, me, leaseMs } = this.o;
    const owner = await directory.takeOver(appointmentId, dead.instanceId, me, leaseMs);
    await this.gone(dead.instanceId).catch((e: unknown) => this.o.log.warn(`taking over from a stopped instance: ${(e as Error).message}`));
    if (owner.instanceId !== me.instanceId) return { local: false, owner };
    this.claimed.set(appointmentId, Date.now());
    return LOCAL;
  }

  /** Stops the heartbeat and gives up this instance's rooms (a clean stop: the others need not wait for the lease). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.beating;
    await this.o.directory.forget(this.o.me.instanceId).catch(() => undefined);
  }
}
