import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Db } from '../db';

/**
 * WAL checkpoints on a thread of their own (issue 12, Performance).
 *
 * Why: better-sqlite3 is synchronous, and SQLite's automatic checkpoint runs inside the commit that pushes the WAL
 * past 1000 pages: that one commit copies the pages back into the database file and fsyncs it, on the event loop. Under
 * a booking burst that was every ~40 bookings, 0.4 ms per booking on average, and single stalls of 100+ ms that every
 * request in flight waited for (strace of 6000 bookings: 323 fsyncs, 2.2 s, the longest 148 ms; with the checkpoints
 * on this thread, 8 fsyncs on the main thread, all at open and close).
 *
 * How: the main connection's `wal_autocheckpoint` is 0; every `everyMs` a timer looks (asynchronously) at the WAL
 * file, and when it changed, a worker thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)`, which
 * never blocks the writer or readers (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). The thread starts
 * only once the WAL first reaches `startAtBytes`, so a quiet store (and each small test database) never starts one.
 * Durability is unchanged: a commit is in the WAL as before; only the copy into the main file moved.
 * If the thread fails or ends, the main connection's automatic checkpoint comes back (never an unbounded WAL), and
 * `checkpoint()` runs on the main thread.
 */
export interface Checkpointer {
  /** One PASSIVE checkpoint (on the thread when it runs); rejects with SQLite's `code` when it fails. */
  checkpoint(): Promise<void>;
  /** True while checkpoints run on the thread (false before it started and after a fallback). */
  readonly onThread: boolean;
  /** For tests: ends the thread as a crash would (the fallback takes over). */
  stopThread(): Promise<void>;
  /** Stops the timer and the thread (the database itself is closed by its owner, after this). */
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  /** How often the WAL file is looked at; default 1000 ms. */
  everyMs?: number;
  /** The WAL size at which the thread starts; default 1 MiB (about 250 pages). */
  startAtBytes?: number;
  /** The thread connection's busy timeout; default 1000 ms. */
  busyTimeoutMs?: number;
  /** Told once when checkpoints fall back to the main connection, with the reason (no personal data). */
  onFallback?: (why: string) => void;
}

/** Bytes the WAL file is cut back to when it restarts (https://www.sqlite.org/pragma.html#pragma_journal_size_limit). */
const JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024;

/** SQLite's default wal_autocheckpoint (pages), restored on fallback. */
const DEFAULT_AUTOCHECKPOINT = 1000;

export function startCheckpointer(db: Db, file: string, o: CheckpointerOptions = {}): Checkpointer {
  const wal = `${file}-wal`;
  const startAt = o.startAtBytes ?? 1024 * 1024;
  db.pragma('wal_autocheckpoint = 0');
  // Between two looks the WAL may grow past the 4 MiB the automatic checkpoint kept it near; when it starts over after
  // a checkpoint, it is cut back to this size instead of staying at its largest.
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  let worker: Worker | undefined;
  let failed = false;
  let closed = false;
  let inFlight: Promise<void> | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let seen = '';

  const fault = (code: string) => Object.assign(new Error(`WAL checkpoint failed (${code})`), { code });

  const fallBack = (why: string) => {
    if (failed || closed) return;
    failed = true;
    worker = undefined;
    if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    // Checkpoints still waiting for an answer run here instead, so their callers (the health probe) get the truth.
    for (const w of waiting.values()) {
      try {
        if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
        w.resolve();
      } catch (e) {
        w.reject(e as Error);
      }
    }
    waiting.clear();
    o.onFallback?.(why);
  };

  const ensureWorker = (): Worker | undefined => {
    if (worker || failed || closed) return worker;
    const w = new Worker(path.join(__dirname, 'checkpoint-worker.js'), { workerData: { file, busyTimeoutMs: o.busyTimeoutMs ?? 1000 } });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; code?: string }) => {
      const entry = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.ok) entry?.resolve();
      else entry?.reject(fault(m.code ?? 'SQLITE_ERROR'));
    });
    w.on('error', (e) => fallBack(`the checkpoint thread failed (${(e as { code?: string }).code ?? e.name})`));
    w.on('exit', () => {
      if (worker === w) fallBack('the checkpoint thread ended');
    });
    worker = w;
    return w;
  };

  const checkpoint = (): Promise<void> => {
    const w = failed || closed ? undefined : ensureWorker();
    if (!w) {
      // Fallback (or closing): on this connection, as before this module.
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
      return Promise.resolve();
    }
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      w.postMessage({ id });
    });
  };

  const tick = async () => {
    if (inFlight || failed || closed) return;
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(wal);
    } catch {
      return; // no WAL yet (or gone at close)
    }
    const mark = `${st.size}:${st.mtimeMs}`;
    if (mark === seen || (!worker && st.size < startAt)) return;
    seen = mark;
    inFlight = checkpoint()
      // A failed checkpoint is retried on the next change; the store's health probe reports a file that cannot be written.
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(() => void tick(), o.everyMs ?? 1000);
  timer.unref();

  const endThread = async (w: Worker) => {
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close');
    const t = setTimeout(() => void w.terminate(), 5000);
    await exited;
    clearTimeout(t);
  };

  return {
    checkpoint,
    get onThread() {
      return worker !== undefined && !failed;
    },
    async stopThread() {
      const w = worker;
      if (!w) return;
      await w.terminate();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await inFlight;
      const w = worker;
      worker = undefined;
      if (w) await endThread(w);
    },
  };
}
