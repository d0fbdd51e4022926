/** The booking domain's public surface, for nodes and pages (see each module for details). */
export { parseBookingInput, type BookingInput, type BookingInputOptions } from './booking-input';
export {
  createBookingService,
  parseSlotsQuery,
  MAX_SLOT_QUERY_DAYS,
  type BookContext,
  type BookingService,
  type BookingServiceOptions,
  type BookResult,
  type PublicSlot,
} from './booking-service';
export { closedHolidayDates, dutchHolidays, easterSunday, type Holiday, type LiberationDayRule } from './holidays';
export { fieldMessages, hasMessage, messageFor, type Lang } from './messages';
export { amsterdamOffsetMinutes, publicIsoFromMillis } from './public-time';
export {
  demoSchedule,
  scheduleOrThrow,
  validateSchedule,
  WEEKDAYS,
  type Absence,
  type Schedule,
  type ScheduleAgent,
  type ScheduleResult,
  type TimeRange,
  type Weekday,
  type WeeklyHours,
} from './schedule';
export { computeSlots, type Held, type Slot, type SlotQuery } from './slots';
export type { Appointment, AppointmentStatus, AppointmentStore, Channel, ClaimRequest, CreateResult, NewAppointment, Resident } from './store';
