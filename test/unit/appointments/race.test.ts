import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { createBookingService, type BookingService } from '../../../lib/appointments/booking-service';
import { isUserError } from '../../../lib/errors';
import { sqliteStoreOn } from '../../../lib/store/sqlite';
import { forEachEngine, type TestStore } from '../../support/engines';
import { fixedClock, newAppointment, serviceOn, tempDatabase, testSchedule } from './support';
import { skipBecause } from '../../support/skip';
import { until } from '../../support/identification-test';

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

async function countRows(t: Pick<TestStore, 'rows' | 'count'>): Promise<{ appointments: number; claims: number; agents: string[] }> {
  const rows = await t.rows<{ agent: string }>(`SELECT agent FROM appointments WHERE start_utc = ? AND status = 'booked' ORDER BY agent`, START_UTC);
  const claims = await t.count('SELECT count(*) AS n FROM slot_claims WHERE start_utc = ?', START_UTC);
  const all = await t.count('SELECT count(*) AS n FROM appointments');
  return { appointments: all, claims, agents: rows.map((r) => r.agent) };
}

const DAY = { dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-01T23:00:00.000Z' };

const END_UTC = '2026-12-01T09:30:00.000Z';

forEachEngine('appointments: the last free slot under concurrency', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('twenty parallel bookings on one store: exactly one succeeds, nineteen get 409', async () => {
    const { service } = serviceOn(t.store, testSchedule(), fixedClock(NOW).now);
    await takeFirstPlace(service);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => service.book(input(i), { channel: 'website' })));
    const { ok, taken, other } = tally(results);
    assert.deepEqual(other, []);
    assert.equal(ok, 1);
    assert.equal(taken, 19);
    assert.deepEqual(await countRows(t), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
  });

  for (const free of [1, 2]) {
    it(`twenty parallel bookings over two stores on one database (two connections or pools, as two instances): exactly ${free} succeed`, async () => {
      const schedule = testSchedule();
      const a = serviceOn(t.store, schedule, fixedClock(NOW).now);
      const b = serviceOn(await t.another(), schedule, fixedClock(NOW).now);
      if (free === 1) await takeFirstPlace(a.service);
      // Record what each request believed when it went to claim: the slot still looked free to (nearly) all of them.
      const believedFree: number[] = [];
      const services = [a, b].map(({ store }) =>
        createBookingService({
          store: { ...store, create: (x, claim, event) => (believedFree.push(claim.candidates.length), store.create(x, claim, event)) },
          getSchedule: () => schedule,
          now: fixedClock(NOW).now,
        }),
      );
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => services[i % 2].book(input(i), { channel: 'website' })));
      const { ok, taken, other } = tally(results);
      assert.deepEqual(other, []);
      assert.equal(ok, free);
      assert.equal(taken, 20 - free);
      // More requests went to claim with a free place in view than there were places: the store's claim decided.
      assert.ok(believedFree.filter((n) => n > 0).length > free * 2, `requests that saw a free place: ${believedFree.filter((n) => n > 0).length}`);
      assert.deepEqual(await countRows(t), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
      assert.equal(await t.count(`SELECT count(*) AS n FROM appointment_events WHERE kind = 'booked'`), 2, 'one event per booking, none for a refused one');
    });
  }

  it('the unique constraint, not a prior read, refuses the second claim from another connection', async () => {
    const schedule = testSchedule();
    const a = serviceOn(t.store, schedule, fixedClock(NOW).now);
    const booked = await a.service.book(input(1), { channel: 'website' });
    // A second connection that skips every check and writes a claim for the same agent and start directly.
    await t.exec(
      `INSERT INTO appointments (id, start_utc, end_utc, topic, agent, channel, resident_name, resident_email, cancel_token_hash,
         idempotency_key, created_at) VALUES ('x', ?, '2026-12-01T09:30:00.000Z', 't', ?, 'website', 'n', 'e', 'h', 'k', ?)`,
      START_UTC,
      booked.appointment.agent,
      NOW,
    );
    await assert.rejects(t.exec('INSERT INTO slot_claims (agent, start_utc, appointment_id) VALUES (?, ?, ?)', booked.appointment.agent, START_UTC, 'x'), (e: unknown) =>
      ['SQLITE_CONSTRAINT_PRIMARYKEY', '23505'].includes(String((e as { code?: string }).code)),
    );
    // Two stores on two connections, both told the same agent is free (a stale view): the second claim loses.
    const b = await t.another();
    const claim = { candidates: ['agent2'], ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW };
    const first = await a.store.create(newAppointment(1, START_UTC, END_UTC), claim);
    assert.equal(first.appointment.agent, 'agent2');
    await assert.rejects(b.appointments.create(newAppointment(2, START_UTC, END_UTC), claim), (e: unknown) => isUserError(e) && e.status === 409);
  });

  it('overlapping times with different starts (another slot length, the buffer) over two stores: exactly one', async () => {
    // No unique key covers this: 09:00-09:30 and 09:15-09:45 for one agent. The claim transaction must see the other.
    const b = await t.another();
    const claim = { candidates: ['solo'], ...DAY, bufferMinutes: 10, idempotentSinceUtc: NOW };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => {
        const start = new Date(Date.parse(START_UTC) + (i % 4) * 10 * 60_000).toISOString();
        const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
        return (i % 2 ? b : t.store).appointments.create(newAppointment(i, start, end), claim);
      }),
    );
    const { ok, taken, other } = tally(results);
    assert.deepEqual(other, []);
    assert.equal(ok, 1, 'all four starts overlap each other within the buffer: one booking');
    assert.equal(taken, 19);
    assert.equal(await t.count(`SELECT count(*) AS n FROM appointments WHERE agent = 'solo' AND status = 'booked'`), 1);
  });

  it('only the buffer between two starts that lie in different five-minute spans: exact at a minute either way', async () => {
    // PostgreSQL locks an agent's five-minute spans around a slot (migration 019), not the whole agent: bookings whose
    // buffers just meet, or just miss, across span edges must still be decided as one writer would.
    const at = (hhmm: string) => `2026-12-01T${hhmm}:00.000Z`;
    const plus10 = (iso: string) => new Date(Date.parse(iso) + 10 * 60_000).toISOString();
    const race = async (starts: string[], tag: number) => {
      const b = await t.another();
      const claim = { candidates: ['solo'], ...DAY, bufferMinutes: 10, idempotentSinceUtc: NOW };
      return tally(
        await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => {
            const start = starts[i % starts.length];
            return (i % 2 ? b : t.store).appointments.create(newAppointment(tag + i, start, plus10(start)), claim);
          }),
        ),
      );
    };
    // 09:02-09:12 and 09:21-09:31: 09:21 is inside 09:12 + 10 minutes, so they clash: one booking of the two.
    const clash = await race([at('09:02'), at('09:21')], 0);
    assert.deepEqual(clash.other, []);
    assert.equal(clash.ok, 1);
    // 11:02-11:12 and 11:22-11:32: exactly the buffer apart, both stand (one each, the rest taken).
    const apart = await race([at('11:02'), at('11:22')], 100);
    assert.deepEqual(apart.other, []);
    assert.equal(apart.ok, 2);
    assert.equal(await t.count(`SELECT count(*) AS n FROM appointments WHERE agent = 'solo' AND status = 'booked'`), 3);
  });

  it('PostgreSQL: a booking waits only for an agent\'s bookings that could clash with it, not for the agent\'s whole day', async function () {
    if (t.engine !== 'postgres') skipBecause(this, 'advisory span locks are PostgreSQL\'s; SQLite serialises every booking');
    // Another instance in the middle of booking 09:02-09:12 (buffer 10) for agent "solo": it holds the agent's spans
    // 08:50 … 09:20 (migration 019) until it commits.
    const other = new Client({ connectionString: t.url });
    await other.connect();
    try {
      const [{ pid }] = (await other.query('SELECT pg_backend_pid() AS pid')).rows as { pid: number }[];
      await other.query('BEGIN');
      await other.query(`SELECT idv_lock_agent_span('solo', '2026-12-01T08:52:00.000Z', '2026-12-01T09:22:00.000Z')`);
      const [{ n }] = (await other.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`)).rows;
      assert.equal(n, 7, 'the five-minute spans 08:50, 08:55, … 09:20');
      const claim = { candidates: ['solo'], ...DAY, bufferMinutes: 10, idempotentSinceUtc: NOW };
      // 13:00 cannot clash: booked at once, while the other transaction is still open.
      await t.store.appointments.create(newAppointment(700, '2026-12-01T13:00:00.000Z', '2026-12-01T13:10:00.000Z'), claim);
      // 09:21-09:31 is within the buffer of 09:12: it must wait for the other instance's outcome.
      let settled = false;
      const waiting = t.store.appointments.create(newAppointment(701, '2026-12-01T09:21:00.000Z', '2026-12-01T09:31:00.000Z'), claim).finally(() => {
        settled = true;
      });
      // Waiting is shown by PostgreSQL itself, not by a pause: a session of the store asks for an advisory lock the
      // other instance holds and is not granted it. A booking that did not wait would settle instead (checked first).
      const blocked = `SELECT count(*)::int AS n FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted AND ${Number(pid)} = ANY(pg_blocking_pids(l.pid))`;
      await until('the clashing booking to wait for the other instance\'s span lock', async () => settled || (await t.count(blocked)) > 0, 15_000);
      assert.equal(settled, false, 'a booking that could clash waits for the lock');
      await other.query('ROLLBACK');
      assert.equal((await waiting).appointment.startUtc, '2026-12-01T09:21:00.000Z', 'the other one did not book: this one stands');
    } finally {
      await other.end();
    }
  });

  it('a move racing new bookings into its buffer over two stores: exactly one of them holds the time', async () => {
    const b = await t.another();
    const claim = { candidates: ['solo'], ...DAY, bufferMinutes: 10, idempotentSinceUtc: NOW };
    const { appointment } = await t.store.appointments.create(newAppointment(500, '2026-12-01T14:00:00.000Z', '2026-12-01T14:30:00.000Z'), claim);
    const moveTo = {
      startUtc: '2026-12-01T09:07:00.000Z',
      endUtc: '2026-12-01T09:37:00.000Z',
      claim: { candidates: ['solo'], ...DAY, bufferMinutes: 10 },
      atUtc: NOW,
      newCancelTokenHash: 'fresh-move-hash',
    };
    const results = await Promise.allSettled([
      b.appointments.reschedule(appointment.id, moveTo),
      ...Array.from({ length: 9 }, (_, i) => (i % 2 ? b : t.store).appointments.create(newAppointment(600 + i, START_UTC, END_UTC), claim)),
    ]);
    const { ok, other } = tally(results);
    assert.deepEqual(other, []);
    assert.equal(ok, 1, '09:00-09:30 and 09:07-09:37 overlap: the move or one booking');
    const morning = await t.rows<{ id: string; start_utc: string }>(
      `SELECT id, start_utc FROM appointments WHERE agent = 'solo' AND status = 'booked' AND start_utc < '2026-12-01T12:00:00.000Z'`,
    );
    assert.equal(morning.length, 1, 'one appointment in the morning: the moved one at 09:07 or a new one at 09:00');
    const moved = morning[0].id === appointment.id;
    assert.equal(morning[0].start_utc, moved ? '2026-12-01T09:07:00.000Z' : START_UTC);
    assert.equal(await t.count(`SELECT count(*) AS n FROM appointments WHERE agent = 'solo' AND status = 'booked'`), moved ? 1 : 2);
  });

  it('the same request twice at once over two stores (a double submit reaching two instances): one booking', async () => {
    const b = await t.another();
    const claim = { candidates: ['agent1', 'agent2'], ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? b : t.store).appointments.create(newAppointment(i, START_UTC, END_UTC, { idempotencyKey: 'same-key' }), claim)),
    );
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(results.map((r) => r.appointment.id)).size, 1, 'every answer names the one booking');
    assert.equal(await t.count('SELECT count(*) AS n FROM appointments'), 1);
  });

  it('twenty parallel cancellations of one appointment over two stores: exactly one cancels, with one event', async () => {
    const b = await t.another();
    const claim = { candidates: ['agent1'], ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW };
    const { appointment } = await t.store.appointments.create(newAppointment(1, START_UTC, END_UTC), claim);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? b : t.store).appointments.cancel(appointment.id, `kcc${i}`, '2026-11-30T09:00:00.000Z')),
    );
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.equal(await t.count(`SELECT count(*) AS n FROM appointment_events WHERE kind = 'cancelled'`), 1);
    assert.equal(await t.count('SELECT count(*) AS n FROM slot_claims'), 0, 'the slot is free again');
    // And the freed slot is booked exactly once when both stores race for it again.
    const again = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : t.store).appointments.create(newAppointment(100 + i, START_UTC, END_UTC), claim)));
    assert.equal(tally(again).ok, 1);
  });
});

describe('appointments: the last free slot across threads (SQLite on disk)', () => {
  let t: ReturnType<typeof tempDatabase>;
  beforeEach(() => {
    t = tempDatabase();
  });
  afterEach(() => t.cleanup());

  it("a booking that waits for another connection's write lock (a second instance) leaves the event loop free", async function () {
    this.timeout(30_000);
    const store = sqliteStoreOn(t.db);
    // Another connection holds the write lock, as a second process on the same file does while it commits. It is in
    // this very thread: if the booking's wait stood in SQLite's busy handler, nothing here could release the lock,
    // and the booking would fail with SQLITE_BUSY after the connection's 5 s busy timeout.
    const other = t.open();
    other.exec('BEGIN IMMEDIATE');
    // The booking's write attempts, seen on the real connection: each one sets the busy timeout to 0 first
    // (lib/store/sqlite/immediate.ts). A second attempt means the first was turned away by the lock and retried on a
    // timer, with this test's code running in between: waiting proven by a condition, not by a pause.
    let attempts = 0;
    const pragma = t.db.pragma.bind(t.db);
    t.db.pragma = ((source: string, options?: { simple?: boolean }) => {
      if (source === 'busy_timeout = 0') attempts++;
      return pragma(source, options);
    }) as typeof t.db.pragma;
    let settled = false;
    const booking = store.appointments
      .create(newAppointment(1, START_UTC, END_UTC), { candidates: ['agent1'], ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW })
      .finally(() => {
        settled = true;
      });
    await until('the booking to be turned away by the lock and try again', () => settled || attempts >= 2, 15_000);
    assert.equal(settled, false, 'still waiting for the lock');
    other.exec('COMMIT');
    assert.equal((await booking).appointment.agent, 'agent1');
    assert.equal(t.db.pragma('busy_timeout', { simple: true }), 5000, "the connection's busy timeout is back");
  });

  it('four worker threads, each with its own connection, racing for the last place: exactly one wins', async function () {
    this.timeout(30_000);
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), fixedClock(NOW).now);
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
    const rows = {
      rows: async <T>(sql: string, ...p: unknown[]) => t.db.prepare(sql).all(...p) as T[],
      count: async (sql: string, ...p: unknown[]) => (t.db.prepare(sql).get(...p) as { n: number }).n,
    };
    assert.deepEqual(await countRows(rows), { appointments: 2, claims: 2, agents: ['agent1', 'agent2'] });
  });
});
