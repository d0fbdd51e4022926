import type { Appointment } from '../appointments/store';
import type { Lang } from '../http/lang';
import { toPublicIso } from '../time';

/**
 * What the node sends for each booking and cancellation: plain JSON only, so a Debug node or a CRM write cannot
 * reach live objects. The cancel link is there because the next node mails it; it is the one secret a booking message
 * carries, and flows should pass it to the mailer only.
 */
export interface BookingEvent {
  event: 'booked' | 'cancelled';
  appointment: {
    id: string;
    start: string;
    end: string;
    topic: string;
    agent: string;
    channel: Appointment['channel'];
    bookedBy: string | null;
    cancelledBy?: string | null;
  };
  resident: { name: string; email: string; phone?: string; remarks?: string; lang: Lang };
  links?: { cancel: string };
}

export function bookingEvent(kind: BookingEvent['event'], a: Appointment, lang: Lang, cancelUrl?: string): BookingEvent {
  const resident: BookingEvent['resident'] = { name: a.resident.name, email: a.resident.email, lang };
  if (a.resident.phone) resident.phone = a.resident.phone;
  if (a.resident.remarks) resident.remarks = a.resident.remarks;
  const e: BookingEvent = {
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
  if (kind === 'cancelled') e.appointment.cancelledBy = a.cancelledBy;
  if (cancelUrl) e.links = { cancel: cancelUrl };
  return e;
}
