import { EventEmitter } from 'node:events';
import type { CallEvent } from '../call/presence';
import { startStoreJob } from '../runtime/store-job';
import type { Services } from '../services';
import type { Outcome, OutcomeStore } from './types';

/** After the end of an appointment, how long a late arrival still counts before a no-show is recorded. */
export const NO_SHOW_GRACE_MS = 15 * 60_000;
/**
 * Only appointments that ended within this window are decided: older ones predate the presence lines (migration 009)
 * or this version, and would all look like no-shows.
 */
const LOOK_BACK_MS = 7 * 24 * 3600_000;

/** The message flows get for an outcome: ids and codes only. */
export function outcomeMessage(o: Outcome): { topic: 'outcome'; event: 'outcome'; appointment: { id: string }; outcome: string; durationSeconds?: number; cancelledBy?: string } {
  return {
    topic: 'outcome',
    event: 'outcome',
    appointment: { id: o.appointmentId },
    outcome: o.outcome,
    ...(o.durationSeconds !== null ? { durationSeconds: o.durationSeconds } : {}),
    ...(o.cancelledBy !== null ? { cancelledBy: o.cancelledBy } : {}),
  };
}

export interface OutcomeRecorder extends EventEmitter<{ outcome: [Outcome] }> {
  store: OutcomeStore;
  /** Decides the appointments whose end + grace has passed (also run every minute). */
  decide(): Promise<Outcome[]>;
  /** Listens to a call service's presence for call ends (once per presence tracker). */
  attach(presence: EventEmitter): void;
}

export function createOutcomeRecorder(o: { store: OutcomeStore; now?: () => Date; graceMs?: number }): OutcomeRecorder {
  const now = o.now ?? (() => new Date());
  const grace = o.graceMs ?? NO_SHOW_GRACE_MS;
  const attached = new WeakSet<EventEmitter>();
  const emitter = new EventEmitter<{ outcome: [Outcome] }>() as OutcomeRecorder;
  emitter.store = o.store;
  emitter.decide = async () => {
    const t = now();
    const decided = await o.store.decideEnded(new Date(t.getTime() - LOOK_BACK_MS).toISOString(), new Date(t.getTime() - grace).toISOString(), t.toISOString(), 500);
    for (const d of decided) emitter.emit('outcome', d);
    return decided;
  };
  emitter.attach = (presence) => {
    if (attached.has(presence)) return;
    attached.add(presence);
    presence.on('call', (e: CallEvent) => {
      if (e.event !== 'callEnded') return;
      void o.store.recordCall(e.appointmentId, e.durationSeconds, now().toISOString()).then(
        (r) => emitter.emit('outcome', r),
        () => undefined,
      );
    });
  };
  return emitter;
}

/** The runtime's recorder on its database, deciding every minute; started by the first agent dashboard node. */
export function outcomesOf(services: Services): OutcomeRecorder {
  return services.memo('outcomes.runtime', () => {
    const recorder = createOutcomeRecorder({ store: services.store.outcomes });
    startStoreJob(services, { name: 'appointment outcomes', everyMs: 60_000, firstMs: 5_000, log: services.log, run: () => recorder.decide() });
    return recorder;
  });
}
