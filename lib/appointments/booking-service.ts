import { DateTime } from 'luxon';
import { UserError } from '../errors';
import { hashToken, looksLikeToken, newToken } from '../security/tokens';
import { toStoredUtc } from '../time';
import { publicIsoFromMillis, wallTimeToUtcMs } from './public-time';
import type { BookingInput } from './booking-input';
import { epochDay, formatLocalDate, fromEpochDay, parseLocalDate, type LocalDate } from './calendar';
import { messageFor } from './messages';
import type { Schedule } from './schedule';
import { checkBookable, computeSlots, freeAgents, indexHeld, scheduledAgents, type BookableReason } from './slots';
import type { NewEvent } from '../events/types';
import type { Appointment, AppointmentStore, CancelResult, Channel, RescheduleResult } from './store';

export interface BookingServiceOptions {
  store: AppointmentStore;
  /** Read per call, so a redeployed schedule applies to the next request. Must return a validated Schedule. */
  getSchedule: () => Schedule | Promise<Schedule>;
  now?: () => DateTime;
  /** A repeat of the same booking (e-mail, start, topic) within this window returns the first. Default 10. */
  idempotencyWindowMinutes?: number;
  /** Told of each new booking (not of a repeat answered with the first one), for the bookings-by-channel metric. */
  onBooked?(channel: Channel): void;
}

/** A free slot as the public API shows it: ISO 8601 with the Amsterdam offset. */
export interface PublicSlot {
  start: string;
  end: string;
  available: number;
}

export interface BookContext {
  channel: Channel;
  /** Staff username when a KCC employee books for a resident; omitted/null for the website. */
  bookedBy?: string | null;
  /** Source and facts of the 'booked' event written with the booking (lib/events). */
  event?: NewEvent;
}

export interface BookResult {
  appointment: Appointment;
  /**
   * The 'booked' event written in the booking's transaction; null for a duplicate (the first request's event
   * stands). There is no cancel token here: the hand-off of this event issues it (lib/access/handoff.ts).
   */
  eventId: string | null;
  duplicate: boolean;
}

export interface BookingService {
  /** Free slots between two local dates (inclusive, YYYY-MM-DD); validates like parseSlotsQuery. */
  slots(from: string, to: string): Promise<PublicSlot[]>;
  book(input: BookingInput, context: BookContext): Promise<BookResult>;
  /** The booked, future appointment a cancel token belongs to (for the confirm page); else 404 link_invalid. */
  appointmentForCancelToken(token: unknown): Promise<Appointment>;
  /** Cancels by the resident's token; the token is dead afterwards. Unknown/used/expired: 404 link_invalid. */
  cancelByToken(token: unknown, event?: NewEvent): Promise<CancelResult>;
  cancelByStaff(id: string, username: string, event?: NewEvent): Promise<CancelResult>;
  /**
   * Moves the appointment of a resident's token to another free slot (`start`: UTC ISO from parseBookingInput's rule
   * or an ISO 8601 instant with offset). The token dies with the move. Unknown, used, cancelled or past: 404
   * link_invalid; the same time: 400 same_slot; a slot that went meanwhile: 409 slot_taken (nothing moved).
   */
  rescheduleByToken(token: unknown, start: unknown, event?: NewEvent): Promise<RescheduleResult>;
  /** The same for an employee (KCC list): 404 not_found, 409 already_cancelled / appointment_over / slot_taken. */
  rescheduleByStaff(id: string, username: string, start: unknown, event?: NewEvent): Promise<RescheduleResult>;
  get(id: string): Promise<Appointment | null>;
  /** The agent's appointments starting in [fromUtc, toUtc) (ISO 8601 instants with an offset). */
  listForAgent(username: string, fromUtc: string, toUtc: string): Promise<Appointment[]>;
}

export const MAX_SLOT_QUERY_DAYS = 62;
const ID_RE = /^[A-Za-z0-9_-]{22}$/;
const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

