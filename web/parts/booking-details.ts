/**
 * The booking details of the agent's own appointment (name, e-mail, phone, topic, remarks as the resident typed them),
 * fetched on demand from /agent/appointments/<id>/booking.json — every fetch is a line in the processing log, so the
 * page asks only when the agent opens them (the row's disclosure, or the call's side panel). Rendered as text into an
 * NL Design System data list, apart from the verified data and marked as not verified by the surrounding markup.
 */
import type { Texts } from '../call-client';

interface Details {
  topic: string;
  channel: 'website' | 'phone';
  name: string;
  email: string;
  phone: string | null;
  remarks: string | null;
}

function row(key: string, value: string, multiline = false): HTMLDivElement {
  const item = document.createElement('div');
  item.className = 'utrecht-data-list__item';
  const dt = document.createElement('dt');
  dt.className = 'utrecht-data-list__item-key';
  dt.textContent = key;
  const dd = document.createElement('dd');
  dd.className = `utrecht-data-list__item-value utrecht-data-list__item-value--html-dd${multiline ? ' utrecht-data-list__item-value--multiline' : ''}`;
  dd.textContent = value;
  item.append(dt, dd);
  return item;
}

/**
 * Fetches and shows the details in `into` (replacing what was there). `where`: 'call' or 'dashboard', for the log.
 * `wanted` is asked again when the answer arrives: a disclosure closed (or a call ended) meanwhile gets nothing.
 */
export async function showBookingDetails(appointmentId: string, into: HTMLElement, t: Texts, where: 'call' | 'dashboard', wanted: () => boolean = () => true): Promise<boolean> {
  let d: Details;
  try {
    const res = await fetch(`agent/appointments/${encodeURIComponent(appointmentId)}/booking.json?where=${where}`, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (!res.ok) throw new Error(String(res.status));
    d = (await res.json()) as Details;
    if (!wanted()) return false;
  } catch {
    const p = document.createElement('p');
    p.className = 'utrecht-paragraph';
    p.textContent = t.detailsFailed ?? '';
    into.replaceChildren(p);
    return false;
  }
  const dl = document.createElement('dl');
  dl.className = 'utrecht-data-list idv-summary-list idv-booking-data';
  // In the call the side panel's heading carries the "not verified" badge; on the dashboard the list says it itself.
  const note: HTMLElement[] = [];
  if (where === 'dashboard') {
    const p = document.createElement('p');
    p.className = 'utrecht-paragraph idv-unverified-note';
    const badge = document.createElement('span');
    badge.className = 'utrecht-status-badge utrecht-status-badge--warning';
    badge.textContent = t.unverified ?? '';
    p.append(badge, ` ${t.unverifiedNote ?? ''}`);
    note.push(p);
  }
  dl.append(
    row(t.name ?? 'Naam', d.name),
    row(t.email ?? 'E-mail', d.email),
    row(t.phone ?? 'Telefoon', d.phone || (t.notGiven ?? '')),
    row(t.topic ?? 'Onderwerp', d.topic),
    row(t.remarks ?? 'Opmerking', d.remarks || (t.notGiven ?? ''), true),
    row(t.channel ?? 'Geboekt', d.channel === 'phone' ? (t.channelPhone ?? '') : (t.channelWebsite ?? '')),
  );
  into.replaceChildren(...note, dl);
  return true;
}

/** Empties a details container: values do not stay in the page after the call or when the disclosure closes. */
export function clearBookingDetails(into: HTMLElement): void {
  into.querySelectorAll('dd').forEach((dd) => (dd.textContent = ''));
  into.replaceChildren();
}
