/**
 * The call page (GET /call) of the resident and of a guest (interpreter, family member): device check, waiting room
 * (for a guest: waiting to be let in), the call, the end. The call-session cookie that /v/<token> set authenticates the
 * WebSocket; this script never sees it. What the page shows and says follows one state machine
 * (lib/call-pages/call-status.ts, rendered by web/parts/call-status.ts). The chat shows in the waiting room and the
 * call; the resident can share a document or photo during the call (web/parts/share-document.ts).
 */
import { announce, byId, createStage, MediaProblemError, openLocalMedia, readTexts, signalingUrl, type CallClient, type MediaProblem } from './call-client';
import { createCallStatus } from './parts/call-status';
import { createChat, postJson, type ChatView } from './parts/chat';
import { markJoin } from './parts/join-marks';
import { documentDeleted, wireDocumentSharing } from './parts/share-document';

const t = readTexts();
const role = document.body.dataset.role === 'guest' ? 'guest' : 'resident';
let chat: ChatView | undefined;

let local: MediaStream | undefined;
let client: CallClient | undefined;

const status = createCallStatus(role, t, {
  sections: true,
  onView: (v, st) => {
    // The call is over: the camera light goes off.
    if (v.section === 'ended') local?.getTracks().forEach((tr) => tr.stop());
    // The chat belongs to the waiting room and the call (a guest: once let in), and goes with the call's end.
    const side = document.getElementById('call-side');
    if (side) side.hidden = !(v.section === 'call' || (v.section === 'waiting' && st.phase !== 'lobby' && st.phase !== 'connecting'));
    const docs = document.getElementById('documents');
    if (docs) docs.hidden = v.section !== 'call';
    if (v.section === 'ended') chat?.clear();
  },
});

