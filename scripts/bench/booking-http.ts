/**
 * Booking through HTTP: bookings/second and p50/p99 latency of `POST /afspraak` (JSON) at 1, 10 and 50 concurrent
 * clients, against the real booking router (lib/booking-pages) on an HTTP server on 127.0.0.1, port 0, on each engine
 * side by side: a temp SQLite file (WAL) and PostgreSQL (a cluster of its own started for the run, with PostgreSQL's
 * durable defaults: fsync, synchronous commit). As in the runtime, the store is the one lib/store gives and the
 * booking flood limits count in it (PostgreSQL: shared counters). The in-process figures are in scripts/bench/booking.ts.
 * PostgreSQL also runs as two instances (`postgres×2`): two stores (two pools) on one database, each behind its own
 * HTTP server with its own booking router, the clients alternating between them as a round-robin balancer does. Both
 * run in this one process (one event loop, this 2-core machine), so the row shows what the shared database and the
 * cross-pool locking cost, not CPU scaling across machines.
 * Bounded: at most BENCH_BOOKINGS requests or BENCH_SECONDS seconds per level. BENCH_ENGINES=sqlite (or postgres, or
 * postgres2) runs one engine; BENCH_LEVELS=50 one level.
 * Run: node scripts/build.js && node dist/scripts/bench/booking-http.js
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import express from 'express';
import { createBookingService } from '../../lib/appointments/booking-service';
import { scheduleOrThrow } from '../../lib/appointments/schedule';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { createBookingRouter } from '../../lib/booking-pages/router';
import { createCsrf } from '../../lib/http/csrf';
import { DEFAULT_BRANDING } from '../../lib/http/layout';
import { createRateLimiter } from '../../lib/http/rate-limit';
import { newToken } from '../../lib/security/tokens';
import { createPostgresStore } from '../../lib/store/postgres';
import { createSqliteStore } from '../../lib/store/sqlite';
import type { Store, StoreEngine } from '../../lib/store/store';
import { createDatabase, startPostgresCluster, type Cluster } from '../../test/support/postgres';

const MAX_REQUESTS = Number(process.env.BENCH_BOOKINGS ?? 2000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,10,50').split(',').map(Number);
type BenchEngine = StoreEngine | 'postgres2';
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres,postgres2').split(',') as BenchEngine[];
const LABEL: Record<BenchEngine, string> = { sqlite: 'sqlite', postgres: 'postgres', postgres2: 'postgres×2' };

interface Row {
  engine: BenchEngine;
  clients: number;
  perSecond: number;
  p50: number;
  p99: number;
  other: string;
  loopP99: number;
  loopMax: number;
  cpuMs: number;
}
const rows: Row[] = [];
let cluster: Cluster | undefined;
let serial = 0;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;
}

/** Fresh stores of the engine (one per instance, on one database), as the runtime opens them; `done` closes them. */
async function freshStores(engine: BenchEngine): Promise<{ stores: Store[]; done: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-booking-http-'));
    const store = createSqliteStore(path.join(dir, 'bench.db'));
    return { stores: [store], done: async () => (await store.close(), fs.rmSync(dir, { recursive: true, force: true })) };
  }
  cluster ??= await startPostgresCluster({ durable: true });
  const url = await createDatabase(cluster, `bench_${process.pid}_${++serial}`);
  const stores = Array.from({ length: engine === 'postgres2' ? 2 : 1 }, () => createPostgresStore({ url, max: Number(process.env.IDV_DATABASE_POOL ?? 10) }));
  for (const s of stores) await s.ready;
  return { stores, done: async () => void (await Promise.all(stores.map((s) => s.close()))) };
}

async function level(engine: BenchEngine, clients: number) {
  const { stores, done } = await freshStores(engine);
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
  const config = checked.config;
  // The instances share the credential secret (as IDV_CREDENTIAL_SECRET makes them do).
  const key = Buffer.from(newToken(), 'utf8');
  const servers: http.Server[] = [];
  const bases: string[] = [];
  for (const store of stores) {
    const service = createBookingService({ store: store.appointments, getSchedule: () => schedule });
    const app = express();
    app.use(
      createBookingRouter({
        config,
        service,
        schedule: () => schedule,
        csrf: createCsrf(key, false),
        hmacKey: key,
        secure: false,
        publicUrl: () => 'http://127.0.0.1',
        branding: () => DEFAULT_BRANDING,
        onEvent: () => undefined,
        log: () => undefined,
        limiter: (name, l) => createRateLimiter({ ...l, store: store.rateLimits(name, l) }),
      }),
    );
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  const base = bases[0];
  try {
    // Slots of the coming months, each offered to ten agents: clients spread over them, with some contention.
    const starts: string[] = [];
    const now = new Date();
    for (let m = 0; m < 6 && starts.length < MAX_REQUESTS; m++) {
      const from = new Date(now.getTime() + (1 + m * 60) * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(now.getTime() + (60 + m * 60) * 86_400_000).toISOString().slice(0, 10);
      const slots = (await (await fetch(`${base}/afspraak/slots?from=${from}&to=${to}`)).json()) as { start: string }[];
      starts.push(...slots.map((s) => s.start));
    }
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const deadline = Date.now() + MAX_SECONDS * 1000;
    // Where a tail comes from: the event loop's own stalls (synchronous work, GC) beside the request latencies, and
    // this process's CPU per booking (server and the load-generating clients alike), which the machine's load does
    // not change much.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < MAX_REQUESTS && Date.now() < deadline) {
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
    const seconds = (performance.now() - t0) / 1000;
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    latencies.sort((a, b) => a - b);
    const booked = statuses.get(201) ?? 0;
    const other = [...statuses].filter(([s]) => s !== 201).map(([s, n]) => `${n}×${s}`).join(' ') || 'none';
    const row = {
      engine,
      clients,
      perSecond: booked / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      other,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
    };
    rows.push(row);
    console.log(
      `${LABEL[engine].padEnd(10)} ${String(clients).padStart(2)} clients: ${String(latencies.length).padStart(5)} requests in ${seconds.toFixed(2)} s, ` +
        `${row.perSecond.toFixed(0).padStart(5)} bookings/s, p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms, ` +
        `event-loop delay p99 ${row.loopP99.toFixed(1)} ms max ${row.loopMax.toFixed(1)} ms, CPU ${row.cpuMs.toFixed(2)} ms/request (other answers: ${other})`,
    );
  } finally {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await done();
  }
}

async function main() {
  console.log(
    `booking over HTTP (POST /afspraak JSON, 10 agents; ≤${MAX_REQUESTS} requests or ${MAX_SECONDS} s per level; Node ${process.version}, ` +
      `${os.cpus().length} cores; SQLite WAL in ${os.tmpdir()}, PostgreSQL durable defaults on loopback)`,
  );
  try {
    for (const engine of ENGINES) for (const clients of LEVELS) await level(engine, clients);
  } finally {
    cluster?.stop();
  }
  console.log(`\nside by side (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  console.log('                      bookings/s      p50 ms      p99 ms   loop p99 ms   CPU ms/req');
  for (const clients of LEVELS) {
    for (const engine of ENGINES) {
      const r = rows.find((x) => x.engine === engine && x.clients === clients);
      if (r) {
        console.log(
          `${LABEL[engine].padEnd(10)} ${String(clients).padStart(2)} clients ${r.perSecond.toFixed(0).padStart(10)} ${r.p50.toFixed(1).padStart(11)} ` +
            `${r.p99.toFixed(1).padStart(11)} ${r.loopP99.toFixed(1).padStart(13)} ${r.cpuMs.toFixed(2).padStart(12)}`,
        );
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
