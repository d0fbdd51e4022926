import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { RoomRegistry } from './room-registry';
import { SignalingServer, type IceServer, type Notification, type SessionInfo, type SignalingLog } from './signaling';
import { WorkerPool, type PoolHealth, type WorkerDiedEvent } from './worker-pool';
import { checkTurnSettings, type TurnSettings } from './turn-credentials';
import type { Role } from './room';

export type { Role } from './room';
export type { SessionInfo, IceServer, Notification, SignalingLog } from './signaling';
export type { PoolHealth, WorkerDiedEvent } from './worker-pool';
export type { CallEndedEvent, PeerEvent, RoomClosedEvent, SourceEvent } from './room';
export { resolveWorkerBin, defaultWorkerBin } from './mediasoup-loader';
export { issueTurnCredentials, turnPassword, orderTurnUrls, checkTurnSettings, type TurnSettings, type TurnCredentials } from './turn-credentials';
export { probeTurn, type TurnProbeResult } from './turn-probe';
export { defaultListenIp } from './listen-address';
export { routerRtpCapabilities } from './router-capabilities';
export { DEFAULT_RTC_MIN_PORT, DEFAULT_RTC_MAX_PORT } from './worker-pool';

export interface MediaServerOptions {
  authenticate: (req: IncomingMessage) => Promise<SessionInfo | null>;
  allowedOrigin: (req: IncomingMessage) => boolean;
  /** Default min(2, cores). */
  numWorkers?: number;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** Address the workers listen on: 127.0.0.1 by default, 0.0.0.0 (with announcedIp) behind NAT/in production. */
  listenIp?: string;
  /** Public address put in ICE candidates when listenIp is 0.0.0.0 or a private address. */
  announcedIp?: string;
  /** RTCIceServer list (TURN, TURNS on 443) handed to the browsers with each transport. */
  iceServers?: readonly unknown[];
  /** TURN URLs and shared secret: every participant gets its own time-limited credentials (see turn-credentials.ts). */
  turn?: TurnSettings;
  workerBin?: string;
  /** How long a room lives on after the last participant left; default 60 s. */
  emptyRoomTimeoutMs?: number;
  /** Per-participant incoming bitrate cap in bps; default 1.5 Mbps. */
  maxIncomingBitrate?: number;
  enableTcp?: boolean;
  maxPayload?: number;
  rateLimit?: { burst: number; perSecond: number };
  /** Where worker deaths and internal errors go (the runtime's logger); never given tokens or attribute values. */
  log: SignalingLog;
}

/** A guest's connection opened (waiting: true) or went or was let in (false). */
export interface LobbyEvent {
  appointmentId: string;
  waiting: boolean;
}

export interface MediaHealth {
  ok: boolean;
  workers: PoolHealth['workers'];
  rooms: number;
  connections: number;
}

export interface MediaServer {
  /** Hand the HTTP server's 'upgrade' for /ws here. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Push a notification to one participant; returns the number of connections reached (0 or 1). */
  publish(appointmentId: string, role: Role, notification: Notification): number;
  /** End a call from the application side: participants get roomClosed and are disconnected. */
  closeRoom(appointmentId: string): boolean;
  /** Lets the appointment's waiting guest into the call (they get `admitted`); returns how many connections. */
  admitGuest(appointmentId: string): number;
  /** Sends the guest out (roomClosed {reason:'removed'}, close code 4003) and forgets their admission. */
  removeGuest(appointmentId: string): number;
  /** Whether a guest of the appointment waits to be let in. */
  guestWaiting(appointmentId: string): boolean;
  health(): MediaHealth;
  /** Appointments with a room or a signaling connection on this media server (the room directory's heartbeat). */
  activeAppointments(): string[];
  /**
   * 'peerJoined'/'peerLeft' (PeerEvent), 'callStarted' (PeerEvent), 'callEnded' (CallEndedEvent), 'roomClosed'
   * (RoomClosedEvent), 'sourceStarted' (SourceEvent), 'lobby' (LobbyEvent), 'workerDied' (WorkerDiedEvent),
   * 'workerRespawned' ({index,pid}).
   */
  events: EventEmitter;
  /** Worker CPU and memory, for benchmarks. */
  resourceUsage(): Promise<Array<{ pid: number; cpuMs: number; maxRssKiB: number }>>;
  /** Live worker pids and the pid hosting an appointment's room (diagnostics and tests). */
  workerPids(): number[];
  workerPidOf(appointmentId: string): number | undefined;
  close(): Promise<void>;
}

function checkIceServers(list: readonly unknown[]): IceServer[] {
  return list.map((raw, i) => {
    const s = raw as Record<string, unknown> | null;
    const urls = s?.urls;
    const urlList = typeof urls === 'string' ? [urls] : Array.isArray(urls) ? urls : [];
    if (urlList.length === 0 || !urlList.every((u) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u))) {
      throw new Error(`iceServers[${i}].urls must be stun:/turn:/turns: URL(s)`);
    }
    for (const k of ['username', 'credential'] as const) {
      if (s?.[k] !== undefined && typeof s[k] !== 'string') throw new Error(`iceServers[${i}].${k} must be a string`);
    }
    const out: IceServer = { urls: urls as string | string[] };
    if (typeof s?.username === 'string') out.username = s.username;
    if (typeof s?.credential === 'string') out.credential = s.credential;
    return out;
  });
}

