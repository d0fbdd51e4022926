import type { Appointment } from '../appointments/store';
import { toPublicIso } from '../time';

/**
 * The message our nodes send for a booking or cancellation (idv-book-appointment, and idv-session-link's output 1):
 * plain JSON only, so a Debug node or a CRM write cannot reach live objects. `eventId` names the event row written
 * with the change (lib/events): delivery is at least once, so a flow de-duplicates on it. No token or link travels
 * here: the access and cancel links are issued by the hand-off and go into the mails (msg.links of idv-session-link's
 * output 1 holds the access links for an SMS node; it never holds the cancel link).
 */
export interface AppointmentMessage {
  topic: string;
  eventId?: string;
  event: 'booked' | 'cancelled' | 'rescheduled';
  appointment: {
    id: string;
    start: string;
    end: string;
    topic: string;
    agent: string;
    channel: Appointment['channel'];
    bookedBy: string | null;
    cancelledBy?: string | null;
    /** 'rescheduled': where it was before (ISO 8601 with the Amsterdam offset, staff username). */
    previous?: { start: string; end: string; agent: string };
  };
  resident: { name: string; email: string; phone?: string; remarks?: string; lang: 'nl' | 'en' };
}

/** The message for an appointment change; times are ISO 8601 with the Amsterdam offset. */
export function appointmentMessage(
  kind: AppointmentMessage['event'],
  a: Appointment,
  lang: 'nl' | 'en',
  eventId?: string,
  previous?: { startUtc: string; endUtc: string; agent: string },
): AppointmentMessage {
  const resident: AppointmentMessage['resident'] = { name: a.resident.name, email: a.resident.email, lang };
  if (a.resident.phone) resident.phone = a.resident.phone;
  if (a.resident.remarks) resident.remarks = a.resident.remarks;
  const m: AppointmentMessage = {
    topic: kind,
    ...(eventId ? { eventId } : {}),
    event: kind,
    appointment: {
      id: a.id,
      start: toPublicIso(a.startUtc),
      end: toPublicIso(a.endUtc),
      topic: a.topic,
      agent: a.agent,
      channel: a.channel,
      bookedBy: a.bookedBy,
    },
    resident,
  };
  if (kind === 'cancelled') m.appointment.cancelledBy = a.cancelledBy;
  if (kind === 'rescheduled' && previous) {
    m.appointment.previous = { start: toPublicIso(previous.startUtc), end: toPublicIso(previous.endUtc), agent: previous.agent };
  }
  return m;
}
