import { DateTime } from 'luxon';
import { ZONE } from '../time';
import { amsterdamDateOf, wallTimeToUtcMs } from './public-time';
import { epochDay, formatLocalDate, fromEpochDay, parseClockMinutes, parseLocalDate, type LocalDate } from './calendar';
import { closedHolidayDates } from './holidays';
import { absenceInterval, WEEKDAYS, type Schedule, type WeeklyHours } from './schedule';

/** An appointment that occupies an agent (status booked). Times are stored UTC ISO strings. */
export interface Held {
  agent: string;
  startUtc: string;
  endUtc: string;
}

export interface Slot {
  /** UTC ISO, e.g. 2026-12-01T08:30:00.000Z. */
  start: string;
  end: string;
  /** Agents free for the whole slot; 0 means fully booked. */
  available: number;
  agents: string[];
}

export interface SlotQuery {
  /** First local (Amsterdam) date, YYYY-MM-DD, inclusive. */
  from: string;
  /** Last local date, inclusive. */
  to: string;
  now: DateTime;
  held: readonly Held[];
}

/** One position of the day's grid: absolute times plus the wall-clock minute it starts at. */
export interface GridSlot {
  startMs: number;
  endMs: number;
  wallMinute: number;
}

type Ranges = readonly (readonly [number, number])[];

interface CompiledAgent {
  username: string;
  /** Index 0 = Monday, wall-clock minute ranges. */
  weekly: Ranges[];
  absences: Ranges;
}

interface CompiledSchedule {
  opening: Ranges[];
  slotMs: number;
  slotMinutes: number;
  bufferMs: number;
  noticeMs: number;
  horizonDays: number;
  closing: ReadonlySet<string>;
  schedule: Schedule;
  agents: CompiledAgent[];
  /** dayGrid per epoch day: the grid depends only on the schedule and the date, and costs luxon calls. */
  grids: Map<number, GridSlot[]>;
}

const MINUTE = 60_000;
/** Longer queries are refused: a caller asking for years of slots is a bug or an attack. */
export const MAX_QUERY_DAYS = 400;

function compileWeekly(weekly: WeeklyHours): Ranges[] {
  return WEEKDAYS.map((d) =>
    (weekly[d] ?? []).map((r) => [parseClockMinutes(r.from) as number, parseClockMinutes(r.to, true) as number] as const),
  );
}

const compiled = new WeakMap<Schedule, CompiledSchedule>();

/** Schedules are immutable after validation, so the parsed form is cached per object. */
function compile(schedule: Schedule): CompiledSchedule {
  let c = compiled.get(schedule);
  if (c) return c;
  const opening = compileWeekly(schedule.openingHours);
  c = {
    opening,
    slotMs: schedule.slotMinutes * MINUTE,
    slotMinutes: schedule.slotMinutes,
    bufferMs: schedule.bufferMinutes * MINUTE,
    noticeMs: schedule.minNoticeMinutes * MINUTE,
    horizonDays: schedule.horizonDays,
    closing: new Set(schedule.closingDays),
    schedule,
    agents: schedule.agents.map((a) => ({
      username: a.username,
      weekly: a.weekly ? compileWeekly(a.weekly) : opening,
      absences: (a.absences ?? [])
        .map(absenceInterval)
        .filter((x): x is [number, number] => x !== null)
        .sort((x, y) => x[0] - y[0]),
    })),
    grids: new Map(),
  };
  compiled.set(schedule, c);
  return c;
}

/** Monday = 0 for a day count since 1970-01-01 (a Thursday). */
function weekdayIndex(day: number): number {
  return (day + 3) % 7;
}

/** Whether the office is closed on that date (closing day or, when configured, a closed public holiday). */
export function isClosedDay(schedule: Schedule, date: LocalDate): boolean {
  const c = compile(schedule);
  const iso = formatLocalDate(date);
  if (c.closing.has(iso)) return true;
  return schedule.dutchHolidays && closedHolidayDates(date.year, { liberationDay: schedule.liberationDay }).has(iso);
}

