/**
 * When reminders go out (issue 14, point 1): a list of lead times before the appointment's start, 24 h and 1 h by
 * default, configurable per idv-session-link node, or none at all ("off").
 */

/** Default lead times in minutes: a day before and an hour before. */
export const DEFAULT_REMINDER_MINUTES: readonly number[] = [24 * 60, 60];
/** At most this many reminders per appointment, at most 30 days ahead. */
const MAX_REMINDERS = 5;
const MAX_LEAD_MINUTES = 30 * 24 * 60;

/**
 * Parses the node setting `reminderHours`: lead times in hours separated by commas or spaces ("24, 1"; decimals
 * allowed, "0.5" is half an hour, precision one second), or "off" / an empty text for no reminders. A missing
 * setting (a flow saved before reminders existed) gets the default. Returns lead times in milliseconds, longest
 * first, without duplicates; pushes a problem naming the field onto `errors` for anything else.
 */
export function parseReminderHours(value: unknown, errors: string[]): number[] {
  if (value === undefined || value === null) return DEFAULT_REMINDER_MINUTES.map((m) => m * 60_000);
  const problem = () => {
    errors.push(`reminderHours: up to ${MAX_REMINDERS} numbers of hours before the start (e.g. "24, 1"), at most ${MAX_LEAD_MINUTES / 60}, or "off"`);
    return [];
  };
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value.length > 200) return problem();
  const text = value.trim().toLowerCase();
  if (text === '' || text === 'off' || text === 'uit') return [];
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  if (parts.length > MAX_REMINDERS) return problem();
  const ms = new Set<number>();
  for (const p of parts) {
    if (!/^\d{1,4}(\.\d{1,6})?$/.test(p)) return problem();
    const lead = Math.round(Number(p) * 3600) * 1000;
    if (lead < 60_000 || lead > MAX_LEAD_MINUTES * 60_000) return problem();
    ms.add(lead);
  }
  return [...ms].sort((a, b) => b - a);
}

export interface ReminderMoment {
  /** Lead time before the start, in milliseconds (what the setting said). */
  leadMs: number;
  /** When the reminder goes out, UTC ISO. */
  sendAt: string;
}

/**
 * The reminders still worth sending for an appointment starting at `startUtc`, seen at `now`: those whose moment
 * lies ahead. A reminder whose moment has already passed at booking time (a booking 30 minutes before the start has
 * no 1 h reminder) is skipped: the confirmation just went out. Sorted by moment.
 */
export function reminderMoments(startUtc: string, leadsMs: readonly number[], now: Date): ReminderMoment[] {
  const start = Date.parse(startUtc);
  if (!Number.isFinite(start)) throw new Error('startUtc must be an ISO 8601 time');
  return leadsMs
    .map((leadMs) => ({ leadMs, at: start - leadMs }))
    .filter((r) => r.at > now.getTime())
    .sort((a, b) => a.at - b.at)
    .map((r) => ({ leadMs: r.leadMs, sendAt: new Date(r.at).toISOString() }));
}