const REASON_CODE: Record<BookableReason, string> = {
  off_grid: 'slot_off_grid',
  past: 'slot_past',
  too_soon: 'slot_too_soon',
  beyond_horizon: 'slot_beyond_horizon',
  closed: 'slot_closed',
};

function userError(status: number, code: string, fields?: Record<string, string>): UserError {
  return new UserError(status, code, messageFor(code, 'nl'), fields);
}

/**
 * Validates the slots API query (`from`, `to`: YYYY-MM-DD, from <= to, at most 62 days inclusive).
 * Throws UserError(400, 'invalid_query', text, fields) with field codes such as 'date.invalid'.
 */
export function parseSlotsQuery(query: unknown, maxDays = MAX_SLOT_QUERY_DAYS): { from: string; to: string } {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const from = parseLocalDate(q.from);
  const to = parseLocalDate(q.to);
  const fields: Record<string, string> = {};
  if (!from) fields.from = 'date.invalid';
  if (!to) fields.to = 'date.invalid';
  if (from && to) {
    const span = epochDay(to) - epochDay(from) + 1;
    if (span < 1) fields.to = 'query.to_before_from';
    else if (span > maxDays) fields.to = 'query.too_long';
  }
  if (Object.keys(fields).length > 0 || !from || !to) throw userError(400, 'invalid_query', fields);
  return { from: formatLocalDate(from), to: formatLocalDate(to) };
}

function dayBoundsUtc(date: LocalDate): [string, string] {
  // Midnight exists on every Amsterdam day (the clocks change at 02:00 and 03:00).
  const next = fromEpochDay(epochDay(date) + 1);
  return [new Date(wallTimeToUtcMs(date, 0) as number).toISOString(), new Date(wallTimeToUtcMs(next, 0) as number).toISOString()];
}