/**
 * The day's slot grid from the opening hours, in absolute time. Each opening range restarts the grid at its `from`,
 * so a break never leaves a slot straddling it. On DST days a wall-clock start that does not exist is skipped and an
 * ambiguous one occurs once (luxon's choice of offset), so no slot is missing twice or doubled.
 */
export function dayGrid(schedule: Schedule, date: LocalDate): readonly GridSlot[] {
  const c = compile(schedule);
  const day = epochDay(date);
  let grid = c.grids.get(day);
  if (!grid) {
    grid = buildDayGrid(c, date, day);
    if (c.grids.size > 2000) c.grids.clear();
    c.grids.set(day, Object.freeze(grid) as GridSlot[]);
  }
  return grid;
}

function buildDayGrid(c: CompiledSchedule, date: LocalDate, day: number): GridSlot[] {
  const ranges = c.opening[weekdayIndex(day)];
  if (ranges.length === 0) return [];
  const midnight = DateTime.fromObject(date, { zone: ZONE });
  const nextMidnight = midnight.plus({ days: 1 });
  const steady = midnight.offset === nextMidnight.offset;
  const baseMs = Date.UTC(date.year, date.month - 1, date.day) - midnight.offset * MINUTE;
  // Fast path for the 363 days without a transition: wall-clock minutes map linearly onto absolute time.
  const toMs = (wall: number): number | null => {
    if (steady) return baseMs + wall * MINUTE;
    if (wall >= 1440) return nextMidnight.toMillis();
    return wallTimeToUtcMs(date, wall);
  };
  const out: GridSlot[] = [];
  for (const [from, to] of ranges) {
    const rangeEndMs = steady ? baseMs + to * MINUTE : nextExistingMs(toMs, to);
    for (let wall = from; wall + c.slotMinutes <= to; wall += c.slotMinutes) {
      const startMs = toMs(wall);
      if (startMs === null) continue;
      const endMs = startMs + c.slotMs;
      if (endMs > rangeEndMs) continue;
      out.push(Object.freeze({ startMs, endMs, wallMinute: wall }));
    }
  }
  return out;
}

/** A range end that falls in the spring-forward gap counts as the first existing minute after it. */
function nextExistingMs(toMs: (wall: number) => number | null, wall: number): number {
  for (let w = wall; w <= 1440; w++) {
    const ms = toMs(w);
    if (ms !== null) return ms;
  }
  return Number.POSITIVE_INFINITY;
}

/** Held appointments per agent, sorted by start, for binary search. */
export interface HeldIndex {
  byAgent: Map<string, { starts: number[]; ends: number[]; maxLen: number }>;
}

export function indexHeld(held: readonly Held[]): HeldIndex {
  const tmp = new Map<string, [number, number][]>();
  for (const h of held) {
    const s = Date.parse(h.startUtc);
    const e = Date.parse(h.endUtc);
    if (!Number.isFinite(s) || !Number.isFinite(e)) continue;
    let list = tmp.get(h.agent);
    if (!list) tmp.set(h.agent, (list = []));
    list.push([s, e]);
  }
  const byAgent: HeldIndex['byAgent'] = new Map();
  for (const [agent, list] of tmp) {
    list.sort((a, b) => a[0] - b[0]);
    byAgent.set(agent, {
      starts: list.map((x) => x[0]),
      ends: list.map((x) => x[1]),
      maxLen: list.reduce((m, x) => Math.max(m, x[1] - x[0]), 0),
    });
  }
  return { byAgent };
}

/** Whether any of the agent's held appointments, widened by the buffer on both sides, overlaps [startMs, endMs). */
function heldOverlaps(index: HeldIndex, agent: string, startMs: number, endMs: number, bufferMs: number): boolean {
  const h = index.byAgent.get(agent);
  if (!h) return false;
  // Last held appointment starting before endMs + buffer; walk back while one could still reach the slot.
  let lo = 0;
  let hi = h.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h.starts[mid] < endMs + bufferMs) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && h.starts[i] + h.maxLen + bufferMs > startMs; i--) {
    if (h.ends[i] + bufferMs > startMs) return true;
  }
  return false;
}

function covers(ranges: Ranges, from: number, to: number): boolean {
  for (const [a, b] of ranges) if (a <= from && to <= b) return true;
  return false;
}

