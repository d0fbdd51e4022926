import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { allMigrations } from './migrations';
import type { Migration } from './migration';
import { StoreError } from './store-error';

export type Db = Database.Database;

export { StoreError } from './store-error';

function explain(file: string, e: unknown): StoreError {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message ?? String(e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(msg)) {
    return new StoreError(
      `The database ${file} is damaged or not an SQLite file. It was left as it is: restore it from a backup or move it ` +
        `away to start empty.`,
      e,
    );
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /locked|busy/i.test(msg)) {
    return new StoreError(`The database ${file} is locked by another process (is ID Video already running?).`, e);
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || /readonly|unable to open/i.test(msg)) {
    return new StoreError(`The database ${file} cannot be written: check the permissions of the file and its folder.`, e);
  }
  return new StoreError(`The database ${file} could not be opened: ${msg}`, e);
}

/**
 * Opens (or creates) the SQLite database with WAL, foreign keys and a busy timeout, and runs the migrations that are
 * not yet applied, each in its own transaction. Any failure is a StoreError with an operator-readable message.
 */
export function openDatabase(file: string, migrations: Migration[] = allMigrations(), opts: { busyTimeoutMs?: number } = {}): Db {
  if (file !== ':memory:') {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
    } catch (e) {
      throw explain(file, e);
    }
  }
  let db: Db | undefined;
  try {
    db = new Database(file, { fileMustExist: false });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    // A query before the pragmas that write: a damaged file fails here, before anything is changed.
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    const integrity = db.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') throw Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' });
    migrate(db, migrations);
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      /* closing a broken handle may fail too; the original error is the one to report */
    }
    throw e instanceof StoreError ? e : explain(file, e);
  }
}

function migrate(db: Db, migrations: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id));
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.id));
  if (newest > known) {
    throw new StoreError(
      `The database was written by a newer ID Video (schema ${newest}, this version knows ${known}); not touching it.`,
    );
  }
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    })();
  }
}

/** Key/value for small runtime facts (e.g. generated secrets' fingerprints), not for personal data. */
export function kvGet(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function kvSet(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}
