import { strict as assert } from 'node:assert';
import { closedHolidayDates, dutchHolidays, easterSunday } from '../../../lib/appointments/holidays';

function byName(year: number, opts = {}): Record<string, string> {
  return Object.fromEntries(dutchHolidays(year, opts).map((h) => [h.name, h.date]));
}

describe('appointments/holidays', () => {
  it('computes Easter for known years', () => {
    assert.deepEqual(easterSunday(2024), [3, 31]);
    assert.deepEqual(easterSunday(2025), [4, 20]);
    assert.deepEqual(easterSunday(2026), [4, 5]);
    assert.deepEqual(easterSunday(2027), [3, 28]);
    assert.deepEqual(easterSunday(2038), [4, 25]); // latest possible date
    assert.deepEqual(easterSunday(2285), [3, 22]); // earliest possible date
    assert.throws(() => easterSunday(1500), RangeError);
    assert.throws(() => easterSunday(2026.5), RangeError);
  });

  it('lists the Dutch holidays of 2026', () => {
    assert.deepEqual(byName(2026), {
      Nieuwjaarsdag: '2026-01-01',
      'Goede Vrijdag': '2026-04-03',
      'Eerste Paasdag': '2026-04-05',
      'Tweede Paasdag': '2026-04-06',
      Koningsdag: '2026-04-27',
      Bevrijdingsdag: '2026-05-05',
      Hemelvaartsdag: '2026-05-14',
      'Eerste Pinksterdag': '2026-05-24',
      'Tweede Pinksterdag': '2026-05-25',
      'Eerste Kerstdag': '2026-12-25',
      'Tweede Kerstdag': '2026-12-26',
    });
    const closed = closedHolidayDates(2026);
    assert.equal(closed.has('2026-05-05'), false, '2026 is no lustrum year');
    assert.equal(closed.size, 10);
    const dates = dutchHolidays(2026).map((h) => h.date);
    assert.deepEqual(dates, [...dates].sort(), 'in date order');
  });

  it('lists the Dutch holidays of 2027', () => {
    assert.deepEqual(byName(2027), {
      Nieuwjaarsdag: '2027-01-01',
      'Goede Vrijdag': '2027-03-26',
      'Eerste Paasdag': '2027-03-28',
      'Tweede Paasdag': '2027-03-29',
      Koningsdag: '2027-04-27',
      Bevrijdingsdag: '2027-05-05',
      Hemelvaartsdag: '2027-05-06',
      'Eerste Pinksterdag': '2027-05-16',
      'Tweede Pinksterdag': '2027-05-17',
      'Eerste Kerstdag': '2027-12-25',
      'Tweede Kerstdag': '2027-12-26',
    });
  });

  it('moves Koningsdag to 26 April when 27 April is a Sunday (2025, 2031)', () => {
    assert.equal(byName(2025).Koningsdag, '2025-04-26');
    assert.equal(byName(2031).Koningsdag, '2031-04-26');
  });

  it('closes on Bevrijdingsdag per rule: lustrum by default, always, never', () => {
    assert.equal(closedHolidayDates(2025).has('2025-05-05'), true);
    assert.equal(closedHolidayDates(2030).has('2030-05-05'), true);
    assert.equal(closedHolidayDates(2026, { liberationDay: 'always' }).has('2026-05-05'), true);
    assert.equal(closedHolidayDates(2025, { liberationDay: 'never' }).has('2025-05-05'), false);
  });
});
