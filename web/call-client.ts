/**
 * The browser side of a call, shared by the resident's page (web/call.ts) and the agent dashboard (web/agent.ts):
 * signaling over /ws (request/response/notification envelope, see media-server/README.md), mediasoup-client for the
 * transports, recovery (WebSocket drop -> reconnect with backoff and rejoin; `rejoin` notification after a media
 * worker crash -> set up again on the same socket; ICE failure -> restartIce, then a full rejoin), the connection
 * quality, and the controls of the call stage (lib/call-pages/stage.ts renders the markup with these ids).
 */
import type { types } from 'mediasoup-client';
import { chooseVideoCodec, receiverTakes } from './parts/media-codecs';
import { deviceFor, sameCapabilities, takeLoadedDevice } from './parts/media-device';
import { MediaWatch, type MediaProblemKind } from './parts/media-health';
import { markJoin } from './parts/join-marks';
import { mediaNotices } from './parts/media-notices';
import { qualityTally } from './parts/quality-report';

export type CallState = 'connecting' | 'joined' | 'reconnecting' | 'ended' | 'replaced' | 'failed';
export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

export interface CallClientOptions {
  /** Same-origin WebSocket URL, e.g. ws(s)://host/ws or …/ws?appointment=<id>. */
  url: string;
  /** The current local tracks to send (may change between rejoins, e.g. after a device switch). */
  tracks(): MediaStreamTrack[];
  onState(state: CallState): void;
  /** The other side came or went; `reason` when it went: 'left' (stepped away), 'disconnected' or 'replaced'. */
  onPeer(role: string, present: boolean, reason?: string): void;
  /** The join answer: who else is in the call right now (also after a rejoin, when presence may have changed). */
  onJoined?(roles: string[]): void;
  /**
   * The media of one remote source changed: `key` is the peer's role ('agent', 'resident', 'guest'), or role plus
   * ':screen' for a shared screen; `stream` undefined when that source is gone.
   */
  onRemoteStream(key: string, stream: MediaStream | undefined): void;
  /** The role whose camera is this page's main picture (the "Camera uit" notice and peer presence follow it). */
  primaryRole: string;
  /** This participant waits in a lobby until let in (a guest): media starts only after `admitted`. */
  admission?: boolean;
  /** A guest's connection is up and waits to be let in. */
  onLobby?(): void;
  /** The signaling connection opened (and the join's requests went out, unless this participant waits to be let in). */
  onOpen?(): void;
  onQuality(quality: Quality): void;
  /** Every other server push (e.g. the identification pop-up), for the page to handle. */
  onNotification?(method: string, data: unknown): void;
  /** The other side is here and sends video (true), or is here without (camera off or none) (false). */
  onRemoteVideo?(on: boolean): void;
  /** Media does not get through (media-health.ts), or again does (undefined). */
  onMediaProblem?(kind: MediaProblemKind | undefined): void;
  /** This page's own screen sharing started (true) or stopped (false). */
  onScreen?(on: boolean): void;
}

interface Pending {
  resolve(data: unknown): void;
  reject(err: Error): void;
  timer: number;
}

interface Envelope {
  response?: boolean;
  notification?: boolean;
  id?: unknown;
  ok?: boolean;
  method?: string;
  data?: unknown;
  error?: { code: string; message: string };
}

interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
  iceServers?: RTCIceServer[];
}

interface NewConsumer {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  peerRole: string;
  producerPaused?: boolean;
  appData?: { source?: string };
}

const REQUEST_TIMEOUT_MS = 10_000;
/** After an ICE restart the transport gets this long to connect before the whole setup is redone. */
const ICE_RESTART_GRACE_MS = 8_000;
/** A 'disconnected' transport often recovers by itself; only after this long is ICE restarted. */
const DISCONNECTED_GRACE_MS = 4_000;
const MAX_BACKOFF_MS = 10_000;
/** How long media may fail to arrive before the page says so (a connection attempt over TURN/TLS takes a few s). */
const NO_MEDIA_MS = 15_000;
/** The other side is here but sends no video this long: then the page says "Camera uit". */
const NO_VIDEO_GRACE_MS = 2_000;
/** At most this long does a join wait for the other side's consumers before it starts sending. */
const CONSUME_FIRST_MS = 400;
export const CLOSE_REPLACED = 4001;
export const CLOSE_ROOM_CLOSED = 4002;
export const CLOSE_REMOVED = 4003;

