import { DateTime } from 'luxon';

/** Whether Bevrijdingsdag (5 May) closes the office: by law a day off only in lustrum years in most CAOs. */
export type LiberationDayRule = 'lustrum' | 'always' | 'never';

export interface Holiday {
  /** Local date YYYY-MM-DD. */
  date: string;
  name: string;
  nameEn: string;
  /** False only for Bevrijdingsdag in a year the rule does not close the office. */
  closed: boolean;
}

export interface HolidayOptions {
  liberationDay?: LiberationDayRule;
}

/**
 * Easter Sunday (Gregorian) by the anonymous Gregorian algorithm (Meeus/Jones/Butcher), so no year table goes stale.
 * Returns [month, day].
 */
export function easterSunday(year: number): [number, number] {
  if (!Number.isInteger(year) || year < 1583 || year > 9999) throw new RangeError('year out of range');
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

function isoDate(dt: DateTime): string {
  return dt.toISODate() as string;
}

/** Dutch public holidays of one year, in date order. Bevrijdingsdag is always listed; `closed` tells whether it counts. */
export function dutchHolidays(year: number, options: HolidayOptions = {}): Holiday[] {
  const rule = options.liberationDay ?? 'lustrum';
  const [em, ed] = easterSunday(year);
  // UTC dates: pure calendar arithmetic, independent of the machine's TZ and of DST.
  const easter = DateTime.utc(year, em, ed);
  const kingsDay = DateTime.utc(year, 4, 27);
  const list: Holiday[] = [
    { date: isoDate(DateTime.utc(year, 1, 1)), name: 'Nieuwjaarsdag', nameEn: "New Year's Day", closed: true },
    { date: isoDate(easter.minus({ days: 2 })), name: 'Goede Vrijdag', nameEn: 'Good Friday', closed: true },
    { date: isoDate(easter), name: 'Eerste Paasdag', nameEn: 'Easter Sunday', closed: true },
    { date: isoDate(easter.plus({ days: 1 })), name: 'Tweede Paasdag', nameEn: 'Easter Monday', closed: true },
    {
      // Koningsdag moves to Saturday 26 April when 27 April is a Sunday.
      date: isoDate(kingsDay.weekday === 7 ? kingsDay.minus({ days: 1 }) : kingsDay),
      name: 'Koningsdag',
      nameEn: "King's Day",
      closed: true,
    },
    {
      date: isoDate(DateTime.utc(year, 5, 5)),
      name: 'Bevrijdingsdag',
      nameEn: 'Liberation Day',
      closed: rule === 'always' || (rule === 'lustrum' && year % 5 === 0),
    },
    { date: isoDate(easter.plus({ days: 39 })), name: 'Hemelvaartsdag', nameEn: 'Ascension Day', closed: true },
    { date: isoDate(easter.plus({ days: 49 })), name: 'Eerste Pinksterdag', nameEn: 'Whit Sunday', closed: true },
    { date: isoDate(easter.plus({ days: 50 })), name: 'Tweede Pinksterdag', nameEn: 'Whit Monday', closed: true },
    { date: isoDate(DateTime.utc(year, 12, 25)), name: 'Eerste Kerstdag', nameEn: 'Christmas Day', closed: true },
    { date: isoDate(DateTime.utc(year, 12, 26)), name: 'Tweede Kerstdag', nameEn: 'Boxing Day', closed: true },
  ];
  return list.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
}

const closedCache = new Map<string, Set<string>>();

/** The closed holiday dates of a year as a set (cached: slot computation asks per day). */
export function closedHolidayDates(year: number, options: HolidayOptions = {}): ReadonlySet<string> {
  const key = `${year}:${options.liberationDay ?? 'lustrum'}`;
  let set = closedCache.get(key);
  if (!set) {
    set = new Set(dutchHolidays(year, options).filter((h) => h.closed).map((h) => h.date));
    closedCache.set(key, set);
  }
  return set;
}
