import { strict as assert } from 'node:assert';
import { sqliteStoreOn } from '../../../lib/store/sqlite';
import { aggregate, periodOf, shownCount, shownMedian } from '../../../lib/statistics/aggregate';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { SqliteProcessingLog } from '../../../lib/store/sqlite/processing-log';
import { createSqliteOutcomeStore } from '../../../lib/store/sqlite/outcomes';
import { createSqliteStatisticsStore } from '../../../lib/store/sqlite/statistics';
import { fixedClock, serviceOn, tempDatabase, testSchedule } from './support';

describe('statistics for the KCC manager: aggregates only, small counts suppressed', () => {
  it('periods are Amsterdam days and Monday weeks, whatever the UTC date', () => {
    assert.equal(periodOf('2026-11-29T23:30:00.000Z', 'day'), '2026-11-30', '00:30 in Amsterdam');
    assert.equal(periodOf('2026-12-06T22:59:00.000Z', 'week'), '2026-11-30', 'Sunday 23:59 belongs to the week of Monday 30 November');
    assert.equal(periodOf('2026-12-06T23:00:00.000Z', 'week'), '2026-12-07');
  });

  it('shows 0 and 5 and more, hides 1-4 and medians of fewer than 5', () => {
    assert.deepEqual([0, 1, 4, 5, 12].map(shownCount), ['0', '< 5', '< 5', '5', '12']);
    assert.equal(shownMedian({ period: 'x', count: 4, medianSeconds: 60 }), undefined);
    assert.equal(shownMedian({ period: 'x', count: 5, medianSeconds: 125 }), '2:05');
  });

  it('counts bookings, cancellations, moves, outcomes, waits and identifications from the store, with no personal field', async () => {
    const t = tempDatabase();
    try {
      const clock = fixedClock('2026-11-30T08:00:00.000Z');
      const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const start = `2026-12-0${1 + (i % 3)}T${10 + Math.floor(i / 3)}:00:00+01:00`;
        const a = await service.book(parseBookingInput({ start, name: `Naam ${i}`, email: `n${i}@example.nl` }, { topics: ['paspoort'] }), { channel: i < 5 ? 'website' : 'phone', bookedBy: i < 5 ? null : 'kcc1' });
        ids.push(a.appointment.id);
      }
      await service.cancelByStaff(ids[5], 'kcc1');
      const log = new SqliteProcessingLog(t.db, () => new Date('2026-12-01T09:00:30.000Z'));
      await log.record({ appointmentId: ids[0], actor: 'resident', action: 'participant_joined' });
      await new SqliteProcessingLog(t.db, () => new Date('2026-12-01T09:02:00.000Z')).record({ appointmentId: ids[0], actor: 'agent1', action: 'participant_joined' });
      await log.record({ appointmentId: ids[0], actor: 'agent1', action: 'method_chosen', methodId: 'digid' });
      await log.record({ appointmentId: ids[0], actor: 'agent1', action: 'verified', methodId: 'digid' });
      await createSqliteOutcomeStore(t.db).recordCall(ids[0], 600, '2026-12-01T09:30:00.000Z');
      const facts = await createSqliteStatisticsStore(t.db).facts('2026-11-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z');
      const text = JSON.stringify(facts);
      for (let i = 0; i < 6; i++) assert.ok(!text.includes(`Naam ${i}`) && !text.includes(`n${i}@example.nl`) && !text.includes(ids[i]), 'no name, address or id');
      const s = aggregate(facts, 'week');
      assert.deepEqual(s.bookingsByChannel, [
        { period: '2026-11-30', key: 'phone', count: 1 },
        { period: '2026-11-30', key: 'website', count: 5 },
      ]);
      assert.deepEqual(s.cancellations, [{ period: '2026-11-30', key: 'staff', count: 1 }]);
      assert.deepEqual(s.outcomes, [{ period: '2026-11-30', key: 'completed', count: 1 }]);
      assert.deepEqual(s.waiting, [{ period: '2026-11-30', count: 1, medianSeconds: 90 }]);
      assert.deepEqual(s.callDuration, [{ period: '2026-11-30', count: 1, medianSeconds: 600 }]);
      assert.deepEqual(s.identificationRequests, [{ period: '2026-11-30', key: 'digid', count: 1 }]);
      assert.deepEqual(s.identificationSuccesses, [{ period: '2026-11-30', key: 'digid', count: 1 }]);
    } finally {
      t.cleanup();
    }
  });
});
