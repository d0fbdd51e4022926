import * as fs from 'node:fs';
import Database from 'better-sqlite3';

/**
 * A consistent copy of a live SQLite database through SQLite's online backup API (https://sqlite.org/backup.html),
 * which better-sqlite3 exposes as `db.backup()`: it copies page by page and restarts when the runtime writes in
 * between, so the copy is one committed state while bookings go on. The copy is written beside `dest` under a
 * temporary name, turned into a single file (rollback journal instead of WAL), checked with `PRAGMA integrity_check`,
 * made 0600 and then renamed into place, so `dest` is either
 * absent or a whole, readable database. Throws an Error naming the file on any failure (the temporary file is removed).
 */
export async function backupDatabase(source: string, dest: string): Promise<{ pages: number }> {
  if (!fs.existsSync(source)) throw new Error(`there is no database at ${source}`);
  const tmp = `${dest}.partial`;
  // Not readonly: a read-only connection cannot read a WAL database whose -shm file is absent (runtime stopped).
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const progress = await db.backup(tmp);
    fs.chmodSync(tmp, 0o600);
    const copy = new Database(tmp, { fileMustExist: true });
    try {
      // One self-contained file (no -wal/-shm beside it); the runtime turns WAL on again when it opens a restored copy.
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy of ${source} failed its integrity check (${String(check)})`);
    } finally {
      copy.close();
    }
    fs.renameSync(tmp, dest);
    return { pages: progress.totalPages };
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    db.close();
  }
}
