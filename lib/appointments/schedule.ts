import { DateTime } from 'luxon';
import { ZONE } from '../time';
import { parseClockMinutes, parseLocalDate, type LocalDate } from './calendar';
import { wallTimeToUtcMs } from './public-time';
import type { LiberationDayRule } from './holidays';


/** The longest slot (and so the longest appointment) a schedule may have; the stores' range queries rely on it. */
export const MAX_SLOT_MINUTES = 240;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Wall-clock range in Europe/Amsterdam, "HH:mm"; `to` may be "24:00". */
export interface TimeRange {
  from: string;
  to: string;
}

/** Opening hours per weekday; a missing or empty day is closed. Several ranges = breaks between them. */
export type WeeklyHours = Partial<Record<Weekday, TimeRange[]>>;

/**
 * An agent's absence. A date (YYYY-MM-DD) as `from` means the start of that day, as `to` the end of that day
 * (inclusive). A datetime without an offset is Amsterdam wall-clock time.
 */
export interface Absence {
  from: string;
  to: string;
}

export interface ScheduleAgent {
  /** Staff username (plain string: not a foreign key, a schedule may name staff that sign in later). */
  username: string;
  displayName: string;
  /** Defaults to the opening hours. Slots only exist within opening hours, whatever this says. */
  weekly?: WeeklyHours;
  absences?: Absence[];
}

export interface Schedule {
  openingHours: WeeklyHours;
  slotMinutes: number;
  /** Minimum gap between two appointments of the same agent (before and after). */
  bufferMinutes: number;
  /** A slot must start at least this long after now. */
  minNoticeMinutes: number;
  /** Slots are offered up to and including today (Amsterdam) + horizonDays. */
  horizonDays: number;
  /** Extra closed dates, YYYY-MM-DD. */
  closingDays: string[];
  /** Close on Dutch public holidays. */
  dutchHolidays: boolean;
  /** Whether 5 May closes (only applies when dutchHolidays is true). */
  liberationDay: LiberationDayRule;
  agents: ScheduleAgent[];
}

export type ScheduleResult = { schedule: Schedule } | { errors: string[] };

const SCHEDULE_KEYS = new Set([
  'openingHours',
  'slotMinutes',
  'bufferMinutes',
  'minNoticeMinutes',
  'horizonDays',
  'closingDays',
  'dutchHolidays',
  'liberationDay',
  'agents',
]);
const AGENT_KEYS = new Set(['username', 'displayName', 'weekly', 'absences']);
const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
// Control characters and bidi overrides/isolates: they would garble or disguise names on agents' screens.
const UNSAFE_TEXT_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

const ABS_DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const ABS_DATETIME_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * An absence as a half-open UTC interval [start, end) in epoch milliseconds, or null when a bound is not a valid
 * date/datetime or `to` is not after `from`.
 */
export function absenceInterval(absence: Absence): [number, number] | null {
  const start = absenceBound(absence.from, false);
  const end = absenceBound(absence.to, true);
  if (start === null || end === null || end <= start) return null;
  return [start, end];
}

function absenceBound(value: unknown, isEnd: boolean): number | null {
  if (typeof value !== 'string') return null;
  if (ABS_DATE_RE.test(value)) {
    const d = parseLocalDate(value);
    if (!d) return null;
    const day = DateTime.fromObject(d, { zone: ZONE });
    return (isEnd ? day.plus({ days: 1 }) : day).toMillis();
  }
  const m = ABS_DATETIME_RE.exec(value);
  if (!m || !parseLocalDate(m[1]) || parseClockMinutes(m[2]) === null) return null;
  if (m[3]) {
    const dt = DateTime.fromISO(value, { setZone: true });
    return dt.isValid ? dt.toMillis() : null;
  }
  // A local time without offset: the first occurrence in October's doubled hour; in March's gap, the hour after.
  const date = parseLocalDate(m[1]) as LocalDate;
  const minutes = parseClockMinutes(m[2]) as number;
  return wallTimeToUtcMs(date, minutes) ?? wallTimeToUtcMs(date, minutes + 60);
}

