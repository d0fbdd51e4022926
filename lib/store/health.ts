import { EventEmitter } from 'node:events';
import type { HealthState, Services } from '../services';
import type { Db } from './db';
import { faultCode } from './faults';

const KEY = 'store.probe';

/** How long the health check waits for a lock held by another connection before it calls the store locked. */
const PROBE_BUSY_MS = 1000;

export interface StoreProbe extends EventEmitter<{ writable: [] }> {
  /**
   * A real write, bounded in time: one kv row in an IMMEDIATE transaction (takes the write lock, writes the WAL) and a
   * PASSIVE checkpoint (writes the database file). Detects a read-only or immutable file, a full disk, an I/O error
   * and a lock held longer than 1 s. The detail is an error code, never a path.
   */
  check(): HealthState;
  /** A background loop saw the store fail or work; a failure → success transition wakes the waiting loops. */
  noteFault(): void;
  noteOk(): void;
}

export function createStoreProbe(db: Db): StoreProbe {
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
  emitter.check = () => {
    const busy = db.pragma('busy_timeout', { simple: true }) as number;
    try {
      db.pragma(`busy_timeout = ${PROBE_BUSY_MS}`);
      db.transaction(() => {
        db.prepare(`INSERT INTO kv (key, value) VALUES ('health.write-probe', ?)
          ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(new Date().toISOString());
      }).immediate();
      db.pragma('wal_checkpoint(PASSIVE)');
      ok();
      return { ok: true };
    } catch (e) {
      failing = true;
      const code = faultCode(e);
      const what = /BUSY|LOCKED/.test(code) ? 'locked by another process' : 'cannot write';
      return { ok: false, detail: `${what} (${code})` };
    } finally {
      try {
        db.pragma(`busy_timeout = ${busy}`);
      } catch {
        /* a closed handle: nothing to restore */
      }
    }
  };
  return emitter;
}

/** The probe /healthz uses (lib/services.ts registers it as the 'store' check). */
export function storeProbeOf(services: Pick<Services, 'memo' | 'db'>): StoreProbe {
  return services.memo(KEY, () => createStoreProbe(services.db));
}
