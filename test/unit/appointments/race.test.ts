import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { createBookingService, type BookingService } from '../../../lib/appointments/booking-service';
import { isUserError } from '../../../lib/errors';
import { fixedClock, serviceOn, tempDatabase, testSchedule } from './support';

const NOW = '2026-11-30T08:00:00.000Z';
const START = '2026-12-01T10:00:00+01:00';
const START_UTC = '2026-12-01T09:00:00.000Z';

function input(i: number) {
  return parseBookingInput({ start: START, name: `Inwoner ${i}`, email: `inwoner${i}@example.nl` }, { topics: ['paspoort'] });
}

/** Books the 10:00 slot's first place, so one place (agent2) is left. */
async function takeFirstPlace(service: BookingService): Promise<void> {
  await service.book(input(999), { channel: 'website' });
}

function tally(results: PromiseSettledResult<unknown>[]): { ok: number; taken: number; other: unknown[] } {
  let ok = 0;
  let taken = 0;
  const other: unknown[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else if (isUserError(r.reason) && r.reason.status === 409 && r.reason.code === 'slot_taken') taken++;
    else other.push(r.reason);
  }
  return { ok, taken, other };
}

function countRows(db: ReturnType<typeof tempDatabase>['db']): { appointments: number; claims: number; agents: string[] } {
  const rows = db.prepare(`SELECT agent FROM appointments WHERE start_utc = ? AND status = 'booked' ORDER BY agent`).all(START_UTC) as {
    agent: string;
  }[];
  const claims = (db.prepare('SELECT count(*) AS n FROM slot_claims WHERE start_utc = ?').get(START_UTC) as { n: number }).n;
  const all = (db.prepare('SELECT count(*) AS n FROM appointments').get() as { n: number }).n;
  return { appointments: all, claims, agents: rows.map((r) => r.agent) };
}