/** Starts the worker pool and returns the signaling entry point. Rejects with a clear error when the worker cannot start. */
export async function createMediaServer(opts: MediaServerOptions): Promise<MediaServer> {
  if (typeof opts.authenticate !== 'function' || typeof opts.allowedOrigin !== 'function') {
    throw new Error('createMediaServer needs authenticate and allowedOrigin functions');
  }
  if (typeof opts.log?.warn !== 'function' || typeof opts.log?.error !== 'function') {
    throw new Error('createMediaServer needs a log with warn and error');
  }
  const listenIp = opts.listenIp ?? '127.0.0.1';
  if (!isIP(listenIp)) throw new Error(`listenIp must be an IP address, got "${listenIp}"`);
  if (opts.announcedIp !== undefined && !isIP(opts.announcedIp)) throw new Error(`announcedIp must be an IP address, got "${opts.announcedIp}"`);
  if ((listenIp === '0.0.0.0' || listenIp === '::') && !opts.announcedIp) {
    throw new Error('listenIp 0.0.0.0 needs announcedIp (the address browsers can reach)');
  }
  const emptyRoomTimeoutMs = opts.emptyRoomTimeoutMs ?? 60_000;
  if (!Number.isFinite(emptyRoomTimeoutMs) || emptyRoomTimeoutMs < 0) throw new Error('emptyRoomTimeoutMs must be >= 0');
  const iceServers = checkIceServers(opts.iceServers ?? []);
  const turn = opts.turn ? checkTurnSettings(opts.turn) : undefined;

  const pool = await WorkerPool.start({
    numWorkers: opts.numWorkers,
    rtcMinPort: opts.rtcMinPort,
    rtcMaxPort: opts.rtcMaxPort,
    workerBin: opts.workerBin,
  });
  const registry = new RoomRegistry(pool, {
    listenIps: [{ ip: listenIp, announcedIp: opts.announcedIp }],
    enableTcp: opts.enableTcp ?? true,
    maxIncomingBitrate: opts.maxIncomingBitrate ?? 1_500_000,
    initialAvailableOutgoingBitrate: 1_000_000,
    emptyRoomTimeoutMs,
    maxProducersPerPeer: 3,
  });
  const log = opts.log;
  const signaling = new SignalingServer({
    authenticate: opts.authenticate,
    allowedOrigin: opts.allowedOrigin,
    registry,
    iceServers,
    turn,
    maxPayload: opts.maxPayload,
    rateLimit: opts.rateLimit,
    log,
    onLobby: (appointmentId, waiting) => events.emit('lobby', { appointmentId, waiting } satisfies LobbyEvent),
  });
  const events = new EventEmitter();
  for (const name of ['peerJoined', 'peerLeft', 'callStarted', 'callEnded', 'roomClosed', 'sourceStarted']) {
    registry.on(name, (e: unknown) => events.emit(name, e));
  }
  pool.on('workerDied', (e: WorkerDiedEvent) => {
    // mediasoup itself only logs through `debug`, so a dead worker would go unnoticed without this line.
    log.error(`mediasoup worker ${e.pid} died (${e.reason}); respawning, ${e.roomKeys.length} call(s) told to rejoin`);
    events.emit('workerDied', e);
  });
  pool.on('workerSpawnFailed', (e: { reason: string }) => log.error(`mediasoup worker could not be started: ${e.reason}`));
  pool.on('workerRespawned', (e: unknown) => events.emit('workerRespawned', e));
  pool.on('workerSpawnFailed', (e: unknown) => events.emit('workerSpawnFailed', e));

  let closed = false;
  return {
    handleUpgrade: (req, socket, head) => signaling.handleUpgrade(req, socket, head),
    publish: (appointmentId, role, notification) => signaling.publish(appointmentId, role, notification),
    closeRoom: (appointmentId) => registry.closeRoom(appointmentId),
    admitGuest: (appointmentId) => signaling.admitGuest(appointmentId),
    removeGuest: (appointmentId) => signaling.removeGuest(appointmentId),
    guestWaiting: (appointmentId) => signaling.guestWaiting(appointmentId),
    health: () => {
      const h = pool.health();
      return { ok: h.ok && !closed, workers: h.workers, rooms: registry.size, connections: signaling.connectionCount() };
    },
    activeAppointments: () => [...new Set([...registry.appointments(), ...signaling.appointments()])],
    events,
    resourceUsage: () => pool.resourceUsage(),
    workerPids: () => pool.pids(),
    workerPidOf: (appointmentId) => pool.pidOf(appointmentId),
    close: async () => {
      if (closed) return;
      closed = true;
      signaling.close();
      registry.close();
      pool.close();
    },
  };
}
