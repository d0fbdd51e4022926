import { startPeriodic, type Periodic } from '../runtime/periodic';
import type { Services } from '../services';
import { storeProbeOf } from '../store/health';
import { createSqliteRetentionStore } from '../store/sqlite/retention';
import type { RetentionStore } from './types';

const DAY_MS = 24 * 3600_000;
/** Appointments erased per transaction; a backlog (a lowered setting) is worked through batch by batch. */
const BATCH = 200;

export interface RetentionOptions {
  store: RetentionStore;
  /** Days after the appointment's end that the resident's data is kept; 0 = right after the end. */
  days: number;
  now?: () => Date;
  log: { info(m: string): void; warn(m: string): void };
  /** How often the rule runs (default 10 min) and the first run after start (default 30 s). */
  everyMs?: number;
  firstMs?: number;
}

/**
 * Runs the retention rule once: erases every appointment whose end lies `days` days or more in the past, in batches.
 * Returns how many were erased. The ids go nowhere but the processing log (no names, no counts per person).
 */
export async function runRetention(o: Pick<RetentionOptions, 'store' | 'days' | 'now'>): Promise<number> {
  if (!Number.isInteger(o.days) || o.days < 0) throw new Error('retention days must be a whole number from 0');
  const now = (o.now ?? (() => new Date()))();
  const cutoff = new Date(now.getTime() - o.days * DAY_MS).toISOString();
  let total = 0;
  for (;;) {
    const ids = await o.store.eraseEnded(cutoff, now.toISOString(), BATCH);
    total += ids.length;
    if (ids.length < BATCH) return total;
  }
}

/** Starts the periodic rule (lib/runtime/periodic.ts: one run at a time, backoff on store faults). */
export function startRetention(o: RetentionOptions): Periodic {
  return startPeriodic({
    name: 'retention of resident data',
    everyMs: o.everyMs ?? 10 * 60_000,
    firstMs: o.firstMs ?? 30_000,
    log: o.log,
    run: async () => {
      const n = await runRetention(o);
      if (n > 0) o.log.info(`retention: erased the resident's details of ${n} appointment(s) ended ${o.days} day(s) ago or earlier`);
    },
  });
}

/** The runtime's retention job on its database, with IDV_RETENTION_DAYS; stopped when the services close. */
export function retentionOf(services: Services): Periodic {
  return services.memo('retention.runtime', () => {
    const job = startRetention({ store: createSqliteRetentionStore(services.db), days: services.config.retentionDays, log: services.log });
    const probe = storeProbeOf(services);
    const wake = () => job.failing && job.kick();
    probe.on('writable', wake);
    services.onClose(async () => {
      probe.off('writable', wake);
      await job.stop();
    });
    return job;
  });
}