function checkInt(v: unknown, path: string, min: number, max: number, errors: string[]): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    errors.push(`${path}: expected a whole number from ${min} to ${max}`);
    return min;
  }
  return v;
}

function checkText(v: unknown, path: string, max: number, errors: string[]): string {
  if (typeof v !== 'string' || v.trim() === '' || [...v].length > max || UNSAFE_TEXT_RE.test(v)) {
    errors.push(`${path}: expected text of 1 to ${max} characters without control characters`);
    return '';
  }
  return v.trim();
}

function checkWeekly(raw: unknown, path: string, errors: string[]): WeeklyHours {
  const out: WeeklyHours = {};
  if (!isPlainObject(raw)) {
    errors.push(`${path}: expected an object with weekdays (mon..sun) as keys`);
    return out;
  }
  for (const key of Object.keys(raw)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      errors.push(`${path}.${key}: unknown weekday (use mon, tue, wed, thu, fri, sat, sun)`);
      continue;
    }
    const ranges = raw[key];
    if (!Array.isArray(ranges) || ranges.length > 24) {
      errors.push(`${path}.${key}: expected a list of at most 24 {from, to} ranges`);
      continue;
    }
    const parsed: { from: number; to: number; range: TimeRange }[] = [];
    ranges.forEach((r: unknown, i) => {
      const p = `${path}.${key}[${i}]`;
      if (!isPlainObject(r) || Object.keys(r).some((k) => k !== 'from' && k !== 'to')) {
        errors.push(`${p}: expected {from: "HH:mm", to: "HH:mm"}`);
        return;
      }
      const from = parseClockMinutes(r.from);
      const to = parseClockMinutes(r.to, true);
      if (from === null) errors.push(`${p}.from: expected a time HH:mm (00:00..23:59)`);
      if (to === null) errors.push(`${p}.to: expected a time HH:mm (00:00..24:00)`);
      if (from === null || to === null) return;
      if (to <= from) {
        errors.push(`${p}: "to" must be after "from"`);
        return;
      }
      parsed.push({ from, to, range: { from: r.from as string, to: r.to as string } });
    });
    parsed.sort((a, b) => a.from - b.from);
    for (let i = 1; i < parsed.length; i++) {
      if (parsed[i].from < parsed[i - 1].to) {
        errors.push(`${path}.${key}: ranges ${parsed[i - 1].range.from}-${parsed[i - 1].range.to} and ` +
          `${parsed[i].range.from}-${parsed[i].range.to} overlap`);
      }
    }
    out[key as Weekday] = parsed.map((p) => p.range);
  }
  return out;
}

/**
 * Validates an `idv-schedule` configuration. Returns a normalised copy (defaults filled in, ranges sorted) or every
 * problem found, each prefixed with its path, so the editor can show them all at once.
 */
