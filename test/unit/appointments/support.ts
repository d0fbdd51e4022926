import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { openDatabase, type Db } from '../../../lib/store/db';
import { createBookingService, type BookingService } from '../../../lib/appointments/booking-service';
import { scheduleOrThrow, type Schedule } from '../../../lib/appointments/schedule';
import type { AppointmentStore, NewAppointment } from '../../../lib/appointments/store';
import { isUserError, type UserError } from '../../../lib/errors';
import { hasMessage } from '../../../lib/appointments/messages';
import { hashToken, newToken } from '../../../lib/security/tokens';
import type { Store } from '../../../lib/store/store';

/** A real SQLite file (all migrations applied) in a fresh temp folder; `cleanup` closes handles and removes it. */
export function tempDatabase(): { file: string; db: Db; open: () => Db; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-appointments-'));
  const file = path.join(dir, 'idvideo.db');
  const handles: Db[] = [];
  const open = (): Db => {
    const db = openDatabase(file);
    handles.push(db);
    return db;
  };
  const db = open();
  return {
    file,
    db,
    open,
    cleanup: () => {
      for (const h of handles) if (h.open) h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A clock the test moves by hand. */
export function fixedClock(iso: string): { now: () => DateTime; set: (iso: string) => void } {
  let current = DateTime.fromISO(iso, { setZone: true });
  if (!current.isValid) throw new Error(`bad test time ${iso}`);
  return {
    now: () => current,
    set: (next: string) => {
      current = DateTime.fromISO(next, { setZone: true });
    },
  };
}

const weekday = [{ from: '09:00', to: '17:00' }];

/** Mon-Fri 09:00-17:00, 30-minute slots, no notice/buffer unless overridden; agents agent1, agent2. */
export function testSchedule(overrides: Record<string, unknown> = {}): Schedule {
  return scheduleOrThrow({
    openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday },
    slotMinutes: 30,
    bufferMinutes: 0,
    minNoticeMinutes: 0,
    horizonDays: 60,
    agents: [
      { username: 'agent1', displayName: 'Agent Een' },
      { username: 'agent2', displayName: 'Agent Twee' },
    ],
    ...overrides,
  });
}

/** The booking service on a store's appointments (either engine). */
export function serviceOn(s: Pick<Store, 'appointments'>, schedule: Schedule, now: () => DateTime): { store: AppointmentStore; service: BookingService } {
  const store = s.appointments;
  return { store, service: createBookingService({ store, getSchedule: () => schedule, now }) };
}

/** Runs fn and returns the UserError it throws; fails when it succeeds or throws something else. */
export async function userErrorOf(fn: () => unknown): Promise<UserError> {
  try {
    await fn();
  } catch (e) {
    if (isUserError(e)) {
      if (!hasMessage(e.code)) throw new Error(`no nl/en text for error code ${e.code}`);
      for (const code of Object.values(e.fields ?? {})) if (!hasMessage(code)) throw new Error(`no text for field code ${code}`);
      return e;
    }
    throw e;
  }
  throw new Error('expected a UserError, but the call succeeded');
}

/**
 * What the hand-off of a 'booked' event does for the cancel link (lib/access/handoff.ts): a fresh token whose hash
 * replaces the one nobody knows. Returns the token, as the confirmation mail would carry it.
 */
export async function issueCancelToken(store: Pick<Store, 'events'>, appointmentId: string): Promise<string> {
  const token = newToken();
  await store.events.apply({ appointmentId, requireBooked: true, cancelTokenHash: hashToken(token) });
  return token;
}

/** A new appointment for a store's create(), resident `n` (its own cancel hash and idempotency key), created at `createdAt`. */
export function newAppointment(n: number, startUtc: string, endUtc: string, extra: Partial<NewAppointment> = {}, createdAt = '2026-11-30T08:00:00.000Z'): NewAppointment {
  return {
    startUtc,
    endUtc,
    topic: 'paspoort',
    channel: 'website',
    bookedBy: null,
    resident: { name: `R${n}`, email: `r${n}@example.nl`, phone: null, remarks: null },
    cancelTokenHash: `hash${n}`,
    idempotencyKey: `key${n}`,
    createdAt,
    ...extra,
  };
}
