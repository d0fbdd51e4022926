/**
 * The agent dashboard (GET /agent): the signed-in employee's appointments, kept live over /ws?channel=agent, and the
 * call workspace in the same page (the list makes way for it while a call runs: they never share one column).
 *
 * Hook for the identification panel (another script owns what goes inside `<section id="identification">`):
 * - `idv:call` (CustomEvent on that section, bubbles): detail `{state:'started'|'ended', appointmentId}`; while a
 *   call runs the section's `data-appointment-id` holds its id.
 * - `idv:agent-message`: detail = any live-channel message of a type this script does not handle itself (the server
 *   sends them with `hub.publish(username, {type, ...})` from lib/realtime/agent-hub.ts).
 * - `idv:call-notification`: detail `{method, data}` for pushes on the call's own signaling connection
 *   (media server `publish(appointmentId, 'agent', …)`).
 */
import { announce, byId, createStage, MediaProblemError, openLocalMedia, readTexts, signalingUrl, type CallClient } from './call-client';
import { clearBookingDetails, showBookingDetails } from './parts/booking-details';
import { createCallStatus, type CallStatusController } from './parts/call-status';
import { handleHub, rowChat, screenChanged, startWorkspace, stopWorkspace } from './parts/agent-extras';

interface Row {
  id: string;
  when: string;
  today: boolean;
  topic: string;
  channel: string;
  residentPresent: boolean;
  agentPresent: boolean;
  outcome?: string;
  durationMinutes?: number;
}

const t = readTexts();
const rows = new Map<string, Row>();
/** One list item per appointment, updated in place: an open disclosure or a half-typed message survives a refresh. */
const items = new Map<string, HTMLLIElement>();
let active: { id: string; client: CallClient; local: MediaStream; status: CallStatusController } | undefined;

const csrf = () => document.body.dataset.csrf ?? '';

function panel(): HTMLElement {
  return byId('identification');
}

function emit(name: string, detail: unknown): void {
  panel().dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
}

