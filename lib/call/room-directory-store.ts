/** An instance as the others reach it: its id (lib/runtime/instance.ts) and internal base URL. */
export interface InstanceRef {
  instanceId: string;
  url: string;
}

/** Who is in a room: the flags the agent's dashboard shows (lib/call/presence.ts `Presence`). */
export interface RoomPresence {
  resident: boolean;
  agent: boolean;
  guest: boolean;
}

/** A live instance of the directory (heartbeat within its lease). */
export interface LiveInstance extends InstanceRef {
  draining: boolean;
}

/**
 * Which instance holds each appointment's media room (issue 12 part B, ../shared/DESIGN.md "Several instances").
 * Leases run on the store's clock (PostgreSQL's now()), so instances with skewed clocks agree on who is alive.
 * References only: appointment ids, instance ids and addresses, never anything about the people in the call.
 *
 * On SQLite (one process) every room is this instance's: lib/store/sqlite keeps the directory in memory.
 */
export interface RoomDirectoryStore {
  /**
   * Claims the appointment's room for `me` unless another owner's lease still runs; renews it when `me` already
   * holds it. Resolves to the owner afterwards (`me` or the live other one). Atomic across instances.
   */
  claim(appointmentId: string, me: InstanceRef, leaseMs: number): Promise<InstanceRef>;
  /**
   * Takes the room from `deadInstanceId` (its address refused the connection: the process is gone) before its lease
   * ends; only when that instance still holds it (someone else may have taken it meanwhile). Resolves to the owner.
   */
  takeOver(appointmentId: string, deadInstanceId: string, me: InstanceRef, leaseMs: number): Promise<InstanceRef>;
  /** The live owner of the appointment's room, if any. */
  owner(appointmentId: string): Promise<InstanceRef | undefined>;
  /**
   * One heartbeat of `me`: renews the instance's own lease (with its draining flag) and those of the rooms in
   * `appointmentIds`; the instance's other room rows go (those calls ended here).
   */
  heartbeat(me: InstanceRef, appointmentIds: readonly string[], leaseMs: number, draining: boolean): Promise<void>;
  /** Instances whose heartbeat is within its lease. */
  liveInstances(): Promise<LiveInstance[]>;
  /**
   * Instances other than `me` whose last heartbeat's lease ended more than `graceMs` ago: their process is taken to
   * be gone (a live instance renews every third of its lease). Ids only.
   */
  lapsedInstances(me: string, graceMs: number): Promise<string[]>;
  /**
   * The owner records who is in its room now (on each join and leave); only while `me` holds the room. Three flags.
   */
  setPresence(appointmentId: string, me: string, presence: RoomPresence): Promise<void>;
  /** Who is in the rooms of these appointments, for rooms with a live owner; others are absent from the map. */
  presenceOf(appointmentIds: readonly string[]): Promise<Map<string, RoomPresence>>;
  /** Forgets an instance and its rooms (a clean stop, or one found dead). */
  forget(instanceId: string): Promise<void>;
}
