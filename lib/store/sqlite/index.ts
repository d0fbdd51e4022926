import type { Database } from 'better-sqlite3';
import { openDatabase } from '../db';
import { createStoreProbe, PROBE_BUSY_MS } from '../health';
import { createLocalPubSub } from '../pubsub';
import type { Store } from '../store';
import { createSqliteAppointmentStore } from './appointments';
import { createSqliteContactRegistrations } from './contact-registrations';
import { createSqliteEventStore } from './events';
import { createSqliteGuestStore } from './guests';
import { createLocalRoomDirectory } from './rooms';
import { createSqliteLinkStore } from './links';
import { createSqliteOutboxStore } from './outbox';
import { createSqliteSmsOutboxStore } from './sms-outbox';
import { createSqlitePendingStore } from './pending';
import { createSqliteAgentFeedStore } from './agent-feeds';
import { createSqliteOutcomeStore } from './outcomes';
import { createSqliteRetentionStore } from './retention';
import { createSqliteStatisticsStore } from './statistics';
import { SqliteProcessingLog } from './processing-log';
import { SqliteStaffStore } from './staff';
import { startCheckpointer, type Checkpointer, type CheckpointerOptions } from './checkpointer';

const HANDLE = Symbol('sqlite handle');
const CHECKPOINTER = Symbol('sqlite checkpointer');

/**
 * The store on one SQLite file (the embedded default): opened and migrated at once (a damaged, locked, unwritable or
 * newer database throws a StoreError here). Pub/sub is in-process and rate limits count in memory: one process.
 */
export function createSqliteStore(file: string, opts: { busyTimeoutMs?: number; checkpoints?: CheckpointerOptions } = {}): Store {
  const db = openDatabase(file, undefined, opts);
  // WAL checkpoints off the event loop (./checkpointer.ts); an in-memory database has no WAL.
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(db, file, { busyTimeoutMs: PROBE_BUSY_MS, ...opts.checkpoints });
  return sqliteStoreOn(db, file, checkpointer);
}

/** The store on an open, migrated database handle (tests that open their own). */
export function sqliteStoreOn(db: Database, where = db.name, checkpointer?: Checkpointer): Store {
  const pubsub = createLocalPubSub();
  const store: Store = {
    engine: 'sqlite',
    ready: Promise.resolve(),
    appointments: createSqliteAppointmentStore(db),
    events: createSqliteEventStore(db),
    links: createSqliteLinkStore(db),
    outbox: createSqliteOutboxStore(db),
    smsOutbox: createSqliteSmsOutboxStore(db),
    staff: new SqliteStaffStore(db),
    processingLog: new SqliteProcessingLog(db),
    pendingIdentifications: createSqlitePendingStore(db),
    guests: createSqliteGuestStore(db),
    retention: createSqliteRetentionStore(db),
    outcomes: createSqliteOutcomeStore(db),
    agentFeeds: createSqliteAgentFeedStore(db),
    statistics: createSqliteStatisticsStore(db),
    rooms: createLocalRoomDirectory(),
    contactRegistrations: createSqliteContactRegistrations(db),
    pubsub,
    probe: createStoreProbe(db, checkpointer?.checkpoint),
    rateLimits: () => undefined,
    describe: () => `SQLite ${where}`,
    async close() {
      await pubsub.close();
      await checkpointer?.close();
      if (db.open) db.close();
    },
  };
  Object.defineProperty(store, HANDLE, { value: db, enumerable: false });
  if (checkpointer) Object.defineProperty(store, CHECKPOINTER, { value: checkpointer, enumerable: false });
  return store;
}

/**
 * The SQLite handle behind a store, for tests that inspect rows or inject faults; undefined on PostgreSQL. Product
 * code never calls this: domains use the repositories.
 */
export function sqliteHandleOf(store: Store): Database | undefined {
  return (store as unknown as Record<symbol, Database | undefined>)[HANDLE];
}

/** The WAL checkpointer of a store opened on a file (tests look at it); undefined otherwise. */
export function sqliteCheckpointerOf(store: Store): Checkpointer | undefined {
  return (store as unknown as Record<symbol, Checkpointer | undefined>)[CHECKPOINTER];
}
