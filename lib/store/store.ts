import type { EventEmitter } from 'node:events';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AppointmentStore } from '../appointments/store';
import type { ProcessingLog } from '../attributes/processing-log';
import type { GuestStore } from '../call/guest-store';
import type { EventStore } from '../events/types';
import type { PendingIdentificationStore } from '../identification/pending-store';
import type { LinkStore } from '../links/types';
import type { OutboxStore } from '../mail/outbox-store';
import type { RoomDirectoryStore } from '../call/room-directory-store';
import type { ContactRegistrationStore } from '../openklant/store';
import type { SmsOutboxStore } from '../sms/outbox-store';
import type { StaffStore } from '../staff/types';
import type { AgentFeedStore } from '../agent-feed/feed';
import type { OutcomeStore } from '../outcomes/types';
import type { RetentionStore } from '../retention/types';
import type { StatisticsStore } from '../statistics/types';
import type { PubSub } from './pubsub';

export type StoreEngine = 'sqlite' | 'postgres';

/** What a health check reports: ok, and a short detail that never holds a path, a value or a library's message. */
export type HealthState = { ok: boolean; detail?: string };

export interface StoreProbe extends EventEmitter<{ writable: [] }> {
  /**
   * A real write, bounded in time (at most about a second): detects a store that can read but not write (read-only
   * or immutable file, full disk, a read-only PostgreSQL, an I/O error), a lock held by another process, a server
   * that is gone. The detail is an error code, never a path.
   */
  check(): Promise<HealthState>;
  /** A background loop saw the store fail or work; a failure → success transition wakes the waiting loops. */
  noteFault(): void;
  noteOk(): void;
}

/** A shared counter store for lib/http/rate-limit.ts, or undefined: count in this process's memory. */
export type RateLimitBackend = (name: string, o: { windowMs: number; max: number }) => RateLimiterAbstract | undefined;

/**
 * The store: one repository per domain, chosen once at start (lib/store/open.ts) and handed to the domains by the
 * composition root (lib/services.ts). Nothing outside lib/store/ sees a database handle or a client: domains talk to
 * these ports, which have an SQLite and a PostgreSQL implementation with the same behaviour and one test suite
 * (test/unit/store/).
 *
 * Writes that span repositories (a hand-off: links, outbox mails, the cancel-token hash and the event's `done`) are
 * one unit of work described as data (lib/events/types.ts `Effects`) and committed by `events.finish`/`events.apply`
 * in one transaction on either engine; no domain code holds a transaction open across an await.
 */
export interface Store {
  readonly engine: StoreEngine;
  /** Resolves when the store is usable (PostgreSQL: connected and migrated); rejects with a StoreError. */
  readonly ready: Promise<void>;
  readonly appointments: AppointmentStore;
  readonly events: EventStore;
  readonly links: LinkStore;
  readonly outbox: OutboxStore;
  /** The SMS outbox (lib/sms/outbox.ts, migration 013). */
  readonly smsOutbox: SmsOutboxStore;
  readonly staff: StaffStore;
  readonly processingLog: ProcessingLog;
  readonly pendingIdentifications: PendingIdentificationStore;
  /** Third participants of calls (migration 009). */
  readonly guests: GuestStore;
  /** Issue 14 (migration 012): erasing residents' details after the appointment, outcomes, agents' calendar feeds,
   *  and the facts the manager's statistics are counted from. */
  readonly retention: RetentionStore;
  readonly outcomes: OutcomeStore;
  readonly agentFeeds: AgentFeedStore;
  readonly statistics: StatisticsStore;
  /** Which instance holds each appointment's media room (PostgreSQL; in memory on SQLite, one instance). */
  readonly rooms: RoomDirectoryStore;
  /** Contact registrations for Open Klant (migration 011, lib/openklant/store.ts). */
  readonly contactRegistrations: ContactRegistrationStore;
  /** Messages between instances (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite). */
  readonly pubsub: PubSub;
  readonly probe: StoreProbe;
  /** Counters shared by every instance (PostgreSQL); undefined on SQLite (one process: memory counts). */
  readonly rateLimits: RateLimitBackend;
  /** Where the data is, for the start-up line: a file path or host/database, never a password. */
  describe(): string;
  close(): Promise<void>;
}
