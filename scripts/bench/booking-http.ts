/**
 * Booking through HTTP: bookings/second and p50/p99 latency of `POST /afspraak` (JSON) at 1, 10 and 50 concurrent
 * clients, against the real booking router (lib/booking-pages) on an HTTP server on 127.0.0.1, port 0, with a temp
 * SQLite file (WAL). The in-process figures without HTTP are in scripts/bench/booking.ts.
 * Bounded: at most BENCH_BOOKINGS requests or BENCH_SECONDS seconds per level.
 * Run: node scripts/build.js && node dist/scripts/bench/booking-http.js
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import express from 'express';
import { createBookingService } from '../../lib/appointments/booking-service';
import { scheduleOrThrow } from '../../lib/appointments/schedule';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { createBookingRouter } from '../../lib/booking-pages/router';
import { createCsrf } from '../../lib/http/csrf';
import { DEFAULT_BRANDING } from '../../lib/http/layout';
import { openDatabase } from '../../lib/store/db';
import { createSqliteAppointmentStore } from '../../lib/store/sqlite/appointments';
import { newToken } from '../../lib/security/tokens';

const MAX_REQUESTS = Number(process.env.BENCH_BOOKINGS ?? 2000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LEVELS = [1, 10, 50];

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;
}

async function level(clients: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-booking-http-'));
  const db = openDatabase(path.join(dir, 'bench.db'));
  const day = [{ from: '08:00', to: '18:00' }];
  const schedule = scheduleOrThrow({
    openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
    slotMinutes: 10,
    minNoticeMinutes: 0,
    horizonDays: 366,
    dutchHolidays: false,
    agents: Array.from({ length: 10 }, (_, i) => ({ username: `agent${i + 1}`, displayName: `Agent ${i + 1}` })),
  });
  const service = createBookingService({ store: createSqliteAppointmentStore(db), getSchedule: () => schedule });
  const checked = validateBookingPageConfig({ mode: 'resident', path: '/afspraak', topics: ['Paspoort aanvragen'], limitPerIp: 100_000, limitPerEmail: 100_000 });
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  const key = Buffer.from(newToken(), 'utf8');
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
      log: () => undefined,
    }),
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < MAX_REQUESTS && Date.now() < deadline) {
          const i = next++;
          const body = JSON.stringify({ start: starts[Math.floor(i / 3) % starts.length], name: `Bench ${i}`, email: `bench${i}@example.nl` });
          const t = performance.now();
          const res = await fetch(`${base}/afspraak`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
          await res.arrayBuffer();
          latencies.push(performance.now() - t);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const booked = statuses.get(201) ?? 0;
    const other = [...statuses].filter(([s]) => s !== 201).map(([s, n]) => `${n}×${s}`).join(' ') || 'none';
    console.log(
      `${String(clients).padStart(2)} clients: ${String(latencies.length).padStart(5)} requests in ${seconds.toFixed(2)} s, ` +
        `${(booked / seconds).toFixed(0).padStart(5)} bookings/s, p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(2)} ms (other answers: ${other})`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`booking over HTTP (POST /afspraak JSON, SQLite WAL, 10 agents; ≤${MAX_REQUESTS} requests or ${MAX_SECONDS} s per level)`);
  for (const clients of LEVELS) await level(clients);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
