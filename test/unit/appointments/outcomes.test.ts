import { strict as assert } from 'node:assert';
import { sqliteStoreOn } from '../../../lib/store/sqlite';
import { EventEmitter } from 'node:events';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { createOutcomeRecorder, outcomeMessage } from '../../../lib/outcomes/runtime';
import type { Outcome } from '../../../lib/outcomes/types';
import { SqliteProcessingLog } from '../../../lib/store/sqlite/processing-log';
import { createSqliteOutcomeStore } from '../../../lib/store/sqlite/outcomes';
import { fixedClock, issueCancelToken, serviceOn, tempDatabase, testSchedule } from './support';

describe('outcomes: how each appointment ended, from call events (SQLite, controllable clock)', () => {
  let t: ReturnType<typeof tempDatabase>;
  const clock = fixedClock('2026-11-30T08:00:00.000Z');
  beforeEach(() => {
    t = tempDatabase();
    clock.set('2026-11-30T08:00:00.000Z');
  });
  afterEach(() => t.cleanup());

  it('completed with duration, resident no-show, agent no-show, cancelled by resident or staff; decided after end + grace, once', async () => {
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const book = async (i: number, start: string) =>
      (await service.book(parseBookingInput({ start, name: `Inwoner ${i}`, email: `i${i}@example.nl` }, { topics: ['paspoort'] }), { channel: 'website' })).appointment;
    const done = await book(1, '2026-12-01T10:00:00+01:00');
    const noResident = await book(2, '2026-12-01T10:00:00+01:00');
    const noAgent = await book(3, '2026-12-01T11:00:00+01:00');
    const byResident = await book(4, '2026-12-01T11:00:00+01:00');
    const byStaff = await book(5, '2026-12-01T12:00:00+01:00');
    const later = await book(6, '2026-12-01T16:00:00+01:00');
    await service.cancelByToken(await issueCancelToken(sqliteStoreOn(t.db), byResident.id));
    await service.cancelByStaff(byStaff.id, 'kcc1');
    const log = new SqliteProcessingLog(t.db);
    const joined = (appointmentId: string, actor: string) => log.record({ appointmentId, actor, action: 'participant_joined' });
    await joined(done.id, 'resident');
    await joined(done.id, done.agent);
    await joined(noResident.id, noResident.agent);
    await joined(noAgent.id, 'resident');
    await joined(noAgent.id, 'guest');

    let now = new Date('2026-12-01T09:40:00.000Z');
    const store = createSqliteOutcomeStore(t.db);
    const recorder = createOutcomeRecorder({ store, now: () => now, graceMs: 15 * 60_000 });
    const seen: Outcome[] = [];
    recorder.on('outcome', (o) => seen.push(o));
    const presence = new EventEmitter();
    recorder.attach(presence);
    recorder.attach(presence);
    presence.emit('call', { event: 'callEnded', appointmentId: done.id, durationSeconds: 1260 });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.map((o) => [o.appointmentId, o.outcome, o.durationSeconds]), [[done.id, 'completed', 1260]], 'one listener, however often attached');

    assert.deepEqual(await recorder.decide(), [], 'within the grace nobody is a no-show yet');
    now = new Date('2026-12-01T11:44:59.000Z');
    const decided = await recorder.decide();
    const by = new Map(decided.map((o) => [o.appointmentId, o]));
    assert.equal(by.get(noResident.id)?.outcome, 'resident_no_show');
    assert.equal(by.get(noAgent.id)?.outcome, 'agent_no_show', 'a guest is not the agent');
    assert.deepEqual([by.get(byResident.id)?.outcome, by.get(byResident.id)?.cancelledBy], ['cancelled', 'resident']);
    assert.equal(by.get(done.id), undefined, 'the completed call keeps its record');
    assert.equal(by.get(later.id), undefined, 'not over yet');
    assert.equal(by.get(byStaff.id), undefined, 'ends 11:30 UTC: within its grace until 11:45');
    now = new Date('2026-12-01T11:45:00.000Z');
    assert.deepEqual((await recorder.decide()).map((o) => [o.outcome, o.cancelledBy]), [['cancelled', 'staff']]);
    assert.deepEqual(await recorder.decide(), [], 'each once');

    const all = await store.forAppointments([done.id, noResident.id, later.id]);
    assert.equal(all.get(done.id)?.durationSeconds, 1260);
    assert.equal(all.has(later.id), false);
    // A second call of the same appointment (a reconnect after the end was recorded) adds up.
    await store.recordCall(done.id, 60, now.toISOString());
    assert.equal((await store.forAppointments([done.id])).get(done.id)?.durationSeconds, 1320);
    assert.deepEqual(outcomeMessage(by.get(byResident.id) as Outcome), { topic: 'outcome', event: 'outcome', appointment: { id: byResident.id }, outcome: 'cancelled', cancelledBy: 'resident' });
  });
});