interface Media {
  device: types.Device;
  send: types.Transport;
  recv: types.Transport;
  producers: Map<types.MediaKind, types.Producer>;
  /** The shared screen (the employee's), beside the camera's video producer. */
  screen?: types.Producer;
  consumers: Map<string, types.Consumer>;
  /** Which remote stream (role, or role:screen) each consumer feeds. */
  keys: Map<string, string>;
  timers: number[];
}

export class CallClient {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private media: Media | undefined;
  /** Bumped on every teardown: async work of an older setup sees it is stale and stops. */
  private generation = 0;
  private attempts = 0;
  private finished = false;
  private state: CallState = 'connecting';
  private micOn = true;
  private cameraOn = true;
  private remote = new Map<string, MediaStream>();
  /** The screen being shared (kept across rejoins until stopped). */
  private screenTrack: MediaStreamTrack | undefined;
  /** A guest let in by the employee (or anyone else: no lobby). */
  private admitted = false;
  private statsTimer: number | undefined;
  private lastInbound = { received: 0, lost: 0 };
  /** Video codecs the other side decodes (from the server), to send with one of them. */
  private peerCodecs: string[] | undefined;
  private peerPresent = false;
  private readonly paused = new Set<string>();
  private readonly watch = new MediaWatch(NO_MEDIA_MS);
  private problem: MediaProblemKind | undefined;
  private videoOffTimer: number | undefined;
  /** Who came (true) or went (false) between the join answer and its report to the page (see setUp). */
  private changedWhileJoining: Map<string, boolean> | undefined;
  /** Consumers being set up (local consume and resume request), so a join can let them go first. */
  private readonly consuming = new Set<Promise<void>>();
  /** Who ended the call, when the server said so (roomClosed by:'agent'). */
  endedBy: string | undefined;

  constructor(private readonly o: CallClientOptions) {}

  start(): void {
    this.connect();
    this.statsTimer = window.setInterval(() => void this.measure(), 3000);
  }

  get micEnabled(): boolean {
    return this.micOn;
  }

  get cameraEnabled(): boolean {
    return this.cameraOn;
  }

  /**
   * Leaves the call for good: no reconnects after this. `endForBoth` (the agent's "Ophangen") ends the call for the
   * other side too; without it the other side hears that this participant left.
   */
  hangUp(endForBoth = false): void {
    if (this.finished) return;
    this.finished = true;
    const ws = this.ws;
    const open = ws?.readyState === WebSocket.OPEN;
    if (open) {
      try {
        ws.send(JSON.stringify({ request: true, id: this.nextId++, method: endForBoth ? 'end' : 'leave', data: {} }));
      } catch {
        /* closing anyway */
      }
    }
    this.teardown();
    // After `end` the server closes the connection itself (4002); closing first could drop the request with it.
    if (endForBoth && open) window.setTimeout(() => ws.close(1000, 'hang up'), 3000);
    else ws?.close(1000, 'hang up');
    window.clearInterval(this.statsTimer);
    this.setState('ended');
  }

  setMic(on: boolean): void {
    this.micOn = on;
    this.pauseProducer('audio', on);
    for (const t of this.o.tracks()) if (t.kind === 'audio') t.enabled = on;
  }

  setCamera(on: boolean): void {
    this.cameraOn = on;
    this.pauseProducer('video', on);
    for (const t of this.o.tracks()) if (t.kind === 'video') t.enabled = on;
  }

  /** Pauses locally and on the server, so the other side knows (its page shows "Camera uit"). */
  private pauseProducer(kind: types.MediaKind, on: boolean): void {
    const p = this.media?.producers.get(kind);
    if (!p) return;
    if (on) p.resume();
    else p.pause();
    this.request(on ? 'resumeProducer' : 'pauseProducer', { producerId: p.id }).catch(() => undefined);
  }

  /** A new camera or microphone was chosen: send it without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const p = this.media?.producers.get(track.kind as types.MediaKind);
    if (p) await p.replaceTrack({ track });
  }

  private setState(s: CallState): void {
    if (this.state === s) return;
    this.state = s;
    this.o.onState(s);
  }

  private connect(): void {
    if (this.finished) return;
    const ws = new WebSocket(this.o.url);
    this.ws = ws;
    ws.onopen = () => {
      markJoin('ws-open');
      this.attempts = 0;
      // A guest waits for the server's `admitted` (which comes at once after a reload of an admitted guest).
      if (!this.o.admission) void this.setUp();
      this.o.onOpen?.();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev.code);
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    for (const p of this.pending.values()) {
      window.clearTimeout(p.timer);
      p.reject(new Error('connection closed'));
    }
    this.pending.clear();
    this.teardown();
    if (this.finished) return;
    if (code === CLOSE_REMOVED) this.endedBy = 'removed';
    if (code === CLOSE_REPLACED || code === CLOSE_ROOM_CLOSED || code === CLOSE_REMOVED) {
      this.finished = true;
      window.clearInterval(this.statsTimer);
      this.setState(code === CLOSE_REPLACED ? 'replaced' : 'ended');
      return;
    }
    this.setState('reconnecting');
    // Exponential backoff with jitter, so a restarted server is not hit by every client at the same moment.
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts) * (0.75 + Math.random() * 0.5);
    this.attempts++;
    window.setTimeout(() => this.connect(), delay);
  }

  /** Forces the reconnect path (used when a request fails or media cannot be set up). */
  private restartConnection(): void {
    if (this.finished) return;
    this.ws?.close(4000, 'restarting');
  }

