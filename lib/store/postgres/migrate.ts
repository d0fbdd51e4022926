import type { Migration } from '../migration';
import { StoreError } from '../store-error';
import { classify, PgFault, type Pg } from './client';
import { postgresMigrations } from './migrations';

/** First key of the advisory lock that serialises migrations; the second is the schema's hash. */
const LOCK_CLASS = 7_260_421;

/** Where the database is, for messages: host, port and database, never the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname || '/'}`;
  } catch {
    return 'the database in IDV_DATABASE_URL';
  }
}

/** An operator-readable StoreError for a failure to reach, sign in to or migrate the database. */
export function explainPg(url: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const where = describeUrl(url);
  const c = classify(e);
  const code = (c as { code?: unknown }).code;
  const original = c instanceof PgFault ? (c.cause as { code?: unknown } | undefined)?.code : code;
  if (original === '28P01' || original === '28000') {
    return new StoreError(`PostgreSQL at ${where} refused the sign-in (${String(original)}): check the user and password in IDV_DATABASE_URL.`, e);
  }
  if (original === '3D000') return new StoreError(`PostgreSQL at ${where}: the database does not exist; create it first (createdb).`, e);
  if (original === '42501') return new StoreError(`PostgreSQL at ${where}: the user may not create tables here (42501); grant it CREATE on the schema.`, e);
  if (c instanceof PgFault) {
    // The fault's code stays on the error, so a statement that finds the store unreachable is a store fault (503).
    return Object.assign(new StoreError(`PostgreSQL at ${where} cannot be reached (${c.code}): is it running, and is IDV_DATABASE_URL right?`, e), { code: c.code });
  }
  return new StoreError(`PostgreSQL at ${where} could not be prepared: ${(e as Error).message ?? String(e)}`, e);
}

/**
 * Runs the migrations that are not yet applied, each in its own transaction, under a session-level advisory lock:
 * two instances starting at once migrate once (the second waits, then finds everything applied). A database written
 * by a newer ID Video (a migration id beyond the newest known here) is refused and left untouched.
 */
export async function migratePostgres(pg: Pg, migrations: Migration[] = postgresMigrations()): Promise<void> {
  const client = await pg.pool.connect().catch((e: unknown) => {
    throw classify(e);
  });
  let locked = false;
  try {
    // Migrations may take longer than the pool's statement timeout on a large database; this session only.
    await client.query(`SET statement_timeout = '10min'`);
    await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [LOCK_CLASS]);
    locked = true;
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`);
    const applied = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.id));
    if (newest > known) {
      throw new StoreError(`The database was written by a newer ID Video (schema ${newest}, this version knows ${known}); not touching it.`);
    }
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.up);
        await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [m.id, m.name, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new StoreError(`PostgreSQL migration ${String(m.id).padStart(3, '0')}-${m.name} failed: ${(e as Error).message}`, e);
      }
    }
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [LOCK_CLASS]).catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
}