function shiftUtc(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** Resident, moment and topic identify a repeat submission; hashed so the key itself reveals nothing. */
function idempotencyKey(input: BookingInput): string {
  return hashToken(`${input.email.toLowerCase()}\n${input.start}\n${input.topic}`);
}

function isSlotTaken(e: unknown): boolean {
  return e instanceof UserError && e.code === 'slot_taken';
}

function instantToUtc(value: string, field: string): string {
  const dt = INSTANT_RE.test(value) ? DateTime.fromISO(value, { setZone: true }) : null;
  if (!dt || !dt.isValid) throw userError(400, 'invalid_query', { [field]: 'date.invalid' });
  return toStoredUtc(dt);
}

export function createBookingService(options: BookingServiceOptions): BookingService {
  const { store, getSchedule } = options;
  const now = options.now ?? (() => DateTime.utc());
  const windowMs = (options.idempotencyWindowMinutes ?? 10) * 60_000;

  async function liveAppointmentForToken(token: unknown, at: DateTime): Promise<Appointment> {
    // One error for malformed, unknown, cancelled and past tokens: the answer must not tell them apart.
    const invalid = userError(404, 'link_invalid');
    if (!looksLikeToken(token)) throw invalid;
    const appointment = await store.findByCancelTokenHash(hashToken(token));
    if (!appointment || appointment.status !== 'booked' || Date.parse(appointment.startUtc) <= at.toMillis()) {
      throw invalid;
    }
    return appointment;
  }

  /** Checks the new slot and moves; shared by both doors. */
  async function move(appointment: Appointment, start: unknown, at: DateTime, tokenHash: string | undefined, event?: NewEvent): Promise<RescheduleResult | null> {
    if (typeof start !== 'string' || start.length > 40) throw userError(400, 'invalid_input', { start: 'start.required' });
    const startUtcAsked = instantToUtc(start, 'start');
    const schedule = await getSchedule();
    const check = checkBookable(schedule, Date.parse(startUtcAsked), at);
    if (!check.ok) throw userError(400, REASON_CODE[check.reason], { start: REASON_CODE[check.reason] });
    const { slot, date } = check;
    const startUtc = new Date(slot.startMs).toISOString();
    const endUtc = new Date(slot.endMs).toISOString();
    if (startUtc === appointment.startUtc) throw userError(400, 'same_slot', { start: 'same_slot' });
    const bufferMs = schedule.bufferMinutes * 60_000;
    // The appointment's own place does not count against the new one (a move of 30 minutes within one's buffer).
    const held = (await store.heldInRange(shiftUtc(startUtc, -bufferMs), shiftUtc(endUtc, bufferMs))).filter(
      (h) => !(h.agent === appointment.agent && h.startUtc === appointment.startUtc),
    );
    const free = freeAgents(schedule, scheduledAgents(schedule, date, slot), slot, indexHeld(held));
    // Keep the agent when they are free: the resident and the agent keep the same appointment.
    const candidates = free.includes(appointment.agent) ? [appointment.agent, ...free.filter((a) => a !== appointment.agent)] : free;
    const [dayStartUtc, dayEndUtc] = dayBoundsUtc(date);
    return store.reschedule(
      appointment.id,
      {
        startUtc,
        endUtc,
        claim: { candidates: free.includes(appointment.agent) ? [appointment.agent] : candidates, dayStartUtc, dayEndUtc, bufferMinutes: schedule.bufferMinutes },
        atUtc: toStoredUtc(at),
        ...(tokenHash ? { tokenHash } : {}),
        newCancelTokenHash: hashToken(newToken()),
      },
      event,
    ).catch(async (e: unknown) => {
      // The own agent lost the new slot in a race: any other free agent may still take it.
      if (!(isSlotTaken(e) && free.includes(appointment.agent) && candidates.length > 1)) throw e;
      return store.reschedule(
        appointment.id,
        { startUtc, endUtc, claim: { candidates: candidates.slice(1), dayStartUtc, dayEndUtc, bufferMinutes: schedule.bufferMinutes }, atUtc: toStoredUtc(at), ...(tokenHash ? { tokenHash } : {}), newCancelTokenHash: hashToken(newToken()) },
        event,
      );
    });
  }

  return {
    async rescheduleByToken(token, start, event) {
      const at = now();
      const appointment = await liveAppointmentForToken(token, at);
      const moved = await move(appointment, start, at, hashToken(token as string), event);
      if (!moved) throw userError(404, 'link_invalid');
      return moved;
    },

    async rescheduleByStaff(id, username, start, event) {
      if (typeof username !== 'string' || username === '') throw new Error('rescheduleByStaff needs a username');
      const at = now();
      const appointment = ID_RE.test(id) ? await store.get(id) : null;
      if (!appointment) throw userError(404, 'not_found');
      if (appointment.status !== 'booked') throw userError(409, 'already_cancelled');
      if (Date.parse(appointment.startUtc) <= at.toMillis()) throw userError(409, 'appointment_over');
      const moved = await move(appointment, start, at, undefined, event);
      if (!moved) throw userError(409, 'already_cancelled');
      return moved;
    },

    async slots(fromDate, toDate) {
      const { from, to } = parseSlotsQuery({ from: fromDate, to: toDate });
      const schedule = await getSchedule();
      const bufferMs = schedule.bufferMinutes * 60_000;
      const [rangeStart] = dayBoundsUtc(parseLocalDate(from) as LocalDate);
      const [, rangeEnd] = dayBoundsUtc(parseLocalDate(to) as LocalDate);
      const held = await store.heldInRange(shiftUtc(rangeStart, -bufferMs), shiftUtc(rangeEnd, bufferMs));
      return computeSlots(schedule, { from, to, now: now(), held })
        .filter((s) => s.available > 0)
        .map((s) => ({ start: publicIsoFromMillis(Date.parse(s.start)), end: publicIsoFromMillis(Date.parse(s.end)), available: s.available }));
    },

    async book(input, context) {
      if (context.channel !== 'website' && context.channel !== 'phone') throw new Error('unknown channel');
      const bookedBy = context.bookedBy ?? null;
      if (bookedBy !== null && (typeof bookedBy !== 'string' || bookedBy === '')) throw new Error('bad bookedBy');
      // A phone booking is made by a KCC employee; who did it belongs in the record.
      if (context.channel === 'phone' && bookedBy === null) throw new Error('a phone booking needs bookedBy');
      if (!UTC_RE.test(input.start)) throw new Error('input.start must come from parseBookingInput');
      const schedule = await getSchedule();
      const at = now();
      const startMs = Date.parse(input.start);
      const check = checkBookable(schedule, startMs, at);
      if (!check.ok) throw userError(400, REASON_CODE[check.reason], { start: REASON_CODE[check.reason] });
      const { slot, date } = check;
      const startUtc = new Date(slot.startMs).toISOString();
      const endUtc = new Date(slot.endMs).toISOString();
      // Every agent the schedule has for this slot: the store checks who is still free (the slot claim and the
      // overlap with the buffer, under its lock) and takes the one with the fewest appointments that day, so reading
      // the held appointments first would only cost a round trip per booking. The store also recognises a repeat of
      // one's own booking of the last place instead of answering 409.
      const candidates = scheduledAgents(schedule, date, slot);
      const [dayStartUtc, dayEndUtc] = dayBoundsUtc(date);
      const result = await store.create(
        {
          startUtc,
          endUtc,
          topic: input.topic,
          channel: context.channel,
          bookedBy,
          resident: {
            name: input.name,
            email: input.email,
            phone: input.phone ?? null,
            remarks: input.remarks ?? null,
            ...(input.sms ? { sms: true } : {}),
          },
          // A token nobody keeps: until the hand-off mails a real one, no cancel link works.
          cancelTokenHash: hashToken(newToken()),
          idempotencyKey: idempotencyKey(input),
          createdAt: toStoredUtc(at),
        },
        {
          candidates,
          dayStartUtc,
          dayEndUtc,
          bufferMinutes: schedule.bufferMinutes,
          idempotentSinceUtc: new Date(at.toMillis() - windowMs).toISOString(),
        },
        context.event,
      );
      if (!result.duplicate) options.onBooked?.(context.channel);
      return { appointment: result.appointment, eventId: result.eventId, duplicate: result.duplicate };
    },

    async appointmentForCancelToken(token) {
      return liveAppointmentForToken(token, now());
    },

    async cancelByToken(token, event) {
      const at = now();
      const appointment = await liveAppointmentForToken(token, at);
      const cancelled = await store.cancel(appointment.id, null, toStoredUtc(at), event);
      if (!cancelled) throw userError(404, 'link_invalid');
      return cancelled;
    },

    async cancelByStaff(id, username, event) {
      if (typeof username !== 'string' || username === '') throw new Error('cancelByStaff needs a username');
      const at = now();
      const appointment = ID_RE.test(id) ? await store.get(id) : null;
      if (!appointment) throw userError(404, 'not_found');
      if (appointment.status !== 'booked') throw userError(409, 'already_cancelled');
      if (Date.parse(appointment.endUtc) <= at.toMillis()) throw userError(409, 'appointment_over');
      const cancelled = await store.cancel(appointment.id, username, toStoredUtc(at), event);
      if (!cancelled) throw userError(409, 'already_cancelled');
      return cancelled;
    },

    async get(id) {
      return typeof id === 'string' && ID_RE.test(id) ? store.get(id) : null;
    },

    async listForAgent(username, fromUtc, toUtc) {
      const from = instantToUtc(fromUtc, 'from');
      const to = instantToUtc(toUtc, 'to');
      if (to < from) throw userError(400, 'invalid_query', { to: 'query.to_before_from' });
      return store.listForAgent(username, from, to);
    },
  };
}
