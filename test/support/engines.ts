import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool, types } from 'pg';
import { createPostgresStore } from '../../lib/store/postgres';
import { createSqliteStore, sqliteHandleOf } from '../../lib/store/sqlite';
import type { Store, StoreEngine } from '../../lib/store/store';
import { freshDatabase, testCluster } from './postgres';

/**
 * The repository test suite runs once per engine: `forEachEngine('appointments', (engine) => { … })` declares the
 * same tests for SQLite and for PostgreSQL (the run's own cluster, test/support/postgres.ts). A test gets a fresh,
 * migrated store per `engine.open()` and looks at rows or injects faults through the same small helpers on both.
 */
export interface EngineUnderTest {
  name: StoreEngine;
  /** A fresh, empty, migrated store on a database of its own. */
  open(): Promise<TestStore>;
}

export interface TestStore {
  store: Store;
  engine: StoreEngine;
  /** PostgreSQL: the connection URL of this test's database (its own schema). */
  url?: string;
  /** A second store on the same database: another connection (SQLite) or pool (PostgreSQL), as a second process has. */
  another(): Promise<Store>;
  /** Rows of a query with `?` placeholders (numbered for PostgreSQL). Counts come back as numbers on both. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first row's column `n` (e.g. `SELECT count(*) AS n …`). */
  count(sql: string, ...params: unknown[]): Promise<number>;
  exec(sql: string, ...params: unknown[]): Promise<void>;
  /**
   * Makes the store's writes to `table` fail with "injected fault" while `when` (SQL over NEW) holds; `event` is
   * 'INSERT' or e.g. 'UPDATE OF state'. Resolves to the function that removes the fault.
   */
  failWhen(table: string, event: string, when?: string): Promise<() => Promise<void>>;
  /** Closes every store it made and removes the database. */
  close(): Promise<void>;
}

const numbered = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

