import { EventEmitter } from 'node:events';
import type { Db } from './db';
import { faultCode } from './faults';
import type { HealthState, Store, StoreProbe } from './store';

export type { StoreProbe } from './store';

/** How long the health check waits for a lock held by another connection before it calls the store locked. */
export const PROBE_BUSY_MS = 1000;

/**
 * The engine-independent part of a store probe: `write` is the engine's bounded real write (it throws on failure);
 * the probe turns the outcome into a HealthState and wakes waiting loops on the failure → success transition.
 */
export function createProbe(write: () => Promise<void>): StoreProbe {
  const emitter = new EventEmitter<{ writable: [] }>().setMaxListeners(0) as StoreProbe;
  let failing = false;
  const ok = () => {
    if (failing) {
      failing = false;
      emitter.emit('writable');
    }
  };
  emitter.noteFault = () => {
    failing = true;
  };
  emitter.noteOk = ok;
  emitter.check = async (): Promise<HealthState> => {
    try {
      await write();
      ok();
      return { ok: true };
    } catch (e) {
      failing = true;
      const code = faultCode(e);
      const what = /BUSY|LOCKED|55P03/.test(code)
        ? 'locked by another process'
        : /57014|TIMEOUT/.test(code)
          ? 'no answer in time'
          : /ECONN|08\d{3}|57P0|CONNECT/.test(code)
            ? 'cannot reach the database'
            : 'cannot write';
      return { ok: false, detail: `${what} (${code})` };
    }
  };
  return emitter;
}

/**
 * SQLite: one kv row in an IMMEDIATE transaction (takes the write lock, writes the WAL) and a PASSIVE checkpoint
 * (writes the database file). Detects a read-only or immutable file, a full disk, an I/O error and a lock held
 * longer than 1 s. `checkpoint`: the store's checkpointer (lib/store/sqlite/checkpointer.ts), so the probe's
 * checkpoint, too, runs off the event loop; without one it runs on this connection.
 */
export function createStoreProbe(db: Db, checkpoint?: () => Promise<void>): StoreProbe {
  return createProbe(async () => {
    const busy = db.pragma('busy_timeout', { simple: true }) as number;
    try {
      db.pragma(`busy_timeout = ${PROBE_BUSY_MS}`);
      db.transaction(() => {
        db.prepare(`INSERT INTO kv (key, value) VALUES ('health.write-probe', ?)
          ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(new Date().toISOString());
      }).immediate();
      if (!checkpoint) db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      try {
        db.pragma(`busy_timeout = ${busy}`);
      } catch {
        /* a closed handle: nothing to restore */
      }
    }
    // After the busy timeout is back: the bookings meanwhile wait as long as they always do.
    if (checkpoint) await checkpoint();
  });
}

/** The probe /healthz uses (lib/services.ts registers it as the 'store' check): the store's own. */
export function storeProbeOf(services: { store: Pick<Store, 'probe'> }): StoreProbe {
  return services.store.probe;
}
