/** An instance as the others reach it: its id (lib/runtime/instance.ts) and internal base URL. */
export interface InstanceRef {
  instanceId: string;
  url: string;
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
  /** Forgets an instance and its rooms (a clean stop, or one found dead). */
  forget(instanceId: string): Promise<void>;
}