  private onMessage(raw: unknown): void {
    let m: Envelope;
    try {
      m = JSON.parse(String(raw)) as Envelope;
    } catch {
      return;
    }
    if (m.response && typeof m.id === 'number') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      window.clearTimeout(p.timer);
      if (m.ok) p.resolve(m.data);
      else p.reject(new Error(m.error?.code ?? 'error'));
      return;
    }
    if (!m.notification || typeof m.method !== 'string') return;
    const data = (m.data ?? {}) as Record<string, unknown>;
    switch (m.method) {
      case 'newConsumer': {
        const done = this.consume(data as unknown as NewConsumer).catch(() => this.restartConnection());
        this.consuming.add(done);
        void done.finally(() => this.consuming.delete(done));
        break;
      }
      case 'consumerClosed':
        this.dropConsumer(String(data.consumerId));
        break;
      case 'consumerPaused':
      case 'consumerResumed':
        if (m.method === 'consumerPaused') this.paused.add(String(data.consumerId));
        else this.paused.delete(String(data.consumerId));
        this.reportRemoteVideo();
        break;
      case 'lobby':
        this.o.onLobby?.();
        break;
      case 'admitted':
        if (!this.admitted || !this.media) {
          this.admitted = true;
          void this.setUp();
        }
        break;
      case 'peerJoined':
        this.changedWhileJoining?.set(String(data.role), true);
        this.peerArrived(data.videoCodecs, String(data.role));
        this.o.onPeer(String(data.role), true);
        break;
      case 'peerLeft':
        this.changedWhileJoining?.set(String(data.role), false);
        if (String(data.role) === this.o.primaryRole) this.peerPresent = false;
        this.reportRemoteVideo();
        this.o.onPeer(String(data.role), false, typeof data.reason === 'string' ? data.reason : undefined);
        break;
      case 'rejoin':
        // The media worker was replaced: same socket, fresh device and transports on the new router.
        this.setState('reconnecting');
        this.teardown();
        void this.setUp();
        break;
      case 'roomClosed':
        if (data.reason === 'replaced' || data.reason === 'ended' || data.reason === 'removed') {
          if (typeof data.by === 'string') this.endedBy = data.by;
          if (data.reason === 'removed') this.endedBy = 'removed';
          this.finished = true;
          this.teardown();
          window.clearInterval(this.statsTimer);
          this.setState(data.reason === 'replaced' ? 'replaced' : 'ended');
        }
        break;
      default:
        this.o.onNotification?.(m.method, m.data);
    }
  }

  private request<T>(method: string, data: unknown = {}): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('timeout'));
        // No answer in time: the connection is as good as dead.
        this.restartConnection();
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ request: true, id, method, data }));
    });
  }

  private async setUp(): Promise<void> {
    const gen = ++this.generation;
    const stale = () => gen !== this.generation || this.finished;
    try {
      // The requests go out at once (the server answers a connection's requests in order): one round trip, not
      // three, and the device loads while the transports are being made. With the device already loaded during the
      // device check, the join goes with them: the consumers it announces come after both transports' answers, and
      // the transports are made (below) before this function yields to the next message.
      const early = takeLoadedDevice();
      const capsP = this.request<types.RtpCapabilities>('getRouterRtpCapabilities');
      const sendP = this.request<TransportInfo>('createWebRtcTransport', { direction: 'send' });
      const recvP = this.request<TransportInfo>('createWebRtcTransport', { direction: 'recv' });
      const join = (d: types.Device) => this.request<{ peers: Array<{ role: string; videoCodecs?: unknown }> }>('join', { rtpCapabilities: d.rtpCapabilities });
      const earlyJoinP = early ? join(early.device) : undefined;
      // Rejections are handled below with the await; until then they must not count as unhandled.
      for (const p of [sendP, recvP, earlyJoinP]) p?.catch(() => undefined);
      const caps = await capsP;
      markJoin('caps');
      if (stale()) return;
      // The router changed since the page loaded (a media worker restart): that join was made for the old one.
      if (early && !sameCapabilities(early.caps, caps)) throw new Error('router capabilities changed');
      const device = early?.device ?? (await deviceFor(caps));
      markJoin('device');
      const [sendInfo, recvInfo] = await Promise.all([sendP, recvP]);
      if (stale()) return;
      // Without an early join it goes out now; either way the transports below are made before this function yields
      // again, so the consumers the server announces with its answer always find them.
      const joinedP = earlyJoinP ?? join(device);
      joinedP.catch(() => undefined);
      const send = device.createSendTransport({ ...sendInfo, iceServers: sendInfo.iceServers ?? [] });
      markJoin('send-transport');
      const recv = device.createRecvTransport({ ...recvInfo, iceServers: recvInfo.iceServers ?? [] });
      markJoin('recv-transport');
      const media: Media = { device, send, recv, producers: new Map(), consumers: new Map(), keys: new Map(), timers: [] };
      this.media = media;
      for (const t of [send, recv]) {
        t.on('connect', ({ dtlsParameters }, ok, fail) => {
          this.request('connectWebRtcTransport', { transportId: t.id, dtlsParameters }).then(() => ok(), fail);
        });
        t.on('connectionstatechange', (s) => this.onTransportState(media, t, s, gen));
      }
      send.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
        this.request<{ id: string }>('produce', { transportId: send.id, kind, rtpParameters, appData }).then(ok, fail);
      });
      const joined = await joinedP;
      markJoin('join-answer');
      if (stale()) return;
      for (const p of joined.peers) this.peerArrived(p.videoCodecs, p.role);
      // The other side's media first: the consumers its answer announced are set up and resumed before this side's
      // encoders start, which would otherwise compete with them for the browser's signaling and CPU. (The other side
      // has been waiting; this costs its first frame of us about what it saves ours.) The page's own work for the
      // join (its view switches to the call: style and layout, tens of ms) waits too, as it would hold up the
      // consumers' SDP steps. Bounded, so a slow consumer never holds up sending or the page.
      const changed = (this.changedWhileJoining = new Map<string, boolean>());
      if (this.consuming.size) {
        await Promise.race([Promise.all([...this.consuming]), new Promise((r) => window.setTimeout(r, CONSUME_FIRST_MS))]);
        if (stale()) return;
      }
      // Who came or went meanwhile was already reported (peerJoined, peerLeft): the report here agrees with that.
      this.changedWhileJoining = undefined;
      const here = [...new Set([...joined.peers.map((p) => p.role), ...changed.keys()])].filter((r) => changed.get(r) !== false);
      this.o.onJoined?.(here);
      for (const role of here) this.o.onPeer(role, true);
      for (const track of this.o.tracks()) {
        if (track.readyState !== 'live' || !device.canProduce(track.kind as types.MediaKind)) continue;
        await this.produce(media, track);
        if (stale()) return;
      }
      if (this.screenTrack?.readyState === 'live') {
        await this.produceScreen(media, this.screenTrack);
        if (stale()) return;
      }
      // After a reconnect, "joined" waits for a connected transport (onTransportState): signaling alone does not
      // bring the picture back, and the page must not say "Verbinding hersteld" over a black video.
      if (this.state !== 'reconnecting') this.setState('joined');
    } catch {
      if (!stale()) this.restartConnection();
    }
  }

  private async produce(media: Media, track: MediaStreamTrack): Promise<void> {
    const kind = track.kind as types.MediaKind;
    const on = kind === 'audio' ? this.micOn : this.cameraOn;
    const codec = kind === 'video' ? chooseVideoCodec(media.device.rtpCapabilities, this.peerCodecs) : undefined;
    // The track outlives this setup (a rejoin sends the same camera again), so mediasoup must not stop it.
    const producer = await media.send.produce({ track, codec, stopTracks: false, appData: { source: kind === 'audio' ? 'mic' : 'webcam' } });
    markJoin(`produce:${kind}`);
    if (this.media !== media) {
      producer.close();
      return;
    }
    media.producers.set(producer.kind, producer);
    if (!on) this.pauseProducer(producer.kind, false);
  }

  /**
   * Shares a screen (getDisplayMedia's track) beside the camera: the others get it as a source of its own ('screen');
   * a guest never does (the media server keeps it from them). Ends by stopScreen() or the browser's own "stop sharing".
   */
  async shareScreen(track: MediaStreamTrack): Promise<void> {
    this.stopScreen();
    this.screenTrack = track;
    track.addEventListener('ended', () => {
      if (this.screenTrack === track) this.stopScreen();
    });
    if (this.media) await this.produceScreen(this.media, track);
  }

  /** Stops sharing: the others' pages go back to the camera. */
  stopScreen(): void {
    const track = this.screenTrack;
    this.screenTrack = undefined;
    const p = this.media?.screen;
    if (p) {
      if (this.media) this.media.screen = undefined;
      p.close();
      this.request('closeProducer', { producerId: p.id }).catch(() => undefined);
    }
    track?.stop();
    this.o.onScreen?.(false);
  }

  get sharingScreen(): boolean {
    return !!this.screenTrack;
  }

  private async produceScreen(media: Media, track: MediaStreamTrack): Promise<void> {
    const codec = chooseVideoCodec(media.device.rtpCapabilities, this.peerCodecs);
    const producer = await media.send.produce({ track, codec, stopTracks: false, appData: { source: 'screen' } });
    if (this.media !== media || this.screenTrack !== track) {
      producer.close();
      this.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
      return;
    }
    media.screen = producer;
    this.o.onScreen?.(true);
  }

  /** Someone is here, decoding `codecs`: a video producer in a codec it cannot decode is made again. */
  private peerArrived(codecs: unknown, role: string): void {
    if (role === this.o.primaryRole) this.peerPresent = true;
    this.peerCodecs = Array.isArray(codecs) ? codecs.filter((c): c is string => typeof c === 'string') : undefined;
    this.reportRemoteVideo();
    const media = this.media;
    const video = media?.producers.get('video');
    if (!media || !video || receiverTakes(video.rtpParameters.codecs[0]?.mimeType, this.peerCodecs)) return;
    const track = video.track;
    video.close();
    media.producers.delete('video');
    this.request('closeProducer', { producerId: video.id }).catch(() => undefined);
    if (track) void this.produce(media, track).catch(() => this.restartConnection());
  }

  /**
   * Tells the page whether the other side's picture runs: here, with a video consumer that is not paused. A camera
   * switched off shows at once; no video at all only after a grace time, because right after the other side arrives
   * its video is still being set up.
   */
  private reportRemoteVideo(): void {
    const media = this.media;
    const video = [...(media?.consumers.values() ?? [])].filter((c) => c.kind === 'video' && !c.closed && media?.keys.get(c.id) === this.o.primaryRole);
    const on = video.some((c) => !this.paused.has(c.id));
    window.clearTimeout(this.videoOffTimer);
    if (!this.peerPresent || on) return this.o.onRemoteVideo?.(true);
    if (video.length) return this.o.onRemoteVideo?.(false);
    this.videoOffTimer = window.setTimeout(() => this.o.onRemoteVideo?.(false), NO_VIDEO_GRACE_MS);
  }

  private async consume(c: NewConsumer): Promise<void> {
    const media = this.media;
    if (!media) return;
    const consumer = await media.recv.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters });
    markJoin(`consume:${c.kind}`);
    if (this.media !== media) {
      consumer.close();
      return;
    }
    const key = c.appData?.source === 'screen' ? `${c.peerRole}:screen` : c.peerRole;
    media.consumers.set(consumer.id, consumer);
    media.keys.set(consumer.id, key);
    if (c.producerPaused) this.paused.add(consumer.id);
    // Resume asked for before the page work below: the server then asks the sender for a key frame, and the first
    // picture needs that round trip, not the DOM updates.
    const resumed = this.request('resumeConsumer', { consumerId: consumer.id });
    resumed.catch(() => undefined);
    // One stream per remote source, changed in place: giving the <video> a new stream object restarts its pipeline
    // and delays the first frame. A new track of a kind replaces the old one of that kind.
    let stream = this.remote.get(key);
    if (!stream) this.remote.set(key, (stream = new MediaStream()));
    for (const t of stream.getTracks()) if (t.kind === consumer.kind) stream.removeTrack(t);
    stream.addTrack(consumer.track);
    this.o.onRemoteStream(key, stream);
    this.reportRemoteVideo();
    await resumed;
    markJoin(`resume:${c.kind}`);
  }

  private dropConsumer(id: string): void {
    const consumer = this.media?.consumers.get(id);
    if (!consumer) return;
    const key = this.media?.keys.get(id) ?? '';
    this.media?.consumers.delete(id);
    this.media?.keys.delete(id);
    this.paused.delete(id);
    consumer.close();
    const stream = this.remote.get(key);
    if (stream) {
      stream.removeTrack(consumer.track);
      if (stream.getTracks().length === 0) {
        this.remote.delete(key);
        this.o.onRemoteStream(key, undefined);
      } else this.o.onRemoteStream(key, stream);
    }
    this.reportRemoteVideo();
  }

  private onTransportState(media: Media, t: types.Transport, s: string, gen: number): void {
    if (gen !== this.generation || this.finished) return;
    if (s === 'connected') {
      markJoin(t === media.recv ? 'recv-connected' : 'send-connected');
      if (this.state === 'reconnecting' && this.ws?.readyState === WebSocket.OPEN) this.setState('joined');
      return;
    }
    if (s === 'failed') {
      void this.restartIce(media, t, gen);
    } else if (s === 'disconnected') {
      media.timers.push(
        window.setTimeout(() => {
          if (gen === this.generation && t.connectionState === 'disconnected') void this.restartIce(media, t, gen);
        }, DISCONNECTED_GRACE_MS),
      );
    }
  }

  /** Media path broken: new ICE credentials first (cheap, keeps the transports); if that does not help, rejoin. */
  private async restartIce(media: Media, t: types.Transport, gen: number): Promise<void> {
    this.setState('reconnecting');
    try {
      const { iceParameters, iceServers } = await this.request<{ iceParameters: types.IceParameters; iceServers?: RTCIceServer[] }>('restartIce', { transportId: t.id });
      if (gen !== this.generation) return;
      // New TURN credentials with every restart: those of a long call may have run out.
      if (iceServers) await t.updateIceServers({ iceServers });
      await t.restartIce({ iceParameters });
    } catch {
      /* falls through to the rejoin below */
    }
    media.timers.push(
      window.setTimeout(() => {
        if (gen !== this.generation || this.finished || t.connectionState === 'connected') return;
        this.teardown();
        void this.setUp();
      }, ICE_RESTART_GRACE_MS),
    );
  }

  private teardown(): void {
    this.generation++;
    const media = this.media;
    this.media = undefined;
    if (!media) return;
    for (const timer of media.timers) window.clearTimeout(timer);
    media.send.close();
    media.recv.close();
    const gone = [...this.remote.keys()];
    this.remote = new Map();
    for (const key of gone) this.o.onRemoteStream(key, undefined);
  }

  /** Connection quality from the receive side: packet loss since the last look and the round-trip time. */
  private async measure(): Promise<void> {
    const media = this.media;
    await this.watchMedia(media);
    if (!media || media.recv.connectionState !== 'connected') {
      this.o.onQuality('unknown');
      return;
    }
    let received = 0;
    let lost = 0;
    let rtt: number | undefined;
    try {
      const report = await media.recv.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') {
          received += Number(s.packetsReceived ?? 0);
          lost += Math.max(0, Number(s.packetsLost ?? 0));
        } else if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') {
          rtt = s.currentRoundTripTime;
        }
      });
    } catch {
      return;
    }
    const dReceived = received - this.lastInbound.received;
    const dLost = lost - this.lastInbound.lost;
    this.lastInbound = { received, lost };
    if (dReceived <= 0) {
      this.o.onQuality('unknown');
      return;
    }
    const loss = Math.max(0, dLost) / (dReceived + Math.max(0, dLost));
    const r = rtt ?? 0;
    // Good: under 2 % loss and a round trip under 250 ms (ITU-T G.114 puts the comfortable limit for a conversation
    // at 150 ms one way, media processing included). Fair: under 10 % and 500 ms. Worse: poor.
    this.o.onQuality(loss < 0.02 && r < 0.25 ? 'good' : loss < 0.1 && r < 0.5 ? 'fair' : 'poor');
  }

  /** Feeds the no-media watch from engine-neutral statistics and reports a change to the page. */
  private async watchMedia(media: Media | undefined): Promise<void> {
    if (this.state === 'ended' || this.state === 'replaced') return;
    const active = [...(media?.consumers.values() ?? [])].filter((c) => !c.closed && !this.paused.has(c.id));
    let bytesReceived = 0;
    if (media && active.length) {
      try {
        (await media.recv.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp') bytesReceived += Number(s.bytesReceived ?? 0);
        });
      } catch {
        /* a closed transport: counts as nothing received */
      }
    }
    const connected = !!media && media.send.connectionState === 'connected' && (active.length === 0 || media.recv.connectionState === 'connected');
    const problem = this.watch.sample({ connected, expectingMedia: this.peerPresent && active.length > 0, bytesReceived });
    if (problem !== this.problem) {
      this.problem = problem;
      this.o.onMediaProblem?.(problem);
    }
  }
}

