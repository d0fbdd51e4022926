import type { Database } from 'better-sqlite3';
import { sqliteHandleOf } from '../../lib/store/sqlite';
import type { Store } from '../../lib/store/store';

/** The SQLite handle of a runtime's store, for tests that look at rows (node tests run on the embedded default). */
export function sqliteDb(services: { store: Store } | undefined): Database {
  const db = services && sqliteHandleOf(services.store);
  if (!db) throw new Error('these tests look at SQLite rows; the services run on another engine');
  return db;
}