function absent(absences: Ranges, startMs: number, endMs: number): boolean {
  for (const [a, b] of absences) {
    if (a >= endMs) break;
    if (b > startMs) return true;
  }
  return false;
}

/** Agents whose weekly hours cover the slot and who are not absent (ignores appointments). */
export function scheduledAgents(schedule: Schedule, date: LocalDate, slot: GridSlot): string[] {
  const c = compile(schedule);
  const wd = weekdayIndex(epochDay(date));
  return c.agents
    .filter((a) => covers(a.weekly[wd], slot.wallMinute, slot.wallMinute + c.slotMinutes))
    .filter((a) => !absent(a.absences, slot.startMs, slot.endMs))
    .map((a) => a.username);
}

/** Of the given agents, those with no held appointment (plus buffer) overlapping the slot. */
export function freeAgents(schedule: Schedule, agents: readonly string[], slot: GridSlot, held: HeldIndex): string[] {
  const c = compile(schedule);
  return agents.filter((a) => !heldOverlaps(held, a, slot.startMs, slot.endMs, c.bufferMs));
}

export type BookableReason = 'off_grid' | 'past' | 'too_soon' | 'beyond_horizon' | 'closed';

/**
 * Whether a start instant can be booked at `now` as far as the calendar goes: on the grid of an open day, not in the
 * past, with enough notice, within the horizon. Appointments are not considered here (see freeAgents).
 */
export function checkBookable(
  schedule: Schedule,
  startMs: number,
  now: DateTime,
): { ok: true; date: LocalDate; slot: GridSlot } | { ok: false; reason: BookableReason } {
  const c = compile(schedule);
  // Amsterdam dates without a luxon zone conversion per booking (lib/appointments/public-time.ts).
  const date = amsterdamDateOf(startMs);
  const nowMs = now.toMillis();
  if (startMs <= nowMs) return { ok: false, reason: 'past' };
  const slot = dayGrid(schedule, date).find((s) => s.startMs === startMs);
  if (!slot) return { ok: false, reason: 'off_grid' };
  if (isClosedDay(schedule, date)) return { ok: false, reason: 'closed' };
  if (epochDay(date) > epochDay(amsterdamDateOf(nowMs)) + c.horizonDays) {
    return { ok: false, reason: 'beyond_horizon' };
  }
  if (startMs < nowMs + c.noticeMs) return { ok: false, reason: 'too_soon' };
  return { ok: true, date, slot };
}

/**
 * All bookable slots between two local dates (inclusive), with the agents free for each. Slots that are fully booked
 * are included with available 0 (a form can show them as taken); slots in the past, within the notice period, beyond
 * the horizon or on closed days are left out.
 */
export function computeSlots(schedule: Schedule, query: SlotQuery): Slot[] {
  const from = parseLocalDate(query.from);
  const to = parseLocalDate(query.to);
  if (!from || !to) throw new RangeError('from and to must be dates YYYY-MM-DD');
  const c = compile(schedule);
  const firstDay = epochDay(from);
  const lastRequested = epochDay(to);
  if (lastRequested - firstDay + 1 > MAX_QUERY_DAYS) throw new RangeError('date range too long');
  const nowMs = query.now.toMillis();
  const today = query.now.setZone(ZONE);
  const todayDay = epochDay({ year: today.year, month: today.month, day: today.day });
  const lastDay = Math.min(lastRequested, todayDay + c.horizonDays);
  const earliestMs = nowMs + c.noticeMs;
  const held = indexHeld(query.held);
  const out: Slot[] = [];
  for (let day = Math.max(firstDay, todayDay); day <= lastDay; day++) {
    const date = fromEpochDay(day);
    if (isClosedDay(schedule, date)) continue;
    for (const slot of dayGrid(schedule, date)) {
      if (slot.startMs < earliestMs || slot.startMs <= nowMs) continue;
      const agents = freeAgents(schedule, scheduledAgents(schedule, date, slot), slot, held);
      out.push({
        start: new Date(slot.startMs).toISOString(),
        end: new Date(slot.endMs).toISOString(),
        available: agents.length,
        agents,
      });
    }
  }
  return out;
}
