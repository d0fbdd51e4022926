import { FaultLog } from '../runtime/fault-log';
import type { Services } from '../services';
import { storeProbeOf } from '../store/health';
import type { QueuedRecord } from './queue-store';
import type { OutboxWorker } from './worker';

/**
 * Runs an outbox worker (mail, SMS) inside the runtime: a store that cannot write fails every pass, so one log line,
 * then a summary now and then, then "working again" (lib/runtime/fault-log.ts); the store probe hears of it and
 * wakes the worker when the store writes again; /healthz reports what waits and what failed; close stops it.
 * `name` is how the log calls it ("mail outbox"), `health` the /healthz part ("mail"); `beforeStop` runs before the
 * worker is stopped, `onClose` after.
 */
export function runOutboxWorker<R extends QueuedRecord>(services: Services, worker: OutboxWorker<R>, o: { name: string; health: string; beforeStop?: () => void; onClose?: () => unknown }): void {
  const faults = new FaultLog({ name: o.name, warn: (m) => services.log.warn(m), info: (m) => services.log.info(m) });
  const probe = storeProbeOf(services);
  worker.on('workerError', (e) => {
    faults.failed(e);
    probe.noteFault();
  });
  worker.on('recovered', () => {
    faults.succeeded();
    probe.noteOk();
  });
  // The health check (or another loop) saw the store write again: stop waiting out the backoff.
  const wake = () => void worker.kick();
  probe.on('writable', wake);
  worker.start();

  services.registerHealth(o.health, async () => {
    const held = worker.heldInMemory();
    const counts = await worker.counts();
    // A failed message needs a person, but the runtime itself is alive: report it, do not fail liveness on it.
    return {
      ok: true,
      detail: `${counts.pending + counts.sending} waiting, ${counts.scheduled} scheduled, ${counts.failed} failed${held ? `, ${held} outcome(s) kept in memory until the store can be written` : ''}`,
    };
  });
  services.onClose(async () => {
    probe.off('writable', wake);
    o.beforeStop?.();
    await worker.stop();
    await o.onClose?.();
  });
}
