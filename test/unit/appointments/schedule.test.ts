import { strict as assert } from 'node:assert';
import { demoSchedule, validateSchedule } from '../../../lib/appointments/schedule';

const day = [{ from: '09:00', to: '17:00' }];
const base = (): Record<string, unknown> => ({
  openingHours: { mon: day },
  slotMinutes: 30,
  agents: [{ username: 'agent1', displayName: 'Agent 1' }],
});

function errorsOf(raw: unknown): string[] {
  const r = validateSchedule(raw);
  assert.ok('errors' in r, `expected errors for ${JSON.stringify(raw)}`);
  return r.errors;
}

function expectError(patch: Record<string, unknown>, fragment: string): void {
  const errors = errorsOf({ ...base(), ...patch });
  assert.ok(errors.some((e) => e.includes(fragment)), `expected "${fragment}" in ${JSON.stringify(errors)}`);
}

describe('appointments/schedule', () => {
  it('accepts the demo schedule: Mon-Fri 09:00-17:00, 30 minutes, agent1 and agent2', () => {
    const s = demoSchedule();
    assert.equal(s.slotMinutes, 30);
    assert.deepEqual(s.openingHours.mon, day);
    assert.equal(s.openingHours.sat, undefined);
    assert.deepEqual(s.agents.map((a) => a.username), ['agent1', 'agent2']);
  });

  it('fills in defaults and sorts ranges and closing days', () => {
    const r = validateSchedule({
      ...base(),
      openingHours: { mon: [{ from: '13:00', to: '17:00' }, { from: '09:00', to: '12:30' }] },
      closingDays: ['2026-12-31', '2026-12-24', '2026-12-24'],
    });
    assert.ok('schedule' in r);
    assert.deepEqual(r.schedule.openingHours.mon, [{ from: '09:00', to: '12:30' }, { from: '13:00', to: '17:00' }]);
    assert.deepEqual(r.schedule.closingDays, ['2026-12-24', '2026-12-31']);
    assert.equal(r.schedule.bufferMinutes, 0);
    assert.equal(r.schedule.dutchHolidays, true);
    assert.equal(r.schedule.liberationDay, 'lustrum');
    assert.equal(r.schedule.horizonDays, 60);
  });

  it('accepts 24:00 as the end of a range and absences as dates or datetimes', () => {
    const r = validateSchedule({
      ...base(),
      openingHours: { sun: [{ from: '00:00', to: '24:00' }] },
      agents: [{
        username: 'a.b-c_d@x',
        displayName: 'Ägent Ørsted',
        weekly: { sun: [{ from: '10:00', to: '12:00' }] },
        absences: [{ from: '2026-12-01', to: '2026-12-02' }, { from: '2026-12-03T12:00', to: '2026-12-03T14:00+01:00' }],
      }],
    });
    assert.ok('schedule' in r, JSON.stringify(r));
  });

  it('refuses out-of-range numbers', () => {
    expectError({ slotMinutes: 4 }, 'slotMinutes');
    expectError({ slotMinutes: 241 }, 'slotMinutes');
    expectError({ slotMinutes: 7.5 }, 'slotMinutes');
    expectError({ slotMinutes: '30' }, 'slotMinutes');
    expectError({ horizonDays: 0 }, 'horizonDays');
    expectError({ horizonDays: 367 }, 'horizonDays');
    expectError({ bufferMinutes: -5 }, 'bufferMinutes');
    expectError({ minNoticeMinutes: Number.NaN }, 'minNoticeMinutes');
  });

  it('refuses bad opening hours', () => {
    expectError({ openingHours: { maandag: day } }, 'unknown weekday');
    expectError({ openingHours: { mon: [{ from: '9:00', to: '17:00' }] } }, 'openingHours.mon[0].from');
    expectError({ openingHours: { mon: [{ from: '09:00', to: '24:30' }] } }, 'openingHours.mon[0].to');
    expectError({ openingHours: { mon: [{ from: '24:00', to: '24:00' }] } }, 'openingHours.mon[0].from');
    expectError({ openingHours: { mon: [{ from: '17:00', to: '09:00' }] } }, '"to" must be after "from"');
    expectError({ openingHours: { mon: [{ from: '09:00', to: '12:00' }, { from: '11:00', to: '13:00' }] } }, 'overlap');
    expectError({ openingHours: { mon: [{ from: '09:00', to: '12:00', extra: 1 }] } }, 'expected {from');
    expectError({ openingHours: [] }, 'openingHours');
  });

  it('refuses bad closing days, holidays flags and unknown settings', () => {
    expectError({ closingDays: ['2026-02-30'] }, 'closingDays[0]');
    expectError({ closingDays: ['2026-13-01'] }, 'closingDays[0]');
    expectError({ closingDays: '2026-12-24' }, 'closingDays');
    expectError({ dutchHolidays: 'yes' }, 'dutchHolidays');
    expectError({ liberationDay: 'sometimes' }, 'liberationDay');
    expectError({ colour: 'red' }, 'colour: unknown setting');
  });

  it('refuses bad agents', () => {
    expectError({ agents: [] }, 'agents');
    expectError({ agents: [{ username: 'x y', displayName: 'X' }] }, 'agents[0].username');
    expectError({ agents: [{ username: 'a', displayName: 'A' }, { username: 'A', displayName: 'B' }] }, 'listed twice');
    expectError({ agents: [{ username: 'a', displayName: 'Evil\u202Egnp.exe' }] }, 'agents[0].displayName');
    expectError({ agents: [{ username: 'a', displayName: 'line\nbreak' }] }, 'agents[0].displayName');
    expectError({ agents: [{ username: 'a', displayName: '' }] }, 'agents[0].displayName');
    expectError({ agents: [{ username: 'a', displayName: 'A', role: 'x' }] }, 'agents[0].role');
    expectError({ agents: [{ username: 'a', displayName: 'A', absences: [{ from: '2026-12-02', to: '2026-12-01' }] }] },
      'absences[0]');
    expectError({ agents: [{ username: 'a', displayName: 'A', absences: [{ from: '2026-02-30', to: '2026-03-01' }] }] },
      'absences[0]');
    expectError({ agents: [{ username: 'a', displayName: 'A', weekly: { mon: [{ from: '10', to: '12' }] } }] },
      'agents[0].weekly.mon[0]');
  });

  it('collects every problem at once and refuses non-objects', () => {
    assert.ok(errorsOf({ ...base(), slotMinutes: 0, horizonDays: 0 }).length >= 2);
    assert.deepEqual(errorsOf(null), ['schedule: expected an object']);
    assert.deepEqual(errorsOf([]), ['schedule: expected an object']);
    assert.ok(errorsOf(JSON.parse('{"__proto__": {"x": 1}, "slotMinutes": 30}')).length > 0);
  });
});
