import type { NewEvent } from '../events/types';
import type { Held } from './slots';

export type Channel = 'website' | 'phone';
export type AppointmentStatus = 'booked' | 'cancelled';

export interface Resident {
  name: string;
  email: string;
  /** As typed, or E.164 (+316…) when `sms` is set (lib/sms/phone.ts checked it as a Dutch mobile number). */
  phone: string | null;
  remarks: string | null;
  /** The resident asked for SMS (confirmation, reminders) on `phone`; absent or false: no SMS. */
  sms?: boolean;
}

export interface Appointment {
  id: string;
  /** UTC ISO strings. */
  startUtc: string;
  endUtc: string;
  topic: string;
  /** Username of the agent the appointment is planned for. */
  agent: string;
  channel: Channel;
  /** Staff username for KCC bookings, null when the resident booked on the website. */
  bookedBy: string | null;
  resident: Resident;
  status: AppointmentStatus;
  createdAt: string;
  cancelledAt: string | null;
  /** Staff username, or null when the resident cancelled through the link (or not cancelled). */
  cancelledBy: string | null;
  /** Revision of the invite (iCalendar SEQUENCE): 0 at booking, raised by each move (migration 012). */
  sequence: number;
}

export interface NewAppointment {
  startUtc: string;
  endUtc: string;
  topic: string;
  channel: Channel;
  bookedBy: string | null;
  resident: Resident;
  /**
   * SHA-256 hex of a cancel token. The booking stores the hash of a token nobody keeps; the hand-off of its 'booked'
   * event replaces it with the hash of the token it mails (lib/access/handoff.ts), so no token travels in messages.
   */
  cancelTokenHash: string;
  /** Derived from (resident e-mail, start, topic); see booking-service. */
  idempotencyKey: string;
  createdAt: string;
}

export interface ClaimRequest {
  /** Agents free for the slot as the caller last saw it, in tie-break order. The store re-checks under its lock. */
  candidates: readonly string[];
  /** UTC bounds of the local day, to pick the agent with the fewest appointments that day. */
  dayStartUtc: string;
  dayEndUtc: string;
  /** Minimum gap to the agent's other appointments, re-checked in the claim transaction. */
  bufferMinutes: number;
  /** A booked appointment with the same idempotency key created at or after this instant is returned instead. */
  idempotentSinceUtc: string;
}

/** A new booking comes with its 'booked' event (written in the same transaction); a repeat has none of its own. */
export type CreateResult =
  | { appointment: Appointment; duplicate: false; eventId: string }
  | { appointment: Appointment; duplicate: true; eventId: null };

/** A cancellation and its 'cancelled' event, written in one transaction. */
export interface CancelResult {
  appointment: Appointment;
  eventId: string;
  /** The resident's language: the event's own, else the one recorded with the booking, else 'nl'. */
  lang: 'nl' | 'en';
}

/** A move to another slot (issue 14, point 3). */
export interface RescheduleRequest {
  /** The new slot, UTC ISO strings. */
  startUtc: string;
  endUtc: string;
  /** Agents free for the new slot as the caller saw it (the current agent first if free); re-checked under the lock. */
  claim: Omit<ClaimRequest, 'idempotentSinceUtc'>;
  atUtc: string;
  /**
   * The SHA-256 hex of the resident's token when the move comes from the mail's link: the move happens only while
   * the appointment still has this hash, so a link used once (or after a cancellation) finds nothing.
   */
  tokenHash?: string;
  /** The hash of a token nobody keeps: the old cancel and reschedule links die with the move. */
  newCancelTokenHash: string;
}

/** A move and its 'rescheduled' event, written in one transaction. */
export interface RescheduleResult {
  appointment: Appointment;
  eventId: string;
  lang: 'nl' | 'en';
  previous: { agent: string; startUtc: string; endUtc: string };
}

/**
 * Persistence for appointments (lib/store/sqlite/appointments.ts, lib/store/postgres/appointments.ts). Both guarantee
 * that one agent never holds the same slot twice, by a unique constraint rather than by application checks, across
 * every connection and instance.
 */
export interface AppointmentStore {
  /**
   * In one transaction: return an existing booking with the same idempotency key (duplicate: true), or claim the slot
   * for the candidate with the fewest appointments that day, trying the next on a unique-constraint or buffer clash,
   * and record its 'booked' event (lib/events; 'started' for an unplanned session) with `event`'s source and facts.
   * Throws UserError(409, 'slot_taken') when no candidate is left.
   */
  create(appointment: NewAppointment, claim: ClaimRequest, event?: NewEvent): Promise<CreateResult>;
  get(id: string): Promise<Appointment | null>;
  /** The agent's appointments (any status) starting in [fromUtc, toUtc), by start time. */
  listForAgent(agent: string, fromUtc: string, toUtc: string): Promise<Appointment[]>;
  /** Booked appointments of the agent starting in [dayStartUtc, dayEndUtc). */
  countForAgentOnDay(agent: string, dayStartUtc: string, dayEndUtc: string): Promise<number>;
  /**
   * Cancels a booked appointment, frees its claim and records its 'cancelled' event, in one transaction. Returns the
   * cancelled appointment and the event id, or null when it does not exist or is not booked any more (so of two
   * racing cancels exactly one wins).
   */
  cancel(id: string, cancelledBy: string | null, atUtc: string, event?: NewEvent): Promise<CancelResult | null>;
  /**
   * Moves a booked appointment, in one transaction: frees its slot claim, claims the new slot for the candidate with
   * the fewest appointments that day (as create), raises the invite's sequence, replaces the cancel-token hash,
   * revokes the access links and call sessions, deletes the unsent mails and reminders of the old time, and records
   * the 'rescheduled' event. Returns null when the appointment is not booked (any more) or the token hash does not
   * match; throws UserError(409, 'slot_taken') when no candidate can take the new slot (then nothing changed).
   */
  reschedule(id: string, request: RescheduleRequest, event?: NewEvent): Promise<RescheduleResult | null>;
  /** Booked appointments overlapping [fromUtc, toUtc). */
  heldInRange(fromUtc: string, toUtc: string): Promise<Held[]>;
  findByIdempotencyKey(key: string, sinceUtc: string): Promise<Appointment | null>;
  findByCancelTokenHash(hash: string): Promise<Appointment | null>;
}