async function openSqlite(): Promise<TestStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-store-'));
  const file = path.join(dir, 'idvideo.sqlite');
  const store = createSqliteStore(file);
  const made: Store[] = [store];
  const db = sqliteHandleOf(store)!;
  let faults = 0;
  return {
    store,
    engine: 'sqlite',
    async another() {
      const s = createSqliteStore(file);
      made.push(s);
      return s;
    },
    async rows<T>(sql: string, ...params: unknown[]) {
      return db.prepare(sql).all(...params) as T[];
    },
    async count(sql, ...params) {
      return (db.prepare(sql).get(...params) as { n: number }).n;
    },
    async exec(sql, ...params) {
      if (params.length) db.prepare(sql).run(...params);
      else db.exec(sql);
    },
    async failWhen(table, event, when = '1') {
      // A TEMP trigger lives on the store's own connection only: exactly the writes under test fail.
      const name = `fault_${++faults}`;
      db.exec(`CREATE TEMP TRIGGER ${name} BEFORE ${event} ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
      return async () => void db.exec(`DROP TRIGGER ${name}`);
    },
    async close() {
      for (const s of made) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** int8 (count(*), bigint ids) as numbers in the tests' own queries, as SQLite gives them. */
export const testTypes = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format as 'text'))) as typeof types.getTypeParser,
};

/**
 * Schemas of closed test stores, emptied and ready to be used again: migrating a new schema costs a few hundred
 * milliseconds per test, emptying one (TRUNCATE … RESTART IDENTITY, the tables as migrated) a few. A schema a test
 * could not empty cleanly is not reused.
 */
const spareSchemas: string[] = [];

/** Empties a test schema back to "freshly migrated": every table but schema_migrations, identities from 1. */
async function emptySchema(pool: Pool, faults: Iterable<{ name: string; table: string }>): Promise<void> {
  for (const f of faults) {
    await pool.query(`DROP TRIGGER IF EXISTS ${f.name} ON ${f.table}`);
    await pool.query(`DROP FUNCTION IF EXISTS ${f.name}()`);
  }
  const tables = (await pool.query<{ t: string }>(`SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`)).rows;
  if (tables.length) await pool.query(`TRUNCATE ${tables.map((r) => r.t).join(', ')} RESTART IDENTITY CASCADE`);
}

async function openPostgres(): Promise<TestStore> {
  const url = spareSchemas.pop() ?? (await freshDatabase('store'));
  const store = createPostgresStore({ url, max: 5 });
  await store.ready;
  const made: Store[] = [store];
  const pool = new Pool({ connectionString: url, max: 2, types: testTypes });
  let faults = 0;
  const live = new Map<string, { name: string; table: string }>();
  return {
    store,
    engine: 'postgres',
    url,
    async another() {
      const s = createPostgresStore({ url, max: 5 });
      await s.ready;
      made.push(s);
      return s;
    },
    async rows<T>(sql: string, ...params: unknown[]) {
      return (await pool.query(numbered(sql), params)).rows as T[];
    },
    async count(sql, ...params) {
      return Number((await pool.query(numbered(sql), params)).rows[0].n);
    },
    async exec(sql, ...params) {
      await pool.query(numbered(sql), params);
    },
    async failWhen(table, event, when = 'true') {
      const name = `fault_${++faults}`;
      await pool.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
      await pool.query(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
      live.set(name, { name, table });
      return async () => {
        await pool.query(`DROP TRIGGER ${name} ON ${table}`);
        await pool.query(`DROP FUNCTION ${name}()`);
        live.delete(name);
      };
    },
    async close() {
      for (const s of made) await s.close();
      try {
        await emptySchema(pool, live.values());
        spareSchemas.push(url);
      } catch {
        // Left as it is (the cluster goes at the end of the run); the next test gets a new schema.
      }
      await pool.end();
    },
  };
}

export const ENGINES: readonly EngineUnderTest[] = [
  { name: 'sqlite', open: openSqlite },
  { name: 'postgres', open: openPostgres },
];

/**
 * The engines this run tests: IDV_TEST_ENGINES (comma-separated; default both). The full run tests both; the runtime
 * set on a second Node.js version (scripts/test-files.js) sets `sqlite`, since the PostgreSQL driver is plain
 * JavaScript and the PostgreSQL suites prove nothing more there. Deselected suites show as pending, never vanish.
 */
export const TESTED_ENGINES: ReadonlySet<StoreEngine> = (() => {
  const raw = (process.env.IDV_TEST_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim()).filter(Boolean);
  const bad = raw.filter((e) => !ENGINES.some((x) => x.name === e));
  if (bad.length || raw.length === 0) throw new Error(`IDV_TEST_ENGINES must list sqlite and/or postgres, not ${JSON.stringify(process.env.IDV_TEST_ENGINES)}`);
  return new Set(raw as StoreEngine[]);
})();

/**
 * The reason a deselected engine's suite is skipped, added to its title: `describe.skip` alone shows only pending
 * tests, and a skip must say why in the output (as test/support/skip.ts `skipBecause` does for a single test). The
 * title carries it, so the spec reporter prints it once per suite and every pending test's full title (JSON reporter)
 * names it. Not a `before` hook with `skipBecause`: the suites' own `after` hooks would then run on fixtures their
 * skipped `before` hooks never made.
 */
export function deselectedBecause(engine: StoreEngine): string {
  return `(skipped: IDV_TEST_ENGINES=${process.env.IDV_TEST_ENGINES ?? ''} leaves ${engine === 'postgres' ? 'PostgreSQL' : 'SQLite'} out; the full run tests it)`;
}

/** `describe` for one engine: as is when this run tests it, else skipped with the reason in its title. */
function describeFor(engine: StoreEngine): (title: string, fn: (this: Mocha.Suite) => void) => Mocha.Suite | void {
  if (TESTED_ENGINES.has(engine)) return describe;
  return (title, fn) => describe.skip(`${title} ${deselectedBecause(engine)}`, fn);
}

/** `describe` for suites that need PostgreSQL itself (several instances on one database); pending, with the reason, when deselected. */
export const describeOnPostgres = describeFor('postgres');

/** Declares the suite once per engine: `describe('<title> [sqlite]')` and `describe('<title> [postgres]')`. */
export function forEachEngine(title: string, suite: (engine: EngineUnderTest) => void): void {
  for (const engine of ENGINES) {
    describeFor(engine.name)(`${title} [${engine.name}]`, () => {
      if (engine.name === 'postgres') {
        // The first PostgreSQL suite of a run starts the cluster (pg_ctl waits at most 30 s); the tests keep their own
        // timeouts.
        before(async function () {
          this.timeout(60_000);
          await testCluster();
        });
      }
      suite(engine);
    });
  }
}
