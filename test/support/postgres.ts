import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * One PostgreSQL cluster per test run, from Debian's `postgresql` package (scripts/ensure-test-deps.js installs it):
 * initdb in a temp dir, listening on 127.0.0.1 on a free port and on a socket in that dir, trust authentication for
 * loopback only. PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user the package
 * creates (runuser). Started on the first `freshDatabase()` of the run, removed on every way the process ends (mocha's
 * exit, SIGINT, SIGTERM, an uncaught error). Each caller gets its own database in it, so test files never share
 * rows. If the cluster cannot be started the caller fails with the reason: there is no silent skip.
 *
 * Settings are for speed (fsync off, no full page writes): a test cluster is thrown away. The booking benchmark
 * starts its own with the durable defaults (scripts/bench/pg-cluster.ts).
 */

export interface Cluster {
  /** postgres://idv@127.0.0.1:<port>/postgres */
  adminUrl: string;
  port: number;
  dir: string;
  /** The server's log file (for a failure message). */
  logFile: string;
  stop(): void;
}

const START_TIMEOUT_S = 30;
let started: Promise<Cluster> | undefined;
const running = new Set<Cluster>();
let serial = 0;
let exitHooked = false;

/** The directory of Debian's PostgreSQL programs (newest version), or IDV_PG_BINDIR. */
export function postgresBinDir(): string | undefined {
  if (process.env.IDV_PG_BINDIR) return process.env.IDV_PG_BINDIR;
  const root = '/usr/lib/postgresql';
  try {
    const versions = fs
      .readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(root, versions[0], 'bin');
  } catch {
    /* not installed */
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  return which.status === 0 ? path.dirname(which.stdout.trim()) : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program as the unprivileged user (root) or as ourselves. */
function runAs(user: string | undefined, bin: string, args: string[], timeoutMs: number): SpawnSyncReturns<string> {
  const [cmd, argv] = user ? ['runuser', ['-u', user, '--', bin, ...args]] : [bin, args];
  return spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs, cwd: '/' });
}

function explain(step: string, r: SpawnSyncReturns<string>, logFile?: string): Error {
  let log = '';
  try {
    if (logFile) log = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    /* no log yet */
  }
  const why = r.error ? r.error.message : `exit ${r.status}`;
  return new Error(
    `PostgreSQL for the tests could not be started (${step}: ${why}).\n${(r.stderr || '').trim()}\n${log}\n` +
      'Install Debian\'s postgresql package (scripts/ensure-test-deps.js does so as root: `node scripts/ensure-test-deps.js`).',
  );
}

export interface ClusterOptions {
  /**
   * PostgreSQL's durable defaults (fsync, full page writes, synchronous commit) instead of the test settings: what a
   * benchmark must measure.
   */
  durable?: boolean;
  /** max_connections (default 300). */
  maxConnections?: number;
}

/**
 * Starts a cluster of its own (initdb in a temp dir, loopback only); stopped and removed by `stop()` or when the
 * process ends. Tests share one per run through testCluster(); a benchmark starts its own durable one.
 */
export async function startPostgresCluster(o: ClusterOptions = {}): Promise<Cluster> {
  stopOnExit();
  return startCluster(o);
}

async function startCluster(o: ClusterOptions = {}): Promise<Cluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL for the tests is not installed: run `node scripts/ensure-test-deps.js` (installs Debian's postgresql) or `apt-get install postgresql`");
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const user = root ? (process.env.IDV_PG_USER ?? 'postgres') : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (user) {
    const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error(`PostgreSQL refuses to run as root and there is no "${user}" user: install Debian's postgresql package (it creates one) or set IDV_PG_USER`);
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    fs.chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  const cluster: Cluster = {
    adminUrl: `postgres://idv@127.0.0.1:${port}/postgres`,
    port,
    dir,
    logFile,
    stop() {
      if (!running.has(cluster)) return;
      running.delete(cluster);
      // Immediate: the data is thrown away; a smart shutdown would wait for pools the tests forgot.
      runAs(user, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], 15_000);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  const init = runAs(user, path.join(bin, 'initdb'), ['-D', data, '-U', 'idv', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], 60_000);
  if (init.status !== 0) {
    cluster.stop();
    throw explain('initdb', init);
  }
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    ...(o.durable ? [] : ['-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off']),
    `-c max_connections=${o.maxConnections ?? 300}`,
    '-c shared_buffers=64MB',
  ].join(' ');
  const start = runAs(user, path.join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-o', options, '-w', '-t', String(START_TIMEOUT_S), 'start'], (START_TIMEOUT_S + 5) * 1000);
  if (start.status !== 0) {
    const err = explain('pg_ctl start', start, logFile);
    cluster.stop();
    throw err;
  }
  return cluster;
}

function stopAll(): void {
  for (const c of [...running]) c.stop();
}

function stopOnExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(130);
    });
  }
}

/** The run's cluster, started on first use (bounded: 30 s). */
export function testCluster(): Promise<Cluster> {
  if (!started) {
    stopOnExit();
    started = startCluster();
  }
  return started;
}

/** A new database in a cluster; returns its URL. */
export async function createDatabase(cluster: Cluster, name: string): Promise<string> {
  const admin = new Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '_')}"`);
  } finally {
    await admin.end();
  }
  return `postgres://idv@127.0.0.1:${cluster.port}/${name.replace(/[^a-z0-9_]/g, '_')}`;
}

let database: Promise<string> | undefined;

/**
 * A new, empty schema in the run's test database, as a connection URL whose search_path is that schema: for the
 * store under test it is a database of its own (its tables, its schema_migrations). A schema costs a millisecond, a
 * CREATE DATABASE half a second, so every test can start empty. Nothing is migrated: the store under test does that,
 * as it does at a real start. The whole cluster goes at the end of the run.
 */
export async function freshDatabase(prefix = 'idv'): Promise<string> {
  const cluster = await testCluster();
  database ??= createDatabase(cluster, `idv_test_${process.pid}`);
  const base = await database;
  const schema = `${prefix.replace(/[^a-z0-9_]/g, '_')}_${++serial}`;
  const c = new Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await c.end();
  }
  return `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}
