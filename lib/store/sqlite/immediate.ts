import type { Db } from '../db';

/**
 * Runs a synchronous write transaction (`run`, e.g. `tx.immediate(…)`) without letting SQLite's busy handler sleep on
 * the event loop while another process holds the write lock (two instances on one SQLite file).
 *
 * SQLite's busy handler waits inside the call, in steps of 1 to 100 ms, up to the connection's busy_timeout; with
 * better-sqlite3 that is the whole event loop standing still, so every request of this process waited for the other
 * process's commit. Here the connection's busy timeout is 0 during `run`; a SQLITE_BUSY answer is retried after a
 * short timer (1, 2, 4 … 20 ms with jitter), so other requests run meanwhile, until the connection's own busy timeout
 * (read once, when this is made) has passed; then SQLITE_BUSY is thrown as before (a store fault: 503). `run` must
 * be a whole transaction: a BUSY inside it rolls it back, and it runs again from the start.
 */
export function immediateWithoutBlocking(db: Db): <T>(run: () => T) => Promise<T> {
  const budgetMs = Math.max(0, Math.floor(db.pragma('busy_timeout', { simple: true }) as number));
  // Not a prepared statement: SQLite applies `PRAGMA busy_timeout = N` when the statement is prepared, so running a
  // prepared one again changes nothing.
  return async <T>(run: () => T): Promise<T> => {
    const started = Date.now();
    for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
      db.pragma('busy_timeout = 0');
      try {
        return run();
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() - started >= budgetMs) throw e;
      } finally {
        db.pragma(`busy_timeout = ${budgetMs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
    }
  };
}
