import { EventEmitter } from 'node:events';
import type { CallEndedEvent, PeerEvent, Role, RoomClosedEvent } from '../../media-server';

/** Who is in an appointment's call right now (joined the media room). */
export interface Presence {
  resident: boolean;
  agent: boolean;
  /** A third participant (interpreter, family member) is in the call. */
  guest?: boolean;
}

/** What flows get: the appointment id and, at the end, the duration. Nothing personal. */
export type CallEvent =
  | { event: 'residentJoined' | 'agentJoined' | 'guestJoined'; appointmentId: string }
  | { event: 'callEnded'; appointmentId: string; durationSeconds: number };

/** The message a call event becomes in a flow: the appointment id and the duration, nothing about the people. */
export function callEventMessage(e: CallEvent): { topic: string; event: string; appointment: { id: string }; durationSeconds?: number } {
  const msg: { topic: string; event: string; appointment: { id: string }; durationSeconds?: number } = {
    topic: e.event,
    event: e.event,
    appointment: { id: e.appointmentId },
  };
  if (e.event === 'callEnded') msg.durationSeconds = e.durationSeconds;
  return msg;
}

/** How long after a worker crash the clients get to rejoin before the call counts as left. */
const REJOIN_GRACE_MS = 30_000;

/**
 * Turns the media server's low-level room events into the presence the dashboard shows and the call events the
 * dashboard node sends. A worker crash closes the room and its clients rejoin a new one a moment later: that is one
 * call to the people in it, so the crash neither reports a second "joined" nor splits the call's duration in two.
 * Emits 'presence' (appointmentId, Presence) and 'call' (CallEvent).
 */
export class PresenceTracker extends EventEmitter {
  private readonly state = new Map<string, Presence>();
  /** Rooms lost to a worker crash: duration so far and the timer that gives up waiting for a rejoin. */
  private readonly interrupted = new Map<string, { carriedMs: number; timer: NodeJS.Timeout | null }>();
  private readonly pendingEnd = new Map<string, number>();
  private readonly detach: () => void;

  constructor(events: EventEmitter) {
    super();
    const onJoined = (e: PeerEvent) => this.set(e.appointmentId, e.role, true);
    const onLeft = (e: PeerEvent) => this.set(e.appointmentId, e.role, false);
    // callEnded comes right before roomClosed of the same room; only roomClosed says whether a crash caused it.
    const onEnded = (e: CallEndedEvent) => this.pendingEnd.set(e.appointmentId, e.durationMs);
    const onClosed = (e: RoomClosedEvent) => this.roomClosed(e);
    events.on('peerJoined', onJoined);
    events.on('peerLeft', onLeft);
    events.on('callEnded', onEnded);
    events.on('roomClosed', onClosed);
    this.detach = () => {
      events.off('peerJoined', onJoined);
      events.off('peerLeft', onLeft);
      events.off('callEnded', onEnded);
      events.off('roomClosed', onClosed);
    };
  }

  get(appointmentId: string): Presence {
    return { ...(this.state.get(appointmentId) ?? { resident: false, agent: false }) };
  }

  /** Appointment ids with at least one participant in the call. */
  live(): string[] {
    return [...this.state.keys()];
  }

  private set(appointmentId: string, role: Role, here: boolean): void {
    const before = this.get(appointmentId);
    const interrupted = this.interrupted.get(appointmentId);
    if (here && interrupted?.timer) {
      // Back after a crash: the same call goes on.
      clearTimeout(interrupted.timer);
      interrupted.timer = null;
    }
    if ((before[role] ?? false) === here) return;
    const after = { ...before, [role]: here };
    if (after.resident || after.agent || after.guest) this.state.set(appointmentId, after);
    else this.state.delete(appointmentId);
    this.emit('presence', appointmentId, this.get(appointmentId));
    if (here) this.emit('call', { event: `${role}Joined`, appointmentId } satisfies CallEvent);
  }

  private roomClosed(e: RoomClosedEvent): void {
    const { appointmentId } = e;
    const durationMs = this.pendingEnd.get(appointmentId);
    this.pendingEnd.delete(appointmentId);
    const carried = this.interrupted.get(appointmentId);
    if (e.reason === 'worker-died') {
      // Keep the presence: the clients are already rejoining. Give up if nobody is back in time.
      if (carried?.timer) clearTimeout(carried.timer);
      const entry = { carriedMs: (carried?.carriedMs ?? 0) + (durationMs ?? 0), timer: null as NodeJS.Timeout | null };
      entry.timer = setTimeout(() => this.giveUp(appointmentId), REJOIN_GRACE_MS);
      entry.timer.unref();
      this.interrupted.set(appointmentId, entry);
      return;
    }
    if (carried?.timer) clearTimeout(carried.timer);
    this.interrupted.delete(appointmentId);
    this.clear(appointmentId);
    const total = (carried?.carriedMs ?? 0) + (durationMs ?? 0);
    if (durationMs !== undefined || total > 0) {
      this.emit('call', { event: 'callEnded', appointmentId, durationSeconds: Math.round(total / 1000) } satisfies CallEvent);
    }
  }

  private giveUp(appointmentId: string): void {
    const carried = this.interrupted.get(appointmentId);
    this.interrupted.delete(appointmentId);
    this.clear(appointmentId);
    if (carried && carried.carriedMs > 0) {
      this.emit('call', { event: 'callEnded', appointmentId, durationSeconds: Math.round(carried.carriedMs / 1000) } satisfies CallEvent);
    }
  }

  private clear(appointmentId: string): void {
    if (!this.state.has(appointmentId)) return;
    this.state.delete(appointmentId);
    this.emit('presence', appointmentId, this.get(appointmentId));
  }

  close(): void {
    this.detach();
    for (const i of this.interrupted.values()) if (i.timer) clearTimeout(i.timer);
    this.interrupted.clear();
    this.removeAllListeners();
  }
}
