import { allMigrations } from '../../migrations';
import type { Migration } from '../../migration';

/**
 * PostgreSQL's numbered migrations beside this file. Ids and names mirror lib/store/migrations/ (the SQLite ones): a
 * schema step has the same number on both engines, so "schema 8" means the same on either.
 */
export function postgresMigrations(): Migration[] {
  return allMigrations(__dirname);
}