function presence(r: Row): { text: string; kind: string } {
  if (r.residentPresent && r.agentPresent) return { text: t.inCall ?? '', kind: 'success' };
  if (r.residentPresent) return { text: t.residentWaiting ?? '', kind: 'warning' };
  // Once the appointment is over, how it ended (recorded by the server from the call's events).
  if (r.outcome) {
    const label = t[`outcome_${r.outcome}` as keyof typeof t] ?? r.outcome;
    return { text: r.durationMinutes ? `${label} (${r.durationMinutes} min)` : label, kind: r.outcome === 'completed' ? 'success' : 'neutral' };
  }
  return { text: t.notArrived ?? '', kind: 'neutral' };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function createItem(r: Row): HTMLLIElement {
  const li = el('li', 'idv-appointment');
  li.dataset.appointmentId = r.id;
  const head = el('div', 'idv-appointment-head');
  const when = el('strong', 'idv-appointment-when');
  const topic = el('span', 'idv-appointment-topic');
  const channel = el('span', 'idv-channel');
  const badge = el('span', 'utrecht-status-badge idv-presence');
  const join = el('button', 'utrecht-button utrecht-button--primary-action idv-join');
  join.type = 'button';
  join.addEventListener('click', () => void joinCall(r.id));
  head.append(when, topic, channel, badge, join);
  // The resident's details open on request only: opening them is what the processing log records.
  const details = el('details', 'idv-appointment-details');
  const summary = el('summary', 'idv-appointment-summary', t.details ?? '');
  const body = el('div', 'idv-appointment-details-body');
  details.append(summary, body);
  details.addEventListener('toggle', () => {
    if (details.open) void showBookingDetails(r.id, body, t, 'dashboard', () => details.open);
    else clearBookingDetails(body);
  });
  li.append(head, details);
  return li;
}

function updateItem(li: HTMLLIElement, r: Row): void {
  const p = presence(r);
  // Today's rows have a chat, and so does a resident waiting early for one of tomorrow's (just before midnight):
  // whoever waits can be written to. Added once, when the row first qualifies.
  if ((r.today || r.residentPresent) && !li.querySelector('.idv-row-chat')) li.append(rowChat(r.id, t, csrf));
  li.dataset.waiting = String(r.residentPresent && !r.agentPresent);
  li.querySelector('.idv-appointment-when')!.textContent = r.when;
  li.querySelector('.idv-appointment-topic')!.textContent = r.topic;
  li.querySelector('.idv-channel')!.textContent = r.channel;
  const badge = li.querySelector<HTMLElement>('.idv-presence')!;
  badge.textContent = p.text;
  badge.className = `utrecht-status-badge utrecht-status-badge--${p.kind} idv-presence`;
  const join = li.querySelector<HTMLButtonElement>('.idv-join')!;
  join.textContent = active?.id === r.id ? (t.rejoin ?? '') : (t.join ?? '');
  // The accessible name starts with the visible text (WCAG 2.5.3) and says which appointment.
  join.setAttribute('aria-label', `${join.textContent}: ${r.when}, ${r.topic}`);
  join.disabled = !!active;
}

function fill(list: HTMLElement, wanted: Row[]): void {
  if (!wanted.length) {
    // An empty heading reads as a broken page; each list says so when it has nothing.
    const none = el('li', 'idv-appointment-none', t.none ?? '');
    list.replaceChildren(none);
    return;
  }
  const next = wanted.map((r) => {
    let li = items.get(r.id);
    if (!li) items.set(r.id, (li = createItem(r)));
    updateItem(li, r);
    return li;
  });
  const same = next.length === list.children.length && next.every((li, i) => list.children[i] === li);
  if (!same) list.replaceChildren(...next);
}

function render(): void {
  const all = [...rows.values()];
  for (const id of [...items.keys()]) if (!rows.has(id)) items.delete(id);
  fill(byId('list-today'), all.filter((r) => r.today));
  fill(byId('list-upcoming'), all.filter((r) => !r.today));
}

async function load(): Promise<void> {
  try {
    const res = await fetch('agent/appointments.json', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (res.status === 401) {
      location.reload(); // signed out meanwhile: the page redirects to the sign-in form
      return;
    }
    if (!res.ok) throw new Error(String(res.status));
    const body = (await res.json()) as { appointments: Row[] };
    rows.clear();
    for (const r of body.appointments) rows.set(r.id, r);
    render();
  } catch {
    announce(t.loadFailed ?? '');
  }
}

/** The live channel: presence of residents, new appointments, and whatever the identification panel subscribes to. */
function connectHub(attempt = 0): void {
  const ws = new WebSocket(signalingUrl('?channel=agent'));
  let opened = false;
  ws.onopen = () => {
    opened = true;
    void load(); // catch up on what happened while disconnected
  };
  ws.onmessage = (ev) => {
    let m: { type?: string; appointmentId?: string; resident?: boolean; agent?: boolean; guest?: boolean };
    try {
      m = JSON.parse(String(ev.data)) as typeof m;
    } catch {
      return;
    }
    if (m.type === 'hello') return;
    if (handleHub(m, t, csrf)) return;
    if (m.type === 'presence' && typeof m.appointmentId === 'string') {
      const r = rows.get(m.appointmentId);
      if (!r) return void load();
      const wasWaiting = r.residentPresent && !r.agentPresent;
      r.residentPresent = !!m.resident;
      r.agentPresent = !!m.agent;
      render();
      if (!wasWaiting && r.residentPresent && !r.agentPresent && active?.id !== r.id) announce(t.residentWaitingNotice ?? '');
      return;
    }
    if (m.type === 'appointments') return void load();
    emit('idv:agent-message', m);
  };
  ws.onclose = () => {
    const next = opened ? 0 : attempt + 1;
    window.setTimeout(() => connectHub(next), Math.min(10_000, 1000 * 2 ** next));
  };
}

async function joinCall(id: string): Promise<void> {
  if (active) return;
  let local: MediaStream;
  try {
    local = (await openLocalMedia()).stream;
  } catch (e) {
    announce(t[e instanceof MediaProblemError ? e.problem : 'deviceBusy'] ?? '');
    return;
  }
  const row = rows.get(id);
  byId('call-heading').textContent = row ? `${t.callWith ?? ''} ${row.when} – ${row.topic}` : (t.callHeading ?? '');
  document.body.dataset.workspace = 'call';
  byId('call').hidden = false;
  byId('call-heading').focus();
  void showBookingDetails(id, byId('booking-details-body'), t, 'call', () => active?.id === id);
  const status = createCallStatus('agent', t, { sections: false });
  status.dispatch({ type: 'connect' });
  const client = createStage({
    texts: t,
    url: signalingUrl(`?appointment=${encodeURIComponent(id)}`),
    local: () => local,
    otherRole: 'resident',
    // The agent's "Ophangen" ends the conversation for the resident too (they see a page that says it is over).
    endForBoth: true,
    onState: (s) => {
      if (s === 'joined') status.dispatch({ type: 'joined' });
      else if (s === 'reconnecting') status.dispatch({ type: 'reconnecting' });
      else if (s === 'ended' || s === 'replaced' || s === 'failed') {
        status.dispatch(s === 'ended' ? { type: 'ended', by: active?.client.endedBy } : { type: s });
        endCall();
      }
    },
    onJoined: (otherHere) => status.dispatch({ type: 'joined', otherHere }),
    onPeer: (present, reason) => status.dispatch({ type: 'peer', present, reason }),
    onHangUp: () => status.dispatch({ type: 'hangUp' }),
    onNotification: (method, data) => emit('idv:call-notification', { method, data }),
    onScreen: (on) => screenChanged(on, t),
    labels: { resident: t.remoteResident ?? '', guest: t.remoteGuest ?? '' },
  });
  active = { id, client, local, status };
  panel().dataset.appointmentId = id;
  byId('identification-idle').hidden = true;
  render();
  emit('idv:call', { state: 'started', appointmentId: id });
  startWorkspace(id, client, t, csrf);
  client.start();
}

function endCall(): void {
  if (!active) return;
  const { id, local } = active;
  active = undefined;
  stopWorkspace();
  render();
  local.getTracks().forEach((tr) => tr.stop());
  byId('call').hidden = true;
  delete document.body.dataset.workspace;
  clearBookingDetails(byId('booking-details-body'));
  panel().dataset.appointmentId = '';
  byId('identification-idle').hidden = false;
  emit('idv:call', { state: 'ended', appointmentId: id });
  void load();
  // Back to the list: focus where the agent left it, on this appointment's row.
  items.get(id)?.querySelector<HTMLElement>('.idv-join')?.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  connectHub();
  window.setInterval(() => void load(), 60_000);
  // An agent's access link (/agent/call/<id>) lands here with the call to open.
  const wanted = new URLSearchParams(location.search).get('call');
  void load().then(() => {
    if (wanted && rows.has(wanted)) void joinCall(wanted);
  });
});
