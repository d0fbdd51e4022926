import { strict as assert } from 'node:assert';
import { DateTime, Settings } from 'luxon';
import { computeSlots, type Held } from '../../../lib/appointments/slots';
import { scheduleOrThrow, type Schedule } from '../../../lib/appointments/schedule';
import { toPublicIso } from '../../../lib/time';
import { testSchedule } from './support';

// Monday 30 November 2026, 09:00 in Amsterdam.
const MONDAY_0900 = DateTime.fromISO('2026-11-30T08:00:00Z');

function slotsOn(schedule: Schedule, date: string, now = MONDAY_0900, held: Held[] = []) {
  return computeSlots(schedule, { from: date, to: date, now, held });
}

function localTimes(slots: { start: string }[]): string[] {
  return slots.map((s) => toPublicIso(s.start).slice(11, 16));
}

describe('appointments/slots', () => {
  it('fills an open day with slots in UTC, all agents free', () => {
    const slots = slotsOn(testSchedule(), '2026-12-01');
    assert.equal(slots.length, 16);
    assert.deepEqual(slots[0], {
      start: '2026-12-01T08:00:00.000Z',
      end: '2026-12-01T08:30:00.000Z',
      available: 2,
      agents: ['agent1', 'agent2'],
    });
    assert.equal(slots[15].start, '2026-12-01T15:30:00.000Z');
    assert.equal(slotsOn(testSchedule(), '2026-12-05').length, 0, 'Saturday is closed');
  });

  it('restarts the grid after a break and never lets a slot straddle it', () => {
    const s = testSchedule({
      openingHours: { tue: [{ from: '09:00', to: '12:30' }, { from: '13:00', to: '17:00' }] },
    });
    const times = localTimes(slotsOn(s, '2026-12-01'));
    assert.equal(times.length, 15);
    assert.ok(!times.includes('12:30'));
    assert.deepEqual(times.slice(6, 8), ['12:00', '13:00']);
    const s45 = testSchedule({ slotMinutes: 45, openingHours: { tue: [{ from: '09:00', to: '12:30' }] } });
    assert.deepEqual(localTimes(slotsOn(s45, '2026-12-01')), ['09:00', '09:45', '10:30', '11:15']);
  });

  it('counts held appointments and blocks the buffer around them', () => {
    const held = [{ agent: 'agent1', startUtc: '2026-12-01T09:00:00.000Z', endUtc: '2026-12-01T09:30:00.000Z' }];
    const noBuffer = slotsOn(testSchedule(), '2026-12-01', MONDAY_0900, held);
    assert.deepEqual(noBuffer.filter((x) => x.available === 1).map((x) => x.start), ['2026-12-01T09:00:00.000Z']);
    const withBuffer = slotsOn(testSchedule({ bufferMinutes: 15 }), '2026-12-01', MONDAY_0900, held);
    const byTime = Object.fromEntries(withBuffer.map((x) => [toPublicIso(x.start).slice(11, 16), x.agents]));
    // Held 10:00-10:30 local, buffer 15 minutes on both sides: 09:30 and 10:30 are too close for agent1.
    assert.deepEqual(byTime['09:00'], ['agent1', 'agent2']);
    assert.deepEqual(byTime['09:30'], ['agent2'], 'buffer before');
    assert.deepEqual(byTime['10:00'], ['agent2']);
    assert.deepEqual(byTime['10:30'], ['agent2'], 'buffer after');
    assert.deepEqual(byTime['11:00'], ['agent1', 'agent2']);
  });

  it('blocks the slot before a held appointment when the buffer reaches it', () => {
    const held = [{ agent: 'agent1', startUtc: '2026-12-01T09:00:00.000Z', endUtc: '2026-12-01T09:30:00.000Z' }];
    const s = testSchedule({ bufferMinutes: 15 });
    const at = (t: string) => slotsOn(s, '2026-12-01', MONDAY_0900, held).find((x) => toPublicIso(x.start).slice(11, 16) === t);
    // Held is 10:00-10:30 local; 09:30-10:00 leaves no gap, 09:00-09:30 leaves 30 minutes.
    assert.deepEqual(at('09:30')?.agents, ['agent2']);
    assert.deepEqual(at('09:00')?.agents, ['agent1', 'agent2']);
  });

  it('honours absences given as dates and as local datetimes, and agents\' own weekly hours', () => {
    const s = testSchedule({
      agents: [
        { username: 'agent1', displayName: 'A1' },
        {
          username: 'agent2',
          displayName: 'A2',
          weekly: { tue: [{ from: '09:00', to: '12:00' }], wed: [{ from: '09:00', to: '17:00' }] },
          absences: [{ from: '2026-12-02T12:00', to: '2026-12-02T14:00' }, { from: '2026-12-03', to: '2026-12-03' }],
        },
      ],
    });
    const tue = slotsOn(s, '2026-12-01');
    assert.deepEqual(localTimes(tue.filter((x) => x.available === 2)), ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30']);
    const wed = slotsOn(s, '2026-12-02');
    assert.deepEqual(localTimes(wed.filter((x) => x.available === 1)), ['12:00', '12:30', '13:00', '13:30']);
    const thu = slotsOn(s, '2026-12-03');
    assert.ok(thu.every((x) => x.agents.join() === 'agent1'), 'agent2 absent all Thursday (not working Thursdays anyway)');
  });

  it('honours minimum notice, the past and the horizon', () => {
    const s = testSchedule({ minNoticeMinutes: 60, horizonDays: 2 });
    const now = DateTime.fromISO('2026-11-30T08:10:00Z'); // 09:10 local
    const today = slotsOn(s, '2026-11-30', now);
    assert.equal(localTimes(today)[0], '10:30');
    const range = computeSlots(s, { from: '2026-11-25', to: '2026-12-10', now, held: [] });
    const days = [...new Set(range.map((x) => toPublicIso(x.start).slice(0, 10)))];
    assert.deepEqual(days, ['2026-11-30', '2026-12-01', '2026-12-02']);
  });

  it('skips closing days and Dutch public holidays unless switched off', () => {
    const now = DateTime.fromISO('2026-12-20T08:00:00Z');
    const s = testSchedule({ closingDays: ['2026-12-24'] });
    assert.equal(slotsOn(s, '2026-12-24', now).length, 0);
    assert.equal(slotsOn(s, '2026-12-25', now).length, 0, 'Eerste Kerstdag (a Friday)');
    assert.equal(slotsOn(s, '2026-12-23', now).length, 16);
    assert.equal(slotsOn(testSchedule({ dutchHolidays: false }), '2026-12-25', now).length, 16);
    const spring = DateTime.fromISO('2026-04-01T08:00:00Z');
    assert.equal(slotsOn(s, '2026-04-27', spring).length, 0, 'Koningsdag');
    assert.equal(slotsOn(s, '2026-05-05', spring).length, 16, 'Bevrijdingsdag 2026 is no lustrum');
    assert.equal(slotsOn(testSchedule({ liberationDay: 'always' }), '2026-05-05', spring).length, 0);
  });

  describe('DST', () => {
    const nightHours = {
      openingHours: { sun: [{ from: '00:00', to: '06:00' }], mon: [{ from: '09:00', to: '10:00' }], fri: [{ from: '09:00', to: '10:00' }] },
      slotMinutes: 30,
      minNoticeMinutes: 0,
      horizonDays: 366,
      agents: [{ username: 'a', displayName: 'A' }],
    };
    const night = scheduleOrThrow(nightHours);
    const now = DateTime.fromISO('2026-03-01T00:00:00Z');

    function assertWellFormed(slots: { start: string; end: string }[]): void {
      const starts = slots.map((x) => x.start);
      assert.equal(new Set(starts).size, starts.length, 'no doubled slot');
      for (let i = 0; i < slots.length; i++) {
        assert.equal(Date.parse(slots[i].end) - Date.parse(slots[i].start), 30 * 60_000);
        if (i > 0) assert.ok(Date.parse(slots[i].start) >= Date.parse(slots[i - 1].end), 'no overlap');
      }
    }

    it('spring forward 2026-03-29: the missing hour has no slots', () => {
      const slots = slotsOn(night, '2026-03-29', now);
      assertWellFormed(slots);
      const local = localTimes(slots);
      assert.deepEqual(local, ['00:00', '00:30', '01:00', '01:30', '03:00', '03:30', '04:00', '04:30', '05:00', '05:30']);
      assert.equal(slots[3].start, '2026-03-29T00:30:00.000Z');
      assert.equal(slots[4].start, '2026-03-29T01:00:00.000Z', '03:00 CEST follows 01:30 CET directly');
    });

    it('fall back 2026-10-25: the doubled hour occurs once', () => {
      const slots = slotsOn(night, '2026-10-25', now);
      assertWellFormed(slots);
      const local = localTimes(slots);
      assert.deepEqual(local, ['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '03:00', '03:30', '04:00', '04:30', '05:00', '05:30']);
      // The first occurrence (summer time, RFC 5545 §3.3.5), whatever the season is now: 02:00 CEST is 00:00 UTC.
      assert.equal(slots[4].start, '2026-10-25T00:00:00.000Z');
      assert.equal(slots[6].start, '2026-10-25T02:00:00.000Z', '03:00 CET follows after the repeated hour');
      const original = Settings.now;
      try {
        Settings.now = () => Date.parse('2026-07-01T12:00:00Z');
        // A schedule of its own, so no grid cached above is reused.
        assert.deepEqual(slotsOn(scheduleOrThrow(nightHours), '2026-10-25', now), slots, 'the same slots when computed in summer');
      } finally {
        Settings.now = original;
      }
    });

    it('offsets change around the transitions', () => {
      assert.equal(slotsOn(night, '2026-03-27', now)[0].start, '2026-03-27T08:00:00.000Z');
      assert.equal(slotsOn(night, '2026-03-30', now)[0].start, '2026-03-30T07:00:00.000Z');
      assert.equal(slotsOn(night, '2026-10-23', now)[0].start, '2026-10-23T07:00:00.000Z');
      assert.equal(slotsOn(night, '2026-10-26', now)[0].start, '2026-10-26T08:00:00.000Z');
    });
  });

  it('does not depend on the machine time zone', () => {
    const original = process.env.TZ;
    const run = () =>
      JSON.stringify(computeSlots(testSchedule(), { from: '2026-03-23', to: '2026-04-03', now: MONDAY_0900.minus({ months: 9 }), held: [] }));
    try {
      process.env.TZ = 'UTC';
      const utc = run();
      for (const tz of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
        process.env.TZ = tz;
        assert.equal(new Date(2026, 0, 1).getTimezoneOffset() !== 0 || tz === 'UTC', true, `TZ ${tz} took effect`);
        assert.equal(run(), utc, tz);
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });

  // Its speed is measured by `npm run bench -- booking` (slots query for this horizon), not by a timed test.
  it('answers a 30-day horizon with 20 agents and many appointments', () => {
    const agents = Array.from({ length: 20 }, (_, i) => ({ username: `agent${i}`, displayName: `Agent ${i}` }));
    const s = testSchedule({ agents, horizonDays: 30, bufferMinutes: 10 });
    const first = computeSlots(s, { from: '2026-11-30', to: '2026-12-30', now: MONDAY_0900, held: [] });
    const held: Held[] = [];
    first.forEach((slot, i) => {
      for (let a = 0; a < 20; a += 1 + (i % 3)) held.push({ agent: `agent${a}`, startUtc: slot.start, endUtc: slot.end });
    });
    const result = computeSlots(s, { from: '2026-11-30', to: '2026-12-30', now: MONDAY_0900, held });
    assert.ok(held.length > 2000);
    assert.ok(result.some((x) => x.available === 0) && result.some((x) => x.available > 0 && x.available < 20));
    assert.equal(result.length, first.length);
  });

  it('refuses impossible or too long query ranges', () => {
    assert.throws(() => computeSlots(testSchedule(), { from: '2026-02-30', to: '2026-03-01', now: MONDAY_0900, held: [] }), RangeError);
    assert.throws(() => computeSlots(testSchedule(), { from: '2026-01-01', to: '2028-01-01', now: MONDAY_0900, held: [] }), RangeError);
  });
});
