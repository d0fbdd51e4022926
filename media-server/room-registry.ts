import { EventEmitter } from 'node:events';
import { MEDIA_CODECS, Room, type RoomCloseReason, type RoomSettings } from './room';
import { SignalError } from './errors';
import type { WorkerPool } from './worker-pool';

/**
 * The live rooms by appointment id. Creating a room is async (a router on a worker), so concurrent first requests
 * for one appointment share one creation instead of racing to two routers. Re-emits every room's events:
 * 'peerJoined', 'peerLeft', 'callStarted', 'callEnded' and 'roomClosed' ({appointmentId, reason}).
 */
export class RoomRegistry extends EventEmitter {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private closed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly settings: RoomSettings,
  ) {
    super();
  }

  find(appointmentId: string): Room | undefined {
    return this.rooms.get(appointmentId);
  }

  /** Appointment ids with a live room here. */
  appointments(): string[] {
    return [...this.rooms.keys()];
  }

  get size(): number {
    return this.rooms.size;
  }

  async get(appointmentId: string): Promise<Room> {
    if (this.closed) throw new SignalError('unavailable', 'the media server is shutting down');
    const existing = this.rooms.get(appointmentId);
    if (existing && !existing.closed) return existing;
    const pending = this.creating.get(appointmentId);
    if (pending) return pending;
    const creation = this.create(appointmentId).finally(() => this.creating.delete(appointmentId));
    this.creating.set(appointmentId, creation);
    return creation;
  }

  private async create(appointmentId: string): Promise<Room> {
    let router;
    try {
      router = await this.pool.createRouter(appointmentId, MEDIA_CODECS);
    } catch {
      throw new SignalError('unavailable', 'media is temporarily unavailable, try again shortly');
    }
    if (this.closed) {
      router.close();
      throw new SignalError('unavailable', 'the media server is shutting down');
    }
    const room = new Room(appointmentId, router, this.settings);
    this.rooms.set(appointmentId, room);
    for (const name of ['peerJoined', 'peerLeft', 'callStarted', 'callEnded', 'sourceStarted']) {
      room.on(name, (event: unknown) => this.emit(name, event));
    }
    room.on('closed', (event: { appointmentId: string; reason: RoomCloseReason }) => {
      if (this.rooms.get(appointmentId) === room) this.rooms.delete(appointmentId);
      this.emit('roomClosed', event);
    });
    return room;
  }

  /** Ends a call from the application side (appointment cancelled, agent ended the call). */
  closeRoom(appointmentId: string): boolean {
    const room = this.rooms.get(appointmentId);
    if (!room) return false;
    room.close('closed');
    return true;
  }

  close(): void {
    this.closed = true;
    for (const room of [...this.rooms.values()]) room.close('closed');
    this.rooms.clear();
  }
}
