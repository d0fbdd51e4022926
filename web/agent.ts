/**
 * The agent dashboard (GET /agent): the signed-in employee's appointments, kept live over /ws?channel=agent, and the
 * call in the same page.
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

interface Row {
  id: string;
  when: string;
  today: boolean;
  topic: string;
  channel: string;
  residentPresent: boolean;
  agentPresent: boolean;
}

const t = readTexts();
const rows = new Map<string, Row>();
let active: { id: string; client: CallClient; local: MediaStream } | undefined;

function panel(): HTMLElement {
  return byId('identification');
}

function emit(name: string, detail: unknown): void {
  panel().dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
}

function presenceText(r: Row): string {
  if (r.residentPresent && r.agentPresent) return t.inCall ?? '';
  if (r.residentPresent) return t.residentWaiting ?? '';
  return t.notArrived ?? '';
}

function renderRow(r: Row): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'idv-appointment';
  li.dataset.appointmentId = r.id;
  li.dataset.waiting = String(r.residentPresent && !r.agentPresent);
  const when = document.createElement('strong');
  when.textContent = r.when;
  const topic = document.createElement('span');
  topic.textContent = r.topic;
  const channel = document.createElement('span');
  channel.className = 'idv-channel';
  channel.textContent = r.channel;
  const presence = document.createElement('span');
  presence.className = 'idv-presence';
  presence.textContent = presenceText(r);
  const join = document.createElement('button');
  join.type = 'button';
  join.className = 'utrecht-button utrecht-button--primary-action';
  join.textContent = active?.id === r.id ? (t.rejoin ?? '') : (t.join ?? '');
  // The accessible name starts with the visible text (WCAG 2.5.3) and says which appointment.
  join.setAttribute('aria-label', `${join.textContent}: ${r.when}, ${r.topic}`);
  join.disabled = !!active;
  join.addEventListener('click', () => void joinCall(r.id));
  li.append(when, ' ', topic, ' ', channel, ' ', presence, ' ', join);
  return li;
}

function render(): void {
  const today = byId('list-today');
  const upcoming = byId('list-upcoming');
  const all = [...rows.values()];
  // An empty heading reads as a broken page; each list says so when it has nothing.
  const fill = (list: HTMLElement, items: Row[]) => {
    if (items.length) return list.replaceChildren(...items.map(renderRow));
    const none = document.createElement('li');
    none.textContent = t.none ?? '';
    list.replaceChildren(none);
  };
  fill(today, all.filter((r) => r.today));
  fill(upcoming, all.filter((r) => !r.today));
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
    let m: { type?: string; appointmentId?: string; resident?: boolean; agent?: boolean };
    try {
      m = JSON.parse(String(ev.data)) as typeof m;
    } catch {
      return;
    }
    if (m.type === 'hello') return;
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
  const section = byId('call');
  section.hidden = false;
  byId('call-heading').focus();
  const client = createStage({
    texts: t,
    url: signalingUrl(`?appointment=${encodeURIComponent(id)}`),
    local: () => local,
    otherRole: 'resident',
    onState: (s) => {
      if (s === 'ended' || s === 'replaced' || s === 'failed') endCall(s);
    },
    onPeer: () => undefined,
    onNotification: (method, data) => emit('idv:call-notification', { method, data }),
  });
  active = { id, client, local };
  panel().dataset.appointmentId = id;
  byId('identification-idle').hidden = true;
  render();
  emit('idv:call', { state: 'started', appointmentId: id });
  client.start();
}

function endCall(state: string): void {
  if (!active) return;
  const { id, local } = active;
  active = undefined;
  local.getTracks().forEach((tr) => tr.stop());
  byId('call').hidden = true;
  panel().dataset.appointmentId = '';
  byId('identification-idle').hidden = false;
  announce(state === 'replaced' ? (t.replaced ?? '') : (t.ended ?? ''));
  emit('idv:call', { state: 'ended', appointmentId: id });
  void load();
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
