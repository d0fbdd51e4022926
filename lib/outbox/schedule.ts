/**
 * When a scheduled message (a reminder, by mail or SMS) is due and until when it is worth sending. `sendAt` defaults
 * to `nowIso`; both given as ISO 8601. Returns UTC ISO strings, or undefined for an unscheduled message (neither
 * given). Throws when `notAfter` is missing or not a time, or `sendAt` is not before it: a scheduled message without
 * an end would be sent however late (issue 14: never a reminder after the start).
 */
export function scheduleOf(nowIso: string, sendAt: string | undefined, notAfter: string | undefined): { nextAttemptAt: string; notAfter: string } | undefined {
  if (sendAt === undefined && notAfter === undefined) return undefined;
  const at = sendAt === undefined ? Date.parse(nowIso) : Date.parse(sendAt);
  const until = Date.parse(notAfter ?? '');
  if (!Number.isFinite(until)) throw new Error('notAfter must be an ISO 8601 time (a scheduled message needs one)');
  if (!Number.isFinite(at) || at >= until) throw new Error('sendAt must be an ISO 8601 time before notAfter');
  return { nextAttemptAt: new Date(at).toISOString(), notAfter: new Date(until).toISOString() };
}
