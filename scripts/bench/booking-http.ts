/**
 * Booking through HTTP: bookings/second and p50/p95/p99 latency of `POST /afspraak` (JSON) at 1, 10 and 50 concurrent
 * clients, against the real booking router (lib/booking-pages) on each engine side by side: a temp SQLite file (WAL)
 * and PostgreSQL (a cluster of its own started for the run, with PostgreSQL's durable defaults: fsync, synchronous
 * commit), each as one instance and as two. As in the runtime, the store is the one lib/store gives and the booking
 * flood limits count in it (PostgreSQL: shared counters). The in-process figures are in scripts/bench/booking.ts.
 *
 * Every instance is a server process of its own (this file run with `--server`), as in production; this process only
 * generates the load (the clients alternate between the instances, as a round-robin balancer does). So the figures
 * that do not depend on how busy the machine is come from the servers alone:
 * - CPU ms per request: user + system time of the server processes over the measured requests;
 * - queries per booking: statements executed per request (PostgreSQL: each is one round trip to the server; SQLite:
 *   statements run on the one connection, transactions' BEGIN/COMMIT not counted);
 * - event-loop delay p99/max of the servers (perf_hooks.monitorEventLoopDelay): what synchronous work or GC adds to
 *   every request that waits behind it.
 * A warm-up of BENCH_WARMUP requests (default 200, at most 2 s) runs before each measured level, on other slots.
 *
 * Bounded: at most BENCH_BOOKINGS requests or BENCH_SECONDS seconds per level. BENCH_ENGINES picks rows (sqlite,
 * sqlite2, postgres, postgres2), BENCH_LEVELS the client counts (default 1,10,50). BENCH_CPU_PROF=<dir> writes a V8
 * CPU profile of each server process there (node --cpu-prof), for chrome://inspect or `scripts/bench/profile-top.js`.
 * Run: npm run bench -- booking-http   (or: node scripts/build.js && node dist/scripts/bench/booking-http.js)
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import express from 'express';
import pg from 'pg';
import { createBookingService } from '../../lib/appointments/booking-service';
import { scheduleOrThrow } from '../../lib/appointments/schedule';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { createBookingRouter } from '../../lib/booking-pages/router';
import { createCsrf } from '../../lib/http/csrf';
import { DEFAULT_BRANDING } from '../../lib/http/layout';
import { createRateLimiter, useClientKeySecret } from '../../lib/http/rate-limit';
import { createPostgresStore } from '../../lib/store/postgres';
import { createSqliteStore } from '../../lib/store/sqlite';
import { createDatabase, startPostgresCluster, type Cluster } from '../../test/support/postgres';

const MAX_REQUESTS = Number(process.env.BENCH_BOOKINGS ?? 2000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,10,50').split(',').map(Number);
type BenchEngine = 'sqlite' | 'sqlite2' | 'postgres' | 'postgres2';
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,sqlite2,postgres,postgres2').split(',') as BenchEngine[];
const LABEL: Record<BenchEngine, string> = { sqlite: 'sqlite', sqlite2: 'sqlite×2', postgres: 'postgres', postgres2: 'postgres×2' };
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

/** What the parent tells a server process how to open its store. */
interface ServerConfig {
  engine: 'sqlite' | 'postgres';
  /** SQLite file or PostgreSQL URL. */
  where: string;
  /** The credential secret the instances share (hex). */
  key: string;
}

/** A server's own figures over the measured window. */
interface ServerFigures {
  cpuMs: number;
  loopP99: number;
  loopMax: number;
  queries: number;
}

type ToServer = { cmd: 'start' } | { cmd: 'stop' } | { cmd: 'exit' };
type FromServer = { port: number } | ({ figures: true } & ServerFigures);

// ---------------------------------------------------------------------------------------------------------------
// Server side: one instance, as the runtime composes the booking router.

