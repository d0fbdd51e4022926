import type { Services } from '../services';

/**
 * Call memory that lives on this instance outside a media room: today the verified attribute sets (issue 12: "attribute
 * values never leave the RAM of the room's owner instance"). A set can be stored before anyone has joined the call —
 * an ID Contact core that starts a session with its result (`start_communication` with `auth_result`), or an attr_url
 * answered before the resident's first connection. Without a hold the first signaling connection could claim the room
 * on another instance, the agent's panel (forwarded to that owner) would not find the set. So an instance that stores
 * such memory pins the appointment's room to itself at once and keeps it while the memory lives.
 *
 * One per Services (lib/services memo). Sources report appointment ids (never values); with one instance nothing
 * listens and `placed` costs nothing.
 */
export class RoomHolds {
  private readonly sources = new Set<() => readonly string[]>();
  private listener: ((appointmentId: string) => Promise<void>) | undefined;

  /** Adds a source of appointment ids whose memory lives here; returns its removal. */
  addSource(fn: () => readonly string[]): () => void {
    this.sources.add(fn);
    return () => void this.sources.delete(fn);
  }

  /** Appointment ids held by any source now (deduplicated). */
  held(): string[] {
    const ids = new Set<string>();
    for (const fn of this.sources) for (const id of fn()) ids.add(id);
    return [...ids];
  }

  /**
   * Memory for the appointment was just stored here: pins its room to this instance now when room pinning runs (one
   * directory claim). Never rejects: a failure is the listener's to log; the heartbeat tries again.
   */
  async placed(appointmentId: string): Promise<void> {
    await this.listener?.(appointmentId).catch(() => undefined);
  }

  /** Set by the room pinning (lib/call/service.ts) when several instances share the store; one listener. */
  onPlaced(fn: ((appointmentId: string) => Promise<void>) | undefined): void {
    this.listener = fn;
  }
}

/** The one RoomHolds of these services. */
export function roomHoldsOf(services: Services): RoomHolds {
  return services.memo('call.room-holds', () => new RoomHolds());
}
