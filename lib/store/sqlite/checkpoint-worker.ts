/**
 * The thread of lib/store/sqlite/checkpointer.ts: its own connection to the database file, which runs WAL checkpoints
 * when asked, so their writes and fsyncs never stop the main thread's event loop. Messages in: `{ id }` (checkpoint
 * now, PASSIVE: never waits for readers or the writer) and `'close'`. Messages out: `{ id, ok, code? }` per checkpoint,
 * with SQLite's error code when it failed (a read-only file, a full disk, an I/O error, busy).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const db = new Database(file, { fileMustExist: true });
db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
// The main connection checkpoints no more; this one never writes pages of its own, so it needs no checkpoint either.
db.pragma('wal_autocheckpoint = 0');

parentPort?.on('message', (m: { id: number } | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort?.postMessage({ id: m.id, ok: true });
  } catch (e) {
    parentPort?.postMessage({ id: m.id, ok: false, code: String((e as { code?: unknown }).code ?? 'SQLITE_ERROR') });
  }
});
