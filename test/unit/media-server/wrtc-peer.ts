/**
 * A real WebRTC participant in Node: mediasoup-client's Chrome111 handler on top of @roamhq/wrtc's libwebrtc, talking
 * to our signaling over a real WebSocket. It sends a synthetic I420 video track and counts decoded remote frames, so
 * a test proves ICE, DTLS, SRTP and RTP really flow through the worker (the browser test does the same with Chromium).
 *
 * Both libraries ship DOM-flavoured typings that this Node-only project (no DOM lib) cannot use, so they are required
 * with the few members used here typed by hand.
 */
import type { SignalClient } from './harness';

/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
interface I420Frame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
interface Wrtc {
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): WrtcTrack; onFrame(frame: I420Frame): void };
    RTCVideoSink: new (track: WrtcTrack) => { onframe: ((e: { frame: I420Frame }) => void) | null; stop(): void };
  };
  [k: string]: unknown;
}
interface WrtcTrack {
  stop(): void;
}
type Callback = () => void;
type Errback = (e: Error) => void;
interface MsTransport {
  id: string;
  on(event: 'connect', fn: (p: { dtlsParameters: unknown }, ok: Callback, fail: Errback) => void): void;
  on(event: 'produce', fn: (p: { kind: string; rtpParameters: unknown; appData: unknown }, ok: (r: { id: string }) => void, fail: Errback) => void): void;
  on(event: 'connectionstatechange', fn: (state: string) => void): void;
  produce(o: { track: WrtcTrack; appData?: unknown; stopTracks?: boolean }): Promise<{ id: string; close(): void }>;
  consume(o: { id: string; producerId: string; kind: string; rtpParameters: unknown }): Promise<{ id: string; track: WrtcTrack; close(): void }>;
  close(): void;
}
interface MsDevice {
  load(o: { routerRtpCapabilities: unknown }): Promise<void>;
  rtpCapabilities: unknown;
  createSendTransport(o: Record<string, unknown>): MsTransport;
  createRecvTransport(o: Record<string, unknown>): MsTransport;
}

let wrtcCache: Wrtc | undefined;
function loadWrtc(): Wrtc {
  if (!wrtcCache) {
    wrtcCache = require('@roamhq/wrtc') as Wrtc;
    // mediasoup-client's handler uses the browser globals.
    for (const k of ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'MediaStream', 'MediaStreamTrack', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver']) {
      (globalThis as any)[k] = wrtcCache[k];
    }
  }
  return wrtcCache;
}

export interface WrtcPeer {
  /** Decoded remote video frames so far, and when the first arrived (ms epoch). */
  frames: { count: number; firstAt: number; width: number };
  firstFrame: Promise<number>;
  /** Tear down the current device/transports (after 'rejoin') and set everything up again on the same connection. */
  rejoin(): Promise<void>;
  close(): void;
}

export interface WrtcPeerOptions {
  width?: number;
  height?: number;
  fps?: number;
}

/** Runs the whole client sequence and starts sending synthetic video (default 320x240 at 30 fps). */
export async function startWrtcPeer(c: SignalClient, opts: WrtcPeerOptions = {}): Promise<WrtcPeer> {
  const W = opts.width ?? 320;
  const H = opts.height ?? 240;
  const wrtc = loadWrtc();
  const { Device } = require('mediasoup-client') as { Device: new (o: { handlerName: string }) => MsDevice };
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const frame = new Uint8ClampedArray(W * H * 1.5);
  let tick = 0;
  const pump = setInterval(() => {
    // A flat background plus a moving block of noise: the encoder has real work and a webcam-like bitrate.
    frame.fill((tick * 7) % 255, 0, W * H);
    const bx = (tick * 4) % Math.max(1, W - 64);
    for (let y = 0; y < Math.min(64, H); y++) {
      for (let x = 0; x < 64 && bx + x < W; x++) frame[y * W + bx + x] = (Math.random() * 256) | 0;
    }
    tick++;
    source.onFrame({ width: W, height: H, data: frame });
  }, Math.round(1000 / (opts.fps ?? 30)));

  const frames = { count: 0, firstAt: 0, width: 0 };
  let resolveFirst: (t: number) => void = () => undefined;
  let rejectFirst: (e: Error) => void = () => undefined;
  const firstFrame = new Promise<number>((resolve, reject) => ((resolveFirst = resolve), (rejectFirst = reject)));
  // A failed consume is a reason the first frame never comes: say it, rather than let the wait time out silently.
  firstFrame.catch(() => undefined);
  let current: { send: MsTransport; recv: MsTransport; sinks: Array<{ stop(): void }> } | undefined;

  const onMessage = (raw: unknown): void => {
    const m = JSON.parse(String(raw)) as { notification?: boolean; method?: string; data?: any };
    if (!m.notification || m.method !== 'newConsumer' || !current) return;
    const d = m.data;
    const setup = current;
    void (async () => {
      const consumer = await setup.recv.consume({ id: d.id, producerId: d.producerId, kind: d.kind, rtpParameters: d.rtpParameters });
      await c.request('resumeConsumer', { consumerId: d.id });
      if (d.kind !== 'video') return;
      const sink = new wrtc.nonstandard.RTCVideoSink(consumer.track);
      setup.sinks.push(sink);
      sink.onframe = ({ frame: f }) => {
        frames.count++;
        if (!frames.firstAt) {
          frames.firstAt = Date.now();
          frames.width = f.width;
          resolveFirst(frames.firstAt);
        }
      };
    })().catch((e: Error) => rejectFirst(new Error(`consuming ${d.kind} ${d.id} failed: ${e.message}`)));
  };
  c.ws.on('message', onMessage);

  async function setUp(): Promise<void> {
    const device = new Device({ handlerName: 'Chrome111' });
    await device.load({ routerRtpCapabilities: await c.request('getRouterRtpCapabilities') });
    const s = await c.request('createWebRtcTransport', { direction: 'send' });
    const r = await c.request('createWebRtcTransport', { direction: 'recv' });
    const opts = (t: any): Record<string, unknown> => ({ id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters });
    const send = device.createSendTransport(opts(s));
    const recv = device.createRecvTransport(opts(r));
    for (const t of [send, recv]) {
      t.on('connect', ({ dtlsParameters }, ok, fail) => {
        c.request('connectWebRtcTransport', { transportId: t.id, dtlsParameters }).then(() => ok(), fail);
      });
    }
    send.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      c.request('produce', { transportId: send.id, kind, rtpParameters, appData }).then(ok, fail);
    });
    current = { send, recv, sinks: [] };
    await c.request('join', { rtpCapabilities: device.rtpCapabilities });
    await send.produce({ track, stopTracks: false, appData: { source: 'webcam' } }); // the track outlives a rejoin
  }

  function tearDown(): void {
    if (!current) return;
    for (const s of current.sinks) s.stop();
    current.send.close();
    current.recv.close();
    current = undefined;
  }

  await setUp();
  return {
    frames,
    firstFrame,
    rejoin: async () => {
      tearDown();
      await setUp();
    },
    close: () => {
      clearInterval(pump);
      tearDown();
      track.stop();
      c.ws.off('message', onMessage);
      c.close();
    },
  };
}
