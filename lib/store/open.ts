import * as path from 'node:path';
import { createPostgresStore } from './postgres';
import { createSqliteStore } from './sqlite';
import type { Store } from './store';

export interface OpenStoreOptions {
  /** postgres://… selects PostgreSQL (IDV_DATABASE_URL); otherwise SQLite in the data dir. */
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL pool size (IDV_DATABASE_POOL). */
  poolSize?: number;
  log?: { warn(m: string): void; info(m: string): void };
}

/** The SQLite file of a data dir. */
export function sqliteFileOf(dataDir: string): string {
  return path.join(dataDir, 'idvideo.sqlite');
}

/**
 * The one place that chooses the engine (the composition root calls it once): PostgreSQL when a database URL is
 * configured, else SQLite in the data dir. Await `ready` before serving.
 */
export function openStore(o: OpenStoreOptions): Store {
  if (o.databaseUrl) return createPostgresStore({ url: o.databaseUrl, ...(o.poolSize ? { max: o.poolSize } : {}), ...(o.log ? { log: o.log } : {}) });
  return createSqliteStore(sqliteFileOf(o.dataDir));
}