/** Why the camera/microphone could not be opened, in words the page can explain. */
export type MediaProblem = 'permissionDenied' | 'noCamera' | 'cameraDenied' | 'noMicrophone' | 'noDevices' | 'deviceBusy' | 'unsupported';

export interface LocalMedia {
  stream: MediaStream;
  /**
   * Set when the call can go on with less: noCamera / cameraDenied (sound only), noMicrophone (picture only: the page
   * asks for a microphone before the call).
   */
  problem?: MediaProblem;
}

function errorName(e: unknown): string {
  return (e as DOMException)?.name ?? '';
}

/**
 * Opens camera and microphone (the chosen ones if given). Without a camera, or with the camera refused, it falls back
 * to sound only; without a microphone it opens the camera alone and says so. Throws MediaProblemError otherwise.
 */
export async function openLocalMedia(cameraId?: string, micId?: string): Promise<LocalMedia> {
  if (!navigator.mediaDevices?.getUserMedia || typeof RTCPeerConnection === 'undefined') throw problemError('unsupported');
  const audio: MediaTrackConstraints | boolean = micId ? { deviceId: { exact: micId } } : true;
  const video: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, ...(cameraId ? { deviceId: { exact: cameraId } } : {}) };
  let first: string;
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }) };
  } catch (e) {
    first = errorName(e);
    if (first === 'NotReadableError' || first === 'AbortError') throw problemError('deviceBusy');
    if (!['NotAllowedError', 'SecurityError', 'NotFoundError', 'OverconstrainedError'].includes(first)) throw problemError('deviceBusy');
  }
  // One of the two is missing or refused: find out which, so the page can say what works and what does not.
  let audioError: string;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    return { stream, problem: first === 'NotAllowedError' || first === 'SecurityError' ? 'cameraDenied' : 'noCamera' };
  } catch (e) {
    audioError = errorName(e);
  }
  if (audioError === 'NotAllowedError' || audioError === 'SecurityError') throw problemError('permissionDenied');
  if (audioError !== 'NotFoundError' && audioError !== 'OverconstrainedError') throw problemError('deviceBusy');
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video }), problem: 'noMicrophone' };
  } catch (e) {
    const name = errorName(e);
    throw problemError(name === 'NotAllowedError' ? 'permissionDenied' : name === 'NotFoundError' || name === 'OverconstrainedError' ? 'noDevices' : 'deviceBusy');
  }
}