export function validateSchedule(raw: unknown): ScheduleResult {
  const errors: string[] = [];
  if (!isPlainObject(raw)) return { errors: ['schedule: expected an object'] };
  for (const key of Object.keys(raw)) if (!SCHEDULE_KEYS.has(key)) errors.push(`${key}: unknown setting`);

  const openingHours = checkWeekly(raw.openingHours, 'openingHours', errors);
  const slotMinutes = checkInt(raw.slotMinutes, 'slotMinutes', 5, MAX_SLOT_MINUTES, errors);
  const bufferMinutes = raw.bufferMinutes === undefined ? 0 : checkInt(raw.bufferMinutes, 'bufferMinutes', 0, 240, errors);
  const minNoticeMinutes = raw.minNoticeMinutes === undefined
    ? 60
    : checkInt(raw.minNoticeMinutes, 'minNoticeMinutes', 0, 60 * 24 * 60, errors);
  const horizonDays = raw.horizonDays === undefined ? 60 : checkInt(raw.horizonDays, 'horizonDays', 1, 366, errors);

  const closingDays: string[] = [];
  if (raw.closingDays !== undefined) {
    if (!Array.isArray(raw.closingDays) || raw.closingDays.length > 1000) {
      errors.push('closingDays: expected a list of dates YYYY-MM-DD');
    } else {
      raw.closingDays.forEach((d: unknown, i) => {
        if (!parseLocalDate(d)) errors.push(`closingDays[${i}]: expected a real date YYYY-MM-DD`);
        else if (!closingDays.includes(d as string)) closingDays.push(d as string);
      });
      closingDays.sort();
    }
  }

  let dutchHolidays = true;
  if (raw.dutchHolidays !== undefined) {
    if (typeof raw.dutchHolidays !== 'boolean') errors.push('dutchHolidays: expected true or false');
    else dutchHolidays = raw.dutchHolidays;
  }
  let liberationDay: LiberationDayRule = 'lustrum';
  if (raw.liberationDay !== undefined) {
    if (raw.liberationDay !== 'lustrum' && raw.liberationDay !== 'always' && raw.liberationDay !== 'never') {
      errors.push('liberationDay: expected "lustrum", "always" or "never"');
    } else liberationDay = raw.liberationDay;
  }

  const agents: ScheduleAgent[] = [];
  if (!Array.isArray(raw.agents) || raw.agents.length === 0 || raw.agents.length > 500) {
    errors.push('agents: expected a list of 1 to 500 agents');
  } else {
    const seen = new Set<string>();
    raw.agents.forEach((a: unknown, i) => {
      const p = `agents[${i}]`;
      if (!isPlainObject(a)) {
        errors.push(`${p}: expected {username, displayName, weekly?, absences?}`);
        return;
      }
      for (const key of Object.keys(a)) if (!AGENT_KEYS.has(key)) errors.push(`${p}.${key}: unknown setting`);
      let username = '';
      if (typeof a.username !== 'string' || !USERNAME_RE.test(a.username)) {
        errors.push(`${p}.username: expected 1 to 64 letters, digits or . _ @ -`);
      } else if (seen.has(a.username.toLowerCase())) {
        errors.push(`${p}.username: "${a.username}" is listed twice`);
      } else {
        username = a.username;
        seen.add(username.toLowerCase());
      }
      const displayName = checkText(a.displayName, `${p}.displayName`, 100, errors);
      const agent: ScheduleAgent = { username, displayName };
      if (a.weekly !== undefined) agent.weekly = checkWeekly(a.weekly, `${p}.weekly`, errors);
      if (a.absences !== undefined) {
        if (!Array.isArray(a.absences) || a.absences.length > 1000) {
          errors.push(`${p}.absences: expected a list of {from, to}`);
        } else {
          agent.absences = [];
          a.absences.forEach((ab: unknown, j) => {
            const q = `${p}.absences[${j}]`;
            if (!isPlainObject(ab) || Object.keys(ab).some((k) => k !== 'from' && k !== 'to')) {
              errors.push(`${q}: expected {from, to}`);
            } else if (!absenceInterval(ab as unknown as Absence)) {
              errors.push(`${q}: expected ISO dates or datetimes with "to" after "from"`);
            } else agent.absences?.push({ from: ab.from as string, to: ab.to as string });
          });
        }
      }
      agents.push(agent);
    });
  }

  if (errors.length > 0) return { errors };
  return {
    schedule: {
      openingHours,
      slotMinutes,
      bufferMinutes,
      minNoticeMinutes,
      horizonDays,
      closingDays,
      dutchHolidays,
      liberationDay,
      agents,
    },
  };
}

/** Validates or throws: for configuration that must be right at start (a programming or deployment error). */
export function scheduleOrThrow(raw: unknown): Schedule {
  const result = validateSchedule(raw);
  if ('errors' in result) throw new Error(`invalid schedule: ${result.errors.join('; ')}`);
  return result.schedule;
}

/** Demo and default schedule: Monday to Friday 09:00-17:00, 30-minute slots, two agents. */
export function demoSchedule(): Schedule {
  const day: TimeRange[] = [{ from: '09:00', to: '17:00' }];
  return scheduleOrThrow({
    openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day },
    slotMinutes: 30,
    bufferMinutes: 0,
    minNoticeMinutes: 60,
    horizonDays: 60,
    closingDays: [],
    dutchHolidays: true,
    liberationDay: 'lustrum',
    agents: [
      { username: 'agent1', displayName: 'Agent 1' },
      { username: 'agent2', displayName: 'Agent 2' },
    ],
  });
}