describe('appointments: the last free slot under concurrency (SQLite on disk)', () => {
  let t: ReturnType<typeof tempDatabase>;
  beforeEach(() => {
    t = tempDatabase();
  });
  afterEach(() => t.cleanup());

  it('twenty parallel bookings on one connection: exactly one succeeds, nineteen get 409', async () => {
    const { service } = serviceOn(t.db, testSchedule(), fixedClock(NOW).now);
    await takeFirstPlace(service);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => service.book(input(i), { channel: 'website' })));
    const { ok, taken, other } = tally(results);
    assert.deepEqual(other, []);
    assert.equal(ok, 1);
    assert.equal(taken, 19);
    assert.deepEqual(countRows(t.db), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
  });

  it('twenty parallel bookings over two connections to the same file: exactly one succeeds', async () => {
    const schedule = testSchedule();
    const a = serviceOn(t.db, schedule, fixedClock(NOW).now);
    const b = serviceOn(t.open(), schedule, fixedClock(NOW).now);
    await takeFirstPlace(a.service);
    // Record what each request believed when it went to claim: the slot still looked free to (nearly) all of them.
    const believedFree: number[] = [];
    const services = [a, b].map(({ store }) =>
      createBookingService({
        store: { ...store, create: (x, claim) => (believedFree.push(claim.candidates.length), store.create(x, claim)) },
        getSchedule: () => schedule,
        now: fixedClock(NOW).now,
      }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => services[i % 2].book(input(i), { channel: 'website' })),
    );
    const { ok, taken, other } = tally(results);
    assert.deepEqual(other, []);
    assert.equal(ok, 1);
    assert.equal(taken, 19);
    assert.equal(believedFree.filter((n) => n === 1).length, 20, 'all twenty saw agent2 free: the claim decided');
    assert.deepEqual(countRows(t.db), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
  });

  it('the unique constraint, not a prior read, refuses the second claim from another connection', async () => {
    const schedule = testSchedule();
    const a = serviceOn(t.db, schedule, fixedClock(NOW).now);
    const other = t.open();
    const booked = await a.service.book(input(1), { channel: 'website' });
    // A second connection that skips every check and writes a claim for the same agent and start directly.
    other.prepare(
      `INSERT INTO appointments (id, start_utc, end_utc, topic, agent, channel, resident_name, resident_email, cancel_token_hash,
         idempotency_key, created_at) VALUES ('x', ?, '2026-12-01T09:30:00.000Z', 't', ?, 'website', 'n', 'e', 'h', 'k', ?)`,
    ).run(START_UTC, booked.appointment.agent, NOW);
    assert.throws(
      () => other.prepare('INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES (?, ?, ?)').run(booked.appointment.agent, START_UTC, 'x'),
      (e: unknown) => (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    );
    // Two stores on two connections, both told the same agent is free (a stale view): the second claim loses.
    const b = serviceOn(other, schedule, fixedClock(NOW).now);
    const claim = {
      candidates: ['agent2'],
      dayStartUtc: '2026-11-30T23:00:00.000Z',
      dayEndUtc: '2026-12-01T23:00:00.000Z',
      bufferMinutes: 0,
      idempotentSinceUtc: NOW,
    };
    const make = (n: number) => ({
      startUtc: START_UTC,
      endUtc: '2026-12-01T09:30:00.000Z',
      topic: 'paspoort',
      channel: 'website' as const,
      bookedBy: null,
      resident: { name: `R${n}`, email: `r${n}@example.nl`, phone: null, remarks: null },
      cancelTokenHash: `hash${n}`,
      idempotencyKey: `key${n}`,
      createdAt: NOW,
    });
    const first = await a.store.create(make(1), claim);
    assert.equal(first.appointment.agent, 'agent2');
    await assert.rejects(b.store.create(make(2), claim), (e: unknown) => isUserError(e) && e.status === 409);
  });

  it('four worker threads, each with its own connection, racing for the last place: exactly one wins', async function () {
    this.timeout(30_000);
    const { service } = serviceOn(t.db, testSchedule(), fixedClock(NOW).now);
    await takeFirstPlace(service);
    // Real parallelism: separate threads and connections, released together by a shared barrier.
    const barrier = new Int32Array(new SharedArrayBuffer(4));
    const dist = path.resolve(__dirname, '../../..');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { DateTime } = require('luxon');
      const { openDatabase } = require(${JSON.stringify(path.join(dist, 'lib/store/db.js'))});
      const { createSqliteAppointmentStore } = require(${JSON.stringify(path.join(dist, 'lib/store/sqlite/appointments.js'))});
      const { createBookingService } = require(${JSON.stringify(path.join(dist, 'lib/appointments/booking-service.js'))});
      const { parseBookingInput } = require(${JSON.stringify(path.join(dist, 'lib/appointments/booking-input.js'))});
      const { scheduleOrThrow } = require(${JSON.stringify(path.join(dist, 'lib/appointments/schedule.js'))});
      const db = openDatabase(workerData.file);
      const schedule = scheduleOrThrow(workerData.schedule);
      const service = createBookingService({ store: createSqliteAppointmentStore(db), getSchedule: () => schedule,
        now: () => DateTime.fromISO(workerData.now) });
      Atomics.add(workerData.barrier, 0, 1);
      while (Atomics.load(workerData.barrier, 0) < workerData.workers) Atomics.wait(workerData.barrier, 0, Atomics.load(workerData.barrier, 0), 5);
      Promise.allSettled(Array.from({ length: 5 }, (_, i) => service.book(parseBookingInput(
        { start: workerData.start, name: 'W', email: 'w' + workerData.id + '-' + i + '@example.nl' }, { topics: ['paspoort'] }),
        { channel: 'website' }))).then((rs) => {
          db.close();
          parentPort.postMessage(rs.map((r) => r.status === 'fulfilled' ? 'ok' : (r.reason && r.reason.code) || String(r.reason)));
        });
    `;
    const schedule = testSchedule();
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map(
        (id) =>
          new Promise<string[]>((resolve, reject) => {
            const w = new Worker(code, {
              eval: true,
              workerData: { file: t.file, schedule, now: NOW, start: START, id, barrier, workers: 4 },
            });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    const flat = outcomes.flat();
    assert.equal(flat.length, 20);
    assert.equal(flat.filter((x) => x === 'ok').length, 1, JSON.stringify(flat));
    assert.equal(flat.filter((x) => x === 'slot_taken').length, 19, JSON.stringify(flat));
    assert.deepEqual(countRows(t.db), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
  });
});