export class MediaProblemError extends Error {
  constructor(readonly problem: MediaProblem) {
    super(problem);
  }
}

function problemError(p: MediaProblem): MediaProblemError {
  return new MediaProblemError(p);
}

/** The signaling URL on this page's own origin (ws: or wss: to match http: or https:). */
export function signalingUrl(query = ''): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws${query}`;
}

export type Texts = Record<string, string>;

export function readTexts(): Texts {
  try {
    return JSON.parse(document.body.dataset.texts ?? '{}') as Texts;
  } catch {
    return {};
  }
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** Announces a state change in the page's polite live region (and shows it). */
export function announce(text: string): void {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

/**
 * Wires the call stage (videos, mute, camera, hang up, quality, reconnect banner) to a CallClient. Returns the client
 * (not yet started) so the page can start it and react to the end of the call. What the page says about the call's
 * state is the page's (lib/call-pages/call-status.ts); the stage only announces its own buttons.
 */
export function createStage(opts: {
  texts: Texts;
  url: string;
  local: () => MediaStream | undefined;
  otherRole: string;
  /** The agent's "Ophangen" ends the call for both; the resident's only leaves it. */
  endForBoth?: boolean;
  onState(state: CallState): void;
  onPeer(present: boolean, reason?: string): void;
  /** After each join: whether the other side is in the call. */
  onJoined?(otherHere: boolean): void;
  /** Own hang-up pressed (before the client leaves). */
  onHangUp?(): void;
  onNotification?(method: string, data: unknown): void;
  /** Accessible names of the remote pictures by key ('resident', 'guest', 'agent', 'agent:screen'). */
  labels?: Record<string, string>;
  /** The other side's shared screen appeared (true) or went (false). */
  onRemoteScreen?(on: boolean): void;
  /** Someone besides the other side (a guest) came or went. */
  onThird?(role: string, present: boolean): void;
  /** A guest waits in the lobby (see CallClientOptions.admission). */
  admission?: boolean;
  onLobby?(): void;
  /** See CallClientOptions.onOpen. */
  onOpen?(): void;
  onScreen?(on: boolean): void;
}): CallClient {
  const t = opts.texts;
  const remoteVideo = byId<HTMLVideoElement>('remote-video');
  const localVideo = byId<HTMLVideoElement>('local-video');
  const banner = byId<HTMLElement>('reconnecting');
  const mic = byId<HTMLButtonElement>('toggle-mic');
  const cam = byId<HTMLButtonElement>('toggle-camera');
  const hang = byId<HTMLButtonElement>('hang-up');
  const quality = byId<HTMLElement>('quality');
  localVideo.srcObject = opts.local() ?? null;
  const notices = mediaNotices(remoteVideo, t);
  let shownVideo: MediaStreamTrack | undefined;
  const extra = byId<HTMLElement>('remote-extra');
  const streams = new Map<string, MediaStream>();
  const screenKey = `${opts.otherRole}:screen`;
  const labels = opts.labels ?? {};
  /**
   * The main picture is the other side, or their shared screen while they share it (their camera then moves to a
   * tile beside it); every other source (a guest, the resident for a guest) gets a tile of its own.
   */
  const layout = () => {
    const primary = streams.has(screenKey) ? screenKey : opts.otherRole;
    const stream = streams.get(primary);
    const video = stream?.getVideoTracks()[0];
    if (remoteVideo.srcObject !== (stream ?? null) || video !== shownVideo) {
      shownVideo = video;
      // A new stream, or a new video track in it: assign again, which makes the element pick the track up at once.
      remoteVideo.srcObject = stream ?? null;
      if (stream) notices.play();
    }
    remoteVideo.setAttribute('aria-label', labels[primary] || remoteVideo.getAttribute('aria-label') || '');
    remoteVideo.classList.toggle('idv-remote-screen', primary === screenKey);
    const wanted = [...streams.keys()].filter((k) => k !== primary);
    for (const el of [...extra.querySelectorAll<HTMLVideoElement>('video[data-key]')]) {
      if (!wanted.includes(el.dataset.key ?? '')) el.remove();
    }
    for (const key of wanted) {
      let el = extra.querySelector<HTMLVideoElement>(`video[data-key="${CSS.escape(key)}"]`);
      if (!el) {
        el = document.createElement('video');
        el.dataset.key = key;
        el.className = 'idv-tile-video';
        el.autoplay = true;
        el.playsInline = true;
        el.setAttribute('aria-label', labels[key] ?? key);
        extra.append(el);
      }
      if (el.srcObject !== streams.get(key)) el.srcObject = streams.get(key) ?? null;
      void el.play().catch(() => undefined);
    }
    extra.dataset.count = String(wanted.length);
    document.body.dataset.remoteTiles = String(wanted.length);
  };
  // The agent's page joins with ?appointment=<id> (no call cookie): its quality report names the appointment the same way.
  const appointment = new URL(opts.url, location.href).searchParams.get('appointment');
  const tally = qualityTally(appointment ? `/call/quality?appointment=${encodeURIComponent(appointment)}` : undefined);
  const client = new CallClient({
    url: opts.url,
    primaryRole: opts.otherRole,
    admission: opts.admission,
    onLobby: opts.onLobby,
    onOpen: opts.onOpen,
    onScreen: opts.onScreen,
    tracks: () => opts.local()?.getTracks() ?? [],
    onState: (s) => {
      banner.hidden = s !== 'reconnecting';
      // The call is over: its quality is reported now, as people often leave the page open after the end.
      if (s === 'ended' || s === 'replaced' || s === 'failed') tally.end();
      opts.onState(s);
    },
    onPeer: (role, present, reason) => {
      if (role === opts.otherRole) opts.onPeer(present, reason);
      else opts.onThird?.(role, present);
    },
    onJoined: (roles) => opts.onJoined?.(roles.includes(opts.otherRole)),
    onRemoteStream: (key, stream) => {
      const hadScreen = streams.has(screenKey);
      if (stream) streams.set(key, stream);
      else streams.delete(key);
      layout();
      if (streams.has(screenKey) !== hadScreen) opts.onRemoteScreen?.(!hadScreen);
    },
    onRemoteVideo: (on) => notices.remoteVideo(on),
    onMediaProblem: (kind) => notices.problem(kind),
    onQuality: (q) => {
      tally.note(q);
      quality.dataset.quality = q;
      quality.textContent = t[q] ?? q;
    },
    onNotification: opts.onNotification,
  });
  mic.addEventListener('click', () => {
    const off = client.micEnabled;
    client.setMic(!off);
    mic.setAttribute('aria-pressed', String(off));
    announce(off ? t.muted : t.unmuted);
  });
  cam.addEventListener('click', () => {
    const off = client.cameraEnabled;
    client.setCamera(!off);
    cam.setAttribute('aria-pressed', String(off));
    announce(off ? t.cameraOff : t.cameraOn);
  });
  hang.addEventListener('click', () => {
    opts.onHangUp?.();
    client.hangUp(opts.endForBoth === true);
  });
  return client;
}
