import type { Services } from '../services';
import { storeProbeOf } from '../store/health';
import { startPeriodic, type Periodic, type PeriodicOptions } from './periodic';

/**
 * A background job on the store for the life of the runtime: periodic (one run at a time, backoff on store faults),
 * woken at once when the store probe sees the store writable again, stopped when the services close.
 */
export function startStoreJob(services: Services, o: PeriodicOptions): Periodic {
  const job = startPeriodic(o);
  const probe = storeProbeOf(services);
  const wake = () => job.failing && job.kick();
  probe.on('writable', wake);
  services.onClose(async () => {
    probe.off('writable', wake);
    await job.stop();
  });
  return job;
}
