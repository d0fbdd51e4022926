import type { Periodic } from '../runtime/periodic';
import { startStoreJob } from '../runtime/store-job';
import type { Services } from '../services';
import type { RetentionStore } from './types';

const DAY_MS = 24 * 3600_000;
/** Appointments erased per transaction; a backlog (a lowered setting) is worked through batch by batch. */
const BATCH = 200;

export interface RetentionOptions {
  store: RetentionStore;
  /** Days after the appointment's end that the resident's data is kept; 0 = right after the end. */
  days: number;
  now?: () => Date;
}

/**
 * Runs the retention rule once: erases every appointment whose end lies `days` days or more in the past, in batches.
 * Returns how many were erased. The ids go nowhere but the processing log (no names, no counts per person).
 */
export async function runRetention(o: RetentionOptions): Promise<number> {
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

/** The runtime's retention job on its database, with IDV_RETENTION_DAYS; stopped when the services close. */
export function retentionOf(services: Services): Periodic {
  return services.memo('retention.runtime', () => {
    const store = services.store.retention;
    const days = services.config.retentionDays;
    return startStoreJob(services, {
      name: 'retention of resident data',
      everyMs: 10 * 60_000,
      firstMs: 30_000,
      log: services.log,
      run: async () => {
        const n = await runRetention({ store, days });
        if (n > 0) services.log.info(`retention: erased the resident's details of ${n} appointment(s) ended ${days} day(s) ago or earlier`);
      },
    });
  });
}