/** Counts statements: every pg Client.query (one round trip each) or better-sqlite3 statement execution. */
function countQueries(engine: ServerConfig['engine']): () => number {
  let n = 0;
  if (engine === 'postgres') {
    const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
    const original = proto.query;
    proto.query = function (this: unknown, ...a: unknown[]) {
      n++;
      return original.apply(this, a);
    };
  } else {
    const probe = new Database(':memory:');
    const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
    probe.close();
    for (const m of ['run', 'get', 'all', 'iterate']) {
      const original = proto[m];
      proto[m] = function (this: unknown, ...a: unknown[]) {
        n++;
        return original.apply(this, a);
      };
    }
  }
  return () => n;
}

async function serve(c: ServerConfig): Promise<void> {
  const queries = countQueries(c.engine);

  const key = Buffer.from(c.key, 'hex');
  useClientKeySecret(key);
  const store = c.engine === 'sqlite' ? createSqliteStore(c.where) : createPostgresStore({ url: c.where, max: Number(process.env.IDV_DATABASE_POOL ?? 10) });
  await store.ready;
  const day = [{ from: '08:00', to: '18:00' }];
  const schedule = scheduleOrThrow({
    openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
    slotMinutes: 10,
    minNoticeMinutes: 0,
    horizonDays: 366,
    dutchHolidays: false,
    agents: Array.from({ length: 10 }, (_, i) => ({ username: `agent${i + 1}`, displayName: `Agent ${i + 1}` })),
  });
  const checked = validateBookingPageConfig({ mode: 'resident', path: '/afspraak', topics: ['Paspoort aanvragen'], limitPerIp: 100_000, limitPerEmail: 100_000 });
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  const service = createBookingService({ store: store.appointments, getSchedule: () => schedule });
  const app = express();
  app.use(
    createBookingRouter({
      config: checked.config,
      service,
      schedule: () => schedule,
      csrf: createCsrf(key, false),
      hmacKey: key,
      secure: false,
      publicUrl: () => 'http://127.0.0.1',
      branding: () => DEFAULT_BRANDING,
      onEvent: () => undefined,
      log: (m) => console.error(m),
      limiter: (name, l) => createRateLimiter({ ...l, store: store.rateLimits(name, l) }),
    }),
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let cpu0 = process.cpuUsage();
  let q0 = 0;
  const send = (m: FromServer) => process.send?.(m);
  process.on('message', (m: ToServer) => {
    if (m.cmd === 'start') {
      loop.reset();
      loop.enable();
      cpu0 = process.cpuUsage();
      q0 = queries();
    } else if (m.cmd === 'stop') {
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      send({ figures: true, cpuMs: (cpu.user + cpu.system) / 1000, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, queries: queries() - q0 });
    } else if (m.cmd === 'exit') {
      server.closeAllConnections();
      server.close(() => void store.close().then(() => process.exit(0)));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ port: (server.address() as AddressInfo).port });
}

// ---------------------------------------------------------------------------------------------------------------
// Load side.

interface Row {
  engine: BenchEngine;
  clients: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  other: string;
  loopP99: number;
  loopMax: number;
  cpuMs: number;
  clientCpuMs: number;
  queries: number;
}
const rows: Row[] = [];
let cluster: Cluster | undefined;
let serial = 0;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;
}

interface Instance {
  child: ChildProcess;
  base: string;
  ask(m: ToServer): void;
  next<T extends FromServer>(): Promise<T>;
}

function startInstance(config: ServerConfig, tag: string): Promise<Instance> {
  const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${tag}.cpuprofile`] : [];
  const child = fork(__filename, ['--server'], { env: { ...process.env, BENCH_SERVER: JSON.stringify(config) }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: ((m: FromServer) => void)[] = [];
  child.on('message', (m: FromServer) => waiting.shift()?.(m));
  const next = <T extends FromServer>() =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`instance ${tag} did not answer within 60 s`)), 60_000);
      waiting.push((m) => (clearTimeout(t), resolve(m as T)));
    });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`instance ${tag} ended (${code}) before it listened`))));
  exited.catch(() => undefined);
  return Promise.race([next<{ port: number }>(), exited]).then(({ port }) => ({
    child,
    base: `http://127.0.0.1:${port}`,
    ask: (m: ToServer) => void child.send(m),
    next,
  }));
}

