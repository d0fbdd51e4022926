/**
 * Booking benchmark: bookings/second and latency through the booking service on a temp SQLite file (WAL), at 1, 10 and
 * 50 concurrent clients; the last-slot race; and the slots query for a 30-day horizon with 20 agents.
 * Bounded: at most BOOKINGS_PER_LEVEL bookings or SECONDS_PER_LEVEL seconds per level.
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/booking.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { parseBookingInput } from '../../lib/appointments/booking-input';
import { createBookingService, type BookingService } from '../../lib/appointments/booking-service';
import { scheduleOrThrow, type Schedule } from '../../lib/appointments/schedule';
import { computeSlots } from '../../lib/appointments/slots';
import { isUserError } from '../../lib/errors';
import { createSqliteStore } from '../../lib/store/sqlite';
import type { Store } from '../../lib/store/store';
import { toPublicIso } from '../../lib/time';

const BOOKINGS_PER_LEVEL = Number(process.env.BENCH_BOOKINGS ?? 3000);
const SECONDS_PER_LEVEL = Number(process.env.BENCH_SECONDS ?? 8);
const LEVELS = [1, 10, 50];
const NOW = DateTime.fromISO('2026-11-30T08:00:00Z');

function agents(n: number) {
  return Array.from({ length: n }, (_, i) => ({ username: `agent${i + 1}`, displayName: `Agent ${i + 1}` }));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function withDatabase<T>(fn: (db: Store) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-booking-'));
  const store = createSqliteStore(path.join(dir, 'bench.db'));
  return fn(store).finally(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

function serviceFor(db: Store, schedule: Schedule): BookingService {
  return createBookingService({ store: db.appointments, getSchedule: () => schedule, now: () => NOW });
}

async function throughput(clients: number) {
  // Every day 08:00-18:00, 10-minute slots, 10 agents: plenty of places, with some contention between clients.
  const day = [{ from: '08:00', to: '18:00' }];
  const schedule = scheduleOrThrow({
    openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
    slotMinutes: 10,
    minNoticeMinutes: 0,
    horizonDays: 366,
    dutchHolidays: false,
    agents: agents(10),
  });
  const starts = computeSlots(schedule, { from: '2026-12-01', to: '2027-06-30', now: NOW, held: [] }).map((s) => toPublicIso(s.start));
  return withDatabase(async (db) => {
    const service = serviceFor(db, schedule);
    const latencies: number[] = [];
    let next = 0;
    let conflicts = 0;
    const deadline = Date.now() + SECONDS_PER_LEVEL * 1000;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < deadline) {
          const i = next++;
          if (i >= BOOKINGS_PER_LEVEL) return;
          // Three bookings share each slot, so concurrent clients often claim the same slot for different agents.
          const start = starts[Math.floor(i / 3) % starts.length];
          const s = process.hrtime.bigint();
          try {
            const input = parseBookingInput(
              { start, name: `Inwoner ${i}`, email: `inwoner${i}@example.nl` },
              { topics: ['algemeen'] },
            );
            await service.book(input, { channel: 'website' });
          } catch (e) {
            if (isUserError(e) && e.status === 409) conflicts++;
            else throw e;
          }
          latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    latencies.sort((a, b) => a - b);
    // Every answer that is not a 409 is a new booking (each client's e-mail addresses are its own).
    const booked = latencies.length - conflicts;
    return { clients, requests: latencies.length, booked, conflicts, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  });
}

async function lastSlotRace() {
  const schedule = scheduleOrThrow({
    openingHours: { tue: [{ from: '09:00', to: '17:00' }] },
    slotMinutes: 30,
    minNoticeMinutes: 0,
    agents: agents(1),
  });
  return withDatabase(async (db) => {
    const service = serviceFor(db, schedule);
    const input = (i: number) =>
      parseBookingInput({ start: '2026-12-01T10:00:00+01:00', name: 'R', email: `r${i}@example.nl` }, { topics: ['x'] });
    const t0 = process.hrtime.bigint();
    const rs = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => service.book(input(i), { channel: 'website' })));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return {
      ok: rs.filter((r) => r.status === 'fulfilled').length,
      conflicts: rs.filter((r) => r.status === 'rejected' && isUserError(r.reason) && r.reason.status === 409).length,
      ms,
    };
  });
}

async function slotsQuery() {
  const week = [{ from: '09:00', to: '12:30' }, { from: '13:00', to: '17:00' }];
  const schedule = scheduleOrThrow({
    openingHours: { mon: week, tue: week, wed: week, thu: week, fri: week },
    slotMinutes: 30,
    bufferMinutes: 10,
    minNoticeMinutes: 0,
    horizonDays: 30,
    agents: agents(20),
  });
  return withDatabase(async (db) => {
    const service = serviceFor(db, schedule);
    // Book six places per slot first (with the buffer that blocks about half of the places), so the query has real appointments to index.
    const all = computeSlots(schedule, { from: '2026-11-30', to: '2026-12-30', now: NOW, held: [] });
    let n = 0;
    for (const [i, slot] of all.entries()) {
      for (let k = 0; k < 6; k++) {
        const start = toPublicIso(slot.start);
        const input = parseBookingInput({ start, name: 'R', email: `r${i}-${k}@example.nl` }, { topics: ['x'] });
        try {
          await service.book(input, { channel: 'website' });
          n++;
        } catch (e) {
          if (!(isUserError(e) && e.status === 409)) throw e;
        }
      }
    }
    const runs = 50;
    const service30: number[] = [];
    let slotsReturned = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      slotsReturned = (await service.slots('2026-11-30', '2026-12-30')).length;
      service30.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const held = await db.appointments.heldInRange('2026-11-29T00:00:00.000Z', '2027-01-01T00:00:00.000Z');
    const compute: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      computeSlots(schedule, { from: '2026-11-30', to: '2026-12-30', now: NOW, held });
      compute.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    service30.sort((a, b) => a - b);
    compute.sort((a, b) => a - b);
    return {
      appointments: n,
      gridSlots: all.length,
      freeSlotsReturned: slotsReturned,
      serviceP50: percentile(service30, 50),
      serviceP99: percentile(service30, 99),
      computeP50: percentile(compute, 50),
    };
  });
}

async function main(): Promise<void> {
  console.log(`booking benchmark (Node ${process.version}, ${os.cpus().length} cores, SQLite WAL on ${os.tmpdir()})`);
  console.log(`bounds: ${BOOKINGS_PER_LEVEL} bookings or ${SECONDS_PER_LEVEL}s per level`);
  for (const clients of LEVELS) {
    const r = await throughput(clients);
    console.log(
      `book  clients=${String(r.clients).padStart(2)}  requests=${r.requests}  booked=${r.booked}  409=${r.conflicts}  ` +
        `${r.perSecond.toFixed(0)} req/s  p50=${r.p50.toFixed(2)} ms  p99=${r.p99.toFixed(2)} ms`,
    );
  }
  const race = await lastSlotRace();
  console.log(`race  20 parallel for the last place: ${race.ok} booked, ${race.conflicts} x 409, ${race.ms.toFixed(1)} ms total`);
  const q = await slotsQuery();
  console.log(
    `slots 30-day horizon, 20 agents, ${q.appointments} appointments, ${q.gridSlots} grid slots (${q.freeSlotsReturned} with a free place): ` +
      `service.slots p50=${q.serviceP50.toFixed(2)} ms p99=${q.serviceP99.toFixed(2)} ms; computeSlots alone p50=${q.computeP50.toFixed(2)} ms`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
