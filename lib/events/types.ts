import type { StoredLink } from '../links/types';
import type { NewOutboxRecord } from '../mail/outbox-store';
import type { NewSmsRecord } from '../sms/outbox-store';

/**
 * What happened to an appointment that has effects to carry out. 'booked' and 'cancelled'; 'started' is an unplanned,
 * immediate session an ID Contact core started (lib/idcontact/start-communication.ts): its node carries it out itself
 * (the resident's link, no booking mails), so idv-session-link's hand-off leaves it alone. Reschedules and reminders
 * will add kinds of their own (the store keeps any short lower-case word).
 */
export type EventKind = 'booked' | 'cancelled' | 'started' | 'rescheduled';
export const EVENT_KINDS: readonly EventKind[] = ['booked', 'cancelled', 'started', 'rescheduled'];

/** Non-secret facts the effects need that the appointment row does not hold. Never tokens or contact details. */
export interface EventFacts {
  /** Language of the pages the resident used: their mails follow it. */
  lang?: 'nl' | 'en';
  /** Path of the resident booking pages at the time of the change (where its cancel page was then served). */
  cancelPath?: string;
  /** 'rescheduled': where the appointment was before the move (UTC ISO, staff username), to tell that agent. */
  previousStart?: string;
  previousEnd?: string;
  previousAgent?: string;
}

/** Event ids are 128 bits from the CSPRNG, base64url: what msg.eventId carries. */
export const EVENT_ID = /^[A-Za-z0-9_-]{22}$/;

export interface AppointmentEvent {
  id: string;
  appointmentId: string;
  kind: string;
  /** The Node-RED node that made the change (idv-book-appointment), null when made elsewhere. */
  source: string | null;
  facts: EventFacts;
  state: 'pending' | 'done';
  /** How a done event ended: 'handled', 'superseded' (cancelled before its booking was handed off), 'gone'. */
  outcome?: string;
  /** Claims so far (a crash mid-way also counts). */
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  createdAt: string;
  doneAt?: string;
}

/** The event part of a change, written in the change's own transaction. */
export interface NewEvent {
  /** What a new appointment's event is called: 'booked' (default), or 'started' for an unplanned session. */
  kind?: 'booked' | 'started';
  source?: string | null;
  facts?: EventFacts;
}

/**
 * The effects of one event, applied by the store in one transaction together with marking the event done: either
 * all of it happens or none of it (../shared/DESIGN.md, "Every effect of a committed change happens").
 */
export interface Effects {
  appointmentId: string;
  /** Apply only while the appointment is still booked; otherwise the event ends as 'superseded' and nothing changes. */
  requireBooked?: boolean;
  /** Remove the appointment's links and call sessions first (cancellation). */
  revokeLinks?: boolean;
  /** Links to store, each replacing the appointment's link of the same role. Hashes only. */
  links?: StoredLink[];
  /** The new hash of the resident's cancel token (the token itself goes into the confirmation mail only). */
  cancelTokenHash?: string;
  /** Unsent mails of these kinds to drop, e.g. a confirmation still waiting when the appointment is cancelled. */
  discardMailKinds?: string[];
  /** Mails to queue in the outbox. */
  mails?: NewOutboxRecord[];
  /** Unsent SMS of these kinds to drop (their link died with a cancellation). */
  discardSmsKinds?: string[];
  /** SMS to queue in the SMS outbox (lib/sms/outbox.ts). */
  sms?: NewSmsRecord[];
}

/** A claim: a random token per claim, the claimer's instance id, and when the lease ends (UTC ISO). */
export interface Lease {
  token: string;
  instance: string;
  nowIso: string;
  untilIso: string;
}

export type ClaimResult =
  | { status: 'claimed'; event: AppointmentEvent }
  | { status: 'done'; event: AppointmentEvent }
  /** Another claim holds a live lease: that worker carries it out. */
  | { status: 'busy'; event: AppointmentEvent }
  | { status: 'unknown' };

export type FinishResult = 'done' | 'superseded' | 'lost';

export interface DueFilter {
  /** Only events of these kinds (what the worker knows how to carry out). */
  kinds: readonly string[];
  /** Only events created at or before this instant (a grace for messages still on their way). */
  createdBeforeIso: string;
  /** Event sources this worker serves. */
  sources: readonly string[];
  /** Also events whose source is none of these (a node that no longer exists): nobody else would finish them. */
  orphansOf?: readonly string[];
  /** Also events without a source. */
  includeSourceless?: boolean;
}

export interface EventCounts {
  pending: number;
  /** Pending events that failed at least once (they wait for a retry). */
  retrying: number;
}

/** Persistence of events (lib/store/sqlite/events.ts, lib/store/postgres/events.ts). */
export interface EventStore {
  get(id: string): Promise<AppointmentEvent | undefined>;
  /** Claims one event (a message for it arrived). Never waits for a retry time: the message is the retry. */
  claim(id: string, lease: Lease): Promise<ClaimResult>;
  /** Claims up to `limit` due events matching the filter, oldest first. */
  claimDue(filter: DueFilter, lease: Lease, limit: number): Promise<AppointmentEvent[]>;
  /**
   * In one transaction: checks that the lease is still this claim's, applies the effects and marks the event done.
   * 'lost' when the lease was lost (nothing applied), 'superseded' when requireBooked failed (event done, nothing else).
   */
  finish(id: string, leaseToken: string, effects: Effects, nowIso: string): Promise<FinishResult>;
  /** Marks a claimed event done without effects (its appointment is gone). */
  settle(id: string, leaseToken: string, outcome: string, nowIso: string): Promise<boolean>;
  /** Applies effects that belong to no event (a message another flow built), in one transaction. */
  apply(effects: Effects): Promise<void>;
  /** A failed attempt: the lease ends, the event is due again at retryAt, with an error code (never personal data). */
  release(id: string, leaseToken: string, errorCode: string, retryAtIso: string, nowIso: string): Promise<boolean>;
  /** Ends the leases of this instance's earlier runs (call once at start, before claiming). Returns how many. */
  reclaimInstance(instance: string, nowIso: string): Promise<number>;
  counts(): Promise<EventCounts>;
  /** Deletes done events finished before `beforeIso` (they only serve late duplicates). */
  purgeDone(beforeIso: string): Promise<number>;
}
