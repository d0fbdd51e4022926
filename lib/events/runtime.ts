import { instanceIdOf } from '../runtime/instance';
import { startPeriodic } from '../runtime/periodic';
import type { Services } from '../services';
import { faultCode } from '../store/faults';
import { storeProbeOf } from '../store/health';
import type { EventStore } from './types';

const KEY = 'events.runtime';
/** Done events only answer late duplicates of their message; a month is far beyond any flow's delay. */
const DONE_RETENTION_MS = 30 * 24 * 3600_000;
const PURGE_EVERY_MS = 6 * 3600_000;

export interface EventsRuntime {
  store: EventStore;
  instanceId: string;
  /**
   * Resolves once the leases this instance's previous run held are ended (that process is gone), so its interrupted
   * hand-offs are finished at once. Claim nothing before. Never rejects: a failure is logged and leaves those
   * events to their lease's end.
   */
  ready: Promise<void>;
}

/** The process-wide event store of the runtime's database, with the start-up reclaim, health and retention. */
export function eventsOf(services: Services): EventsRuntime {
  return services.memo(KEY, () => {
    const store = services.store.events;
    const instanceId = instanceIdOf(services);
    const ready = store
      .reclaimInstance(instanceId, new Date().toISOString())
      .then((n) => {
        if (n > 0) services.log.info(`resuming ${n} hand-off(s) the previous run of this instance left unfinished`);
      })
      .catch((e: unknown) => services.log.warn(`could not resume unfinished hand-offs at start (${faultCode(e)}); they follow when their lease ends`));
    services.registerHealth('handoff', async () => {
      try {
        const c = await store.counts();
        // Waiting effects are work in progress, not an outage; the store check reports a store that cannot write.
        return { ok: true, detail: `${c.pending} waiting, ${c.retrying} retrying` };
      } catch (e) {
        return { ok: false, detail: `cannot read (${faultCode(e)})` };
      }
    });
    const probe = storeProbeOf(services);
    const purge = startPeriodic({
      name: 'event retention',
      everyMs: PURGE_EVERY_MS,
      firstMs: 60_000,
      log: services.log,
      run: () => store.purgeDone(new Date(Date.now() - DONE_RETENTION_MS).toISOString()),
    });
    const wake = () => purge.failing && purge.kick();
    probe.on('writable', wake);
    services.onClose(async () => {
      probe.off('writable', wake);
      await purge.stop();
    });
    return { store, instanceId, ready };
  });
}