async function fetchChat(): Promise<void> {
  try {
    const res = await fetch(`call/chat.json?after=${chat?.lastSeq ?? 0}`, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return;
    const body = (await res.json()) as { messages?: unknown[] };
    chat?.add(body.messages ?? []);
  } catch {
    /* offline for a moment: pushes still arrive */
  }
}

function setUpChat(): void {
  chat = createChat({
    id: 'chat',
    t,
    level: 2,
    own: role,
    intro: t.chatIntro,
    send: async (text) => (await postJson('call/chat', { text })).message,
  });
  byId('chat-slot').append(chat.root);
}

function problem(p: MediaProblem | undefined): void {
  const box = byId('device-problem');
  box.hidden = !p;
  byId('device-problem-text').textContent = p ? (t[p] ?? '') : '';
  byId('retry-devices').hidden = !p || p === 'unsupported';
}

async function fillDeviceLists(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = (kind: string) => local?.getTracks().find((tr) => tr.kind === kind)?.getSettings().deviceId;
  for (const [selectId, kind] of [['camera-select', 'videoinput'], ['mic-select', 'audioinput']] as const) {
    const select = byId<HTMLSelectElement>(selectId);
    const list = devices.filter((d) => d.kind === kind);
    select.replaceChildren(
      ...list.map((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${kind === 'videoinput' ? t.camera ?? 'Camera' : t.microphone ?? 'Microfoon'} ${i + 1}`;
        o.selected = d.deviceId === current(kind === 'videoinput' ? 'video' : 'audio');
        return o;
      }),
    );
    select.disabled = list.length === 0;
  }
}

async function openDevices(cameraId?: string, micId?: string): Promise<void> {
  const start = byId<HTMLButtonElement>('start-call');
  start.disabled = true;
  try {
    const media = await openLocalMedia(cameraId, micId);
    markJoin('gum');
    const old = local;
    local = media.stream;
    byId<HTMLVideoElement>('preview').srcObject = local;
    problem(media.problem);
    if (client) {
      for (const track of local.getTracks()) await client.replaceTrack(track);
      byId<HTMLVideoElement>('local-video').srcObject = local;
    }
    old?.getTracks().forEach((tr) => tr.stop());
    await fillDeviceLists();
    // A call nobody can hear waits for a microphone (typing in the call is another issue).
    start.disabled = media.problem === 'noMicrophone';
    if (!media.problem) announce(t.ready ?? '');
  } catch (e) {
    problem(e instanceof MediaProblemError ? e.problem : 'deviceBusy');
  }
}

function startCall(): void {
  if (!local || client) return;
  markJoin('click');
  byId<HTMLButtonElement>('start-call').disabled = true;
  // The page switches to its "connecting" view once the signaling connection is open and the join's requests are
  // out (at most 100 ms after the click): switching first (style, layout and paint of the new view, 10-40 ms) held
  // up the connection's handshake events on this thread, and so every request of the join.
  let shown = false;
  const showConnecting = () => {
    if (shown) return;
    shown = true;
    window.clearTimeout(fallback);
    // The hidden preview would keep rendering the camera while the call needs the CPU for its first frames. Paused
    // now (cheap); detached once the call is set up (tearing its player down costs 5-20 ms).
    byId<HTMLVideoElement>('preview').pause();
    status.dispatch({ type: 'connect' });
  };
  const fallback = window.setTimeout(showConnecting, 100);
  // Every state change from the call comes after the "connecting" view.
  const dispatch = (e: Parameters<typeof status.dispatch>[0]) => {
    showConnecting();
    status.dispatch(e);
  };
  client = createStage({
    texts: t,
    url: signalingUrl(),
    local: () => local,
    otherRole: 'agent',
    admission: role === 'guest',
    onLobby: () => dispatch({ type: 'lobby' }),
    onOpen: showConnecting,
    labels: {
      agent: t.remoteAgentCamera ?? '',
      'agent:screen': t.remoteScreen ?? '',
      resident: t.remoteResident ?? '',
      guest: t.remoteGuest ?? '',
    },
    onRemoteScreen: (on) => announce(on ? (t.screenShared ?? '') : (t.screenEnded ?? '')),
    onThird: (who, present) => {
      if (who === 'guest') announce(present ? (t.guestJoined ?? '') : (t.guestLeft ?? ''));
    },
    onNotification: (method, data) => {
      if (method === 'chatMessage') return chat?.add([data]);
      if (method === 'chatDeleted') return chat?.clear(t.chatDeleted);
      if (method === 'documentDeleted') return documentDeleted(t, data);
      // Other pushes (the identification pop-up) go to web/identify.ts as a DOM event.
      document.dispatchEvent(new CustomEvent('idv:call-notification', { detail: { method, data } }));
    },
    onState: (s) => {
      if (s === 'joined') {
        byId<HTMLVideoElement>('preview').srcObject = null;
        dispatch({ type: 'joined' });
        // The chat's history is fetched once the media is set up (after every join and rejoin): its request would
        // otherwise compete with the signaling for the server while the first picture is on its way.
        void fetchChat();
      } else if (s === 'reconnecting') dispatch({ type: 'reconnecting' });
      else if (s === 'ended') dispatch({ type: 'ended', by: client?.endedBy });
      else if (s === 'replaced') dispatch({ type: 'replaced' });
      else if (s === 'failed') dispatch({ type: 'failed' });
    },
    onJoined: (otherHere) => dispatch({ type: 'joined', otherHere }),
    onPeer: (present, reason) => dispatch({ type: 'peer', present, reason }),
    onHangUp: () => dispatch({ type: 'hangUp' }),
  });
  client.start();
}

document.addEventListener('DOMContentLoaded', () => {
  byId('start-call').addEventListener('click', startCall);
  byId('retry-devices').addEventListener('click', () => void openDevices());
  // After the end the link still works (until its window closes): a fresh page goes through the device check again.
  byId('rejoin').addEventListener('click', () => location.reload());
  const onChoice = () => void openDevices(byId<HTMLSelectElement>('camera-select').value || undefined, byId<HTMLSelectElement>('mic-select').value || undefined);
  byId('camera-select').addEventListener('change', onChoice);
  byId('mic-select').addEventListener('change', onChoice);
  // web/identify.ts tells whether the agent can see verified data of this call right now.
  setUpChat();
  if (role === 'resident') wireDocumentSharing(t);
  document.addEventListener('idv:identification', (e) => status.dispatch({ type: 'identification', shared: (e as CustomEvent<{ shared?: boolean }>).detail?.shared === true }));
  void openDevices();
});
