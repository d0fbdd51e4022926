import { createPostgresContactRegistrations } from './contact-registrations';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { createProbe, PROBE_BUSY_MS } from '../health';
import type { Store } from '../store';
import { createPg, PgFault, type Pg, type PgOptions } from './client';
import { createPostgresAppointmentStore } from './appointments';
import { createPostgresEventStore } from './events';
import { createPostgresGuestStore } from './guests';
import { createPostgresAgentFeedStore } from './agent-feeds';
import { createPostgresOutcomeStore } from './outcomes';
import { createPostgresRetentionStore } from './retention';
import { createPostgresStatisticsStore } from './statistics';
import { createPostgresLinkStore } from './links';
import { describeUrl, explainPg, migratePostgres } from './migrate';
import { createPostgresOutboxStore } from './outbox';
import { createPostgresSmsOutboxStore } from './sms-outbox';
import { createPostgresPendingStore } from './pending';
import { createPostgresProcessingLog } from './processing-log';
import { createPostgresPubSub } from './pubsub';
import { createPostgresRoomDirectory } from './rooms';
import { createPostgresStaffStore } from './staff';

export interface PostgresStoreOptions extends Omit<PgOptions, 'onIdleError'> {
  log?: { warn(m: string): void; info(m: string): void };
}

/** A Pg whose statements wait until the store is ready (connected and migrated); a failed start fails them all. */
function gated(pg: Pg, ready: Promise<void>): Pg {
  return {
    ...pg,
    query: async (text, values) => (await ready, pg.query(text, values)),
    run: async (text, values) => (await ready, pg.run(text, values)),
    tx: async (fn, o) => (await ready, pg.tx(fn, o)),
    statement: async (text, values) => (await ready, pg.statement(text, values)),
  };
}

/**
 * The store on PostgreSQL (IDV_DATABASE_URL=postgres://…): every repository, the pub/sub, the shared rate-limit
 * counters and the health probe on one pool. Creating it does not wait: `ready` connects and migrates (under an
 * advisory lock), and every statement waits for it, so the runtime's composition stays synchronous and the start
 * (settings.ts) fails with the StoreError when the database cannot be reached, signed in to or is newer than us.
 */
export function createPostgresStore(o: PostgresStoreOptions): Store {
  let idleWarned = false;
  const raw = createPg({
    ...o,
    onIdleError: (e) => {
      if (!idleWarned) o.log?.warn(`a pooled database connection broke (${(e as { code?: string }).code ?? 'connection'}); it is replaced on next use`);
      idleWarned = true;
    },
  });
  const ready = migratePostgres(raw).catch((e: unknown) => {
    throw explainPg(o.url, e);
  });
  // Nobody may be listening yet; the rejection is handed to whoever awaits ready (or a statement).
  ready.catch(() => undefined);
  const pg = gated(raw, ready);
  const pubsub = createPostgresPubSub(pg, { log: o.log });
  const limiters = new Map<string, RateLimiterPostgres>();
  let closing: Promise<void> | undefined;

  const probe = createProbe(async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PgFault('PG_TIMEOUT')), PROBE_BUSY_MS * 2 + 500);
    });
    try {
      await Promise.race([
        timeout,
        pg.tx(async (q) => {
          // Bounded like the SQLite probe: a lock or a stuck server is reported within about a second.
          await q.run(`SET LOCAL lock_timeout = ${PROBE_BUSY_MS}`);
          await q.run(`SET LOCAL statement_timeout = ${PROBE_BUSY_MS + 500}`);
          await q.run(
            `INSERT INTO kv (key, value) VALUES ('health.write-probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            [new Date().toISOString()],
          );
        }, { retries: 0 }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  });

  return {
    engine: 'postgres',
    ready,
    appointments: createPostgresAppointmentStore(pg),
    events: createPostgresEventStore(pg),
    links: createPostgresLinkStore(pg),
    outbox: createPostgresOutboxStore(pg),
    smsOutbox: createPostgresSmsOutboxStore(pg),
    staff: createPostgresStaffStore(pg),
    processingLog: createPostgresProcessingLog(pg),
    pendingIdentifications: createPostgresPendingStore(pg),
    guests: createPostgresGuestStore(pg),
    retention: createPostgresRetentionStore(pg),
    outcomes: createPostgresOutcomeStore(pg),
    agentFeeds: createPostgresAgentFeedStore(pg),
    statistics: createPostgresStatisticsStore(pg),
    rooms: createPostgresRoomDirectory(pg),
    contactRegistrations: createPostgresContactRegistrations(pg),
    pubsub,
    probe,
    rateLimits(name, { windowMs, max }) {
      const key = `${name}:${max}:${windowMs}`;
      let l = limiters.get(key);
      if (!l) {
        // The table comes from migration 008; keys are prefixed per limit, so one table holds them all.
        l = new RateLimiterPostgres({ storeClient: raw.pool, storeType: 'pool', tableName: 'rate_limits', tableCreated: true, keyPrefix: name, points: max, duration: windowMs / 1000 });
        limiters.set(key, l);
      }
      return l;
    },
    describe: () => `PostgreSQL ${describeUrl(o.url)}`,
    close() {
      closing ??= (async () => {
        await pubsub.close();
        await raw.end();
      })();
      return closing;
    },
  };
}