async function stopInstance(i: Instance): Promise<void> {
  const gone = new Promise<void>((resolve) => i.child.once('exit', () => resolve()));
  i.ask({ cmd: 'exit' });
  const t = setTimeout(() => i.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/** The instances of a row on one fresh database (the first one migrates it before the second starts). */
async function startInstances(engine: BenchEngine, clients: number): Promise<{ instances: Instance[]; done: () => Promise<void>; url?: string }> {
  const key = randomBytes(32).toString('hex');
  const count = engine.endsWith('2') ? 2 : 1;
  let where: string;
  let cleanup = async () => undefined as void;
  if (engine.startsWith('sqlite')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-booking-http-'));
    where = path.join(dir, 'bench.db');
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    cluster ??= await startPostgresCluster({ durable: true });
    where = await createDatabase(cluster, `bench_${process.pid}_${++serial}`);
  }
  const instances: Instance[] = [];
  try {
    for (let n = 0; n < count; n++) {
      instances.push(await startInstance({ engine: engine.startsWith('sqlite') ? 'sqlite' : 'postgres', where, key }, `${engine}-${clients}-${n + 1}`));
    }
  } catch (e) {
    await Promise.all(instances.map(stopInstance));
    await cleanup();
    throw e;
  }
  return {
    instances,
    done: async () => (await Promise.all(instances.map(stopInstance)), await cleanup()),
    url: engine.startsWith('postgres') ? where : undefined,
  };
}

/**
 * Samples what the database's busy sessions wait for (pg_stat_activity, every 20 ms) while the level runs: sessions
 * waiting on a lock are bookings queued behind each other, whatever the machine's load; "IO" is mostly the WAL flush.
 */
function sampleWaits(url: string): { stop: () => Promise<string> } {
  const client = new pg.Client({ connectionString: url });
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ w: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') AS w, count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1`,
      );
      samples++;
      for (const r of rows) counts.set(r.w, (counts.get(r.w) ?? 0) + r.n);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
      const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${(n / Math.max(1, samples)).toFixed(1)}`);
      return parts.length ? parts.join(', ') : 'none';
    },
  };
}

async function level(engine: BenchEngine, clients: number) {
  const { instances, done, url } = await startInstances(engine, clients);
  const bases = instances.map((i) => i.base);
  try {
    // Slots of the coming months, each offered to ten agents: clients spread over them, with some contention.
    const starts: string[] = [];
    const now = new Date();
    for (let m = 0; m < 6 && starts.length < (MAX_REQUESTS + WARMUP) / 3 + 1; m++) {
      const from = new Date(now.getTime() + (1 + m * 60) * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(now.getTime() + (60 + m * 60) * 86_400_000).toISOString().slice(0, 10);
      const slots = (await (await fetch(`${bases[0]}/afspraak/slots?from=${from}&to=${to}`)).json()) as { start: string }[];
      starts.push(...slots.map((s) => s.start));
    }
    let next = 0;
    /** Runs `count` bookings (or until the deadline) over `clients` connections; three requests ask for each slot. */
    const run = async (count: number, seconds: number, latencies: number[], statuses: Map<number, number>) => {
      const deadline = Date.now() + seconds * 1000;
      const end = next + count;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < end && Date.now() < deadline) {
            const i = next++;
            const body = JSON.stringify({ start: starts[Math.floor(i / 3) % starts.length], name: `Bench ${i}`, email: `bench${i}@example.nl` });
            const t = performance.now();
            const res = await fetch(`${bases[i % bases.length]}/afspraak`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
            await res.arrayBuffer();
            latencies.push(performance.now() - t);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
    };
    // Warm-up (JIT, prepared statements, pools), then the measured window with every server's counters reset.
    await run(WARMUP, Math.min(2, MAX_SECONDS), [], new Map());
    for (const i of instances) i.ask({ cmd: 'start' });
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const waits = url ? sampleWaits(url) : undefined;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(MAX_REQUESTS, MAX_SECONDS, latencies, statuses);
    const seconds = (performance.now() - t0) / 1000;
    const waited = await waits?.stop();
    const clientCpu = process.cpuUsage(cpu0);
    const figures = await Promise.all(
      instances.map(async (i) => {
        const answer = i.next<{ figures: true } & ServerFigures>();
        i.ask({ cmd: 'stop' });
        return answer;
      }),
    );
    latencies.sort((a, b) => a - b);
    const booked = statuses.get(201) ?? 0;
    const n = Math.max(1, latencies.length);
    const other = [...statuses].filter(([s]) => s !== 201).map(([s, k]) => `${k}×${s}`).join(' ') || 'none';
    const row: Row = {
      engine,
      clients,
      perSecond: booked / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      other,
      loopP99: Math.max(...figures.map((f) => f.loopP99)),
      loopMax: Math.max(...figures.map((f) => f.loopMax)),
      cpuMs: figures.reduce((s, f) => s + f.cpuMs, 0) / n,
      clientCpuMs: (clientCpu.user + clientCpu.system) / 1000 / n,
      queries: figures.reduce((s, f) => s + f.queries, 0) / n,
    };
    rows.push(row);
    console.log(
      `${LABEL[engine].padEnd(10)} ${String(clients).padStart(2)} clients: ${String(latencies.length).padStart(5)} requests in ${seconds.toFixed(2)} s, ` +
        `${row.perSecond.toFixed(0)} bookings/s, p50 ${row.p50.toFixed(1)} p95 ${row.p95.toFixed(1)} p99 ${row.p99.toFixed(1)} ms, ` +
        `server loop delay p99 ${row.loopP99.toFixed(1)} max ${row.loopMax.toFixed(1)} ms, server CPU ${row.cpuMs.toFixed(2)} ms/request ` +
        `(load generator ${row.clientCpuMs.toFixed(2)}), ${row.queries.toFixed(1)} queries/request (other answers: ${other})` +
        (waited ? `\n           database sessions on average: ${waited}` : ''),
    );
  } finally {
    await done();
  }
}

async function main() {
  const started = Date.now();
  console.log(
    `booking over HTTP (POST /afspraak JSON, 10 agents, each instance a process of its own; ≤${MAX_REQUESTS} requests or ${MAX_SECONDS} s per level ` +
      `after ${WARMUP} warm-up requests; Node ${process.version}, ${os.cpus().length} cores; SQLite WAL in ${os.tmpdir()}, PostgreSQL durable defaults on loopback)`,
  );
  if (PROFILE_DIR) fs.mkdirSync(PROFILE_DIR, { recursive: true });
  try {
    for (const engine of ENGINES) for (const clients of LEVELS) await level(engine, clients);
  } finally {
    cluster?.stop();
  }
  console.log(`\nside by side (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; run took ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log('                      bookings/s   p50 ms   p95 ms   p99 ms  loop p99 ms  server CPU ms/req  queries/booking');
  for (const clients of LEVELS) {
    for (const engine of ENGINES) {
      const r = rows.find((x) => x.engine === engine && x.clients === clients);
      if (r) {
        console.log(
          `${LABEL[engine].padEnd(10)} ${String(clients).padStart(2)} clients ${r.perSecond.toFixed(0).padStart(10)} ${r.p50.toFixed(1).padStart(8)} ` +
            `${r.p95.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.loopP99.toFixed(1).padStart(12)} ${r.cpuMs.toFixed(2).padStart(18)} ${r.queries.toFixed(1).padStart(16)}`,
        );
      }
    }
  }
  if (PROFILE_DIR) console.log(`\nCPU profiles of the servers: ${PROFILE_DIR}`);
}

if (process.argv.includes('--server')) {
  serve(JSON.parse(process.env.BENCH_SERVER as string) as ServerConfig).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
