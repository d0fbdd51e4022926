/**
 * The resident's call page (GET /call): device check, waiting room, the call, the end. The call-session cookie that
 * /v/<token> set authenticates the WebSocket; this script never sees it.
 */
import { announce, byId, createStage, MediaProblemError, openLocalMedia, readTexts, signalingUrl, type CallClient, type MediaProblem } from './call-client';

const t = readTexts();
const sections = ['device-check', 'waiting', 'call', 'ended'] as const;
type Section = (typeof sections)[number];

let local: MediaStream | undefined;
let client: CallClient | undefined;
let agentHere = false;

function show(section: Section, focusId?: string): void {
  for (const s of sections) byId(s).hidden = s !== section;
  // Moving focus to the new heading tells screen-reader and keyboard users that the page changed under them.
  if (focusId) byId(focusId).focus();
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
  if (!local) return;
  // The hidden preview would keep rendering the camera while the call needs the CPU for its first frames.
  byId<HTMLVideoElement>('preview').srcObject = null;
  show('waiting', 'waiting-heading');
  announce(t.connecting ?? '');
  client = createStage({
    texts: t,
    url: signalingUrl(),
    local: () => local,
    otherRole: 'agent',
    // Pushes this page does not handle itself (the identification pop-up) go to web/identify.ts as a DOM event.
    onNotification: (method, data) => document.dispatchEvent(new CustomEvent('idv:call-notification', { detail: { method, data } })),
    onState: (s) => {
      if (s === 'joined' && !agentHere) announce(t.waiting ?? '');
      if (s === 'ended' || s === 'replaced') {
        local?.getTracks().forEach((tr) => tr.stop());
        if (s === 'replaced') byId('ended-text').textContent = t.replaced ?? '';
        show('ended', 'ended-heading');
      }
    },
    onPeer: (present) => {
      agentHere = present;
      if (present) show('call', 'call-heading');
      else if (!byId('call').hidden) show('waiting', 'waiting-heading');
    },
  });
  client.start();
}

document.addEventListener('DOMContentLoaded', () => {
  byId('start-call').addEventListener('click', startCall);
  byId('retry-devices').addEventListener('click', () => void openDevices());
  const onChoice = () => void openDevices(byId<HTMLSelectElement>('camera-select').value || undefined, byId<HTMLSelectElement>('mic-select').value || undefined);
  byId('camera-select').addEventListener('change', onChoice);
  byId('mic-select').addEventListener('change', onChoice);
  void openDevices();
});
