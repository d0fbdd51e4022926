import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createMediaServer, type MediaServer, type MediaServerOptions, type SessionInfo } from '../../../media-server';
import { TEST_RTC_PORTS } from '../../support/ports';
import { serverLogger, type WatchedLog } from '../../support/server-log';

/**
 * A real HTTP server on 127.0.0.1:0 with the media server's upgrade handler on /ws. Sessions are looked up from a
 * test cookie `idv_test=<key>`, and the origin must be the server's own, as the runtime's same-origin check does.
 */
export interface Harness {
  media: MediaServer;
  log: WatchedLog;
  server: http.Server;
  origin: string;
  url: string;
  sessions: Map<string, SessionInfo>;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<MediaServerOptions> = {}): Promise<Harness> {
  const sessions = new Map<string, SessionInfo>();
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  // Warnings and errors of the media server fail the test that caused them unless it expects them (h.log.allow).
  const log = serverLogger(`media server harness on ${origin}`);
  const media = await createMediaServer({
    numWorkers: 1,
    emptyRoomTimeoutMs: 60_000,
    ...TEST_RTC_PORTS,
    authenticate: async (req) => {
      const m = /(?:^|;\s*)idv_test=([^;]+)/.exec(req.headers.cookie ?? '');
      return (m && sessions.get(m[1])) || null;
    },
    allowedOrigin: (req) => req.headers.origin === origin,
    iceServers: [{ urls: 'turn:turn.example.test:3478', username: 'u', credential: 'c' }],
    log,
    ...overrides,
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/ws') media.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return {
    media,
    server,
    log: log.watched,
    origin,
    url: `ws://127.0.0.1:${port}/ws`,
    sessions,
    close: async () => {
      await media.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Envelope {
  response?: boolean;
  notification?: boolean;
  id?: unknown;
  ok?: boolean;
  method?: string;
  data?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  error?: { code: string; message: string };
}

/** A signaling client over a real WebSocket: request/response matching and a notification inbox. */
export class SignalClient {
  private nextId = 1;
  readonly inbox: Envelope[] = [];
  readonly responses: Envelope[] = [];
  private waiters: Array<{ match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }> = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const env = JSON.parse(raw.toString()) as Envelope;
      if (env.notification) this.inbox.push(env);
      else this.responses.push(env);
      for (const w of [...this.waiters]) {
        if (w.match(env)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(env);
        }
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static async connect(h: Harness, sessionKey: string | null, origin = h.origin): Promise<SignalClient> {
    const headers: Record<string, string> = { origin };
    if (sessionKey) headers.cookie = `idv_test=${sessionKey}`;
    const ws = new WebSocket(h.url, { headers });
    const client = new SignalClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  /** Waits for the first message (already received or future) that matches. */
  waitFor(match: (e: Envelope) => boolean, timeoutMs = 5000): Promise<Envelope> {
    const seen = [...this.inbox, ...this.responses].find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  notification(method: string, timeoutMs = 5000, after = 0): Promise<Envelope> {
    return this.waitFor((e) => e.notification === true && e.method === method && this.inbox.indexOf(e) >= after, timeoutMs);
  }

  /** Sends a request and resolves with the whole response envelope (ok or not). */
  async raw(method: string, data?: unknown): Promise<Envelope> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ request: true, id, method, data }));
    return this.waitFor((e) => e.response === true && e.id === id);
  }

  /** Sends a request and resolves with its data; rejects with the error code when ok is false. */
  async request(method: string, data?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await this.raw(method, data);
    if (!res.ok) throw new Error(`${method}: ${res.error?.code}: ${res.error?.message}`);
    return res.data;
  }

  close(): void {
    this.ws.close();
  }
}

/** Upgrade status when the server refuses: resolves with the HTTP status code. */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade unexpectedly accepted'));
    });
    ws.once('error', () => undefined);
  });
}

/** Minimal but valid producer parameters (what a browser's send transport would hand over), for opus and VP8. */
export function rtpParametersFor(kind: 'audio' | 'video', ssrc: number): unknown {
  if (kind === 'audio') {
    return {
      mid: `a${ssrc}`,
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
      headerExtensions: [],
      encodings: [{ ssrc }],
      rtcp: { cname: 'test-cname', reducedSize: true },
    };
  }
  return {
    mid: `v${ssrc}`,
    codecs: [
      { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] },
      { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
    ],
    headerExtensions: [],
    encodings: [{ ssrc, rtx: { ssrc: ssrc + 1 } }],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

/** A DTLS fingerprint the worker accepts for connect (it is only checked when DTLS actually runs). */
export const FAKE_DTLS = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: 'E5:F5:CA:A7:2D:93:E6:16:AC:21:09:9F:23:51:62:8C:D0:66:E9:0C:22:54:2B:82:0C:DF:E0:C5:2C:7E:CD:53' }],
};

/** The full client sequence: capabilities, both transports, join. */
export async function joinCall(c: SignalClient): Promise<{ caps: any; send: any; recv: any; join: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const caps = await c.request('getRouterRtpCapabilities');
  const send = await c.request('createWebRtcTransport', { direction: 'send' });
  const recv = await c.request('createWebRtcTransport', { direction: 'recv' });
  const join = await c.request('join', { rtpCapabilities: caps });
  return { caps, send, recv, join };
}
