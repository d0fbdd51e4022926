import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { SignalError } from './errors';
import { ROLES, type Peer, type Role, type Room } from './room';
import type { RoomRegistry } from './room-registry';
import { newTurnId, turnIceServer, type TurnSettings } from './turn-credentials';

/** Who a connection belongs to, as the injected authenticate() found it from the session cookie. */
export interface SessionInfo {
  appointmentId: string;
  role: Role;
  sessionId: string;
  /** The appointment's planned end (ISO 8601): TURN credentials stay valid until a while after it. */
  endsAt?: string;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface SignalingLog {
  warn(message: string): void;
  error(message: string): void;
}

export interface SignalingOptions {
  /** Resolves the session behind the upgrade request (cookie), or null: the upgrade is refused with 401. */
  authenticate: (req: IncomingMessage) => Promise<SessionInfo | null>;
  /** Same-origin check on the Origin header; false refuses with 403 (cross-site WebSocket hijacking). */
  allowedOrigin: (req: IncomingMessage) => boolean;
  registry: RoomRegistry;
  iceServers: IceServer[];
  /** TURN with per-participant time-limited credentials, added after `iceServers` in every transport answer. */
  turn?: TurnSettings;
  /** Largest accepted frame; larger ones close the connection (1009). Default 64 KiB. */
  maxPayload?: number;
  /** Token bucket per connection: burst size and refill per second. Default 40 and 20. */
  rateLimit?: { burst: number; perSecond: number };
  /** Keep-alive ping interval; a connection that misses one pong is dropped. Default 30 s. */
  pingIntervalMs?: number;
  log: SignalingLog;
  /** A guest waits to be let in (true), or no longer does (let in, or gone). */
  onLobby?(appointmentId: string, waiting: boolean): void;
}

/** A server push: `{notification:true, method, data}`. */
export interface Notification {
  method: string;
  data?: unknown;
}

type RequestId = string | number;

/** Close codes the client can act on. */
export const CLOSE_REPLACED = 4001;
export const CLOSE_ROOM_CLOSED = 4002;
/** The employee sent the guest out of the call. */
export const CLOSE_REMOVED = 4003;
export const CLOSE_RATE_LIMIT = 1008;

/** Requests beyond this many dropped frames close the connection: a client that far over the limit is broken or hostile. */
const MAX_DROPPED = 100;
const MAX_QUEUED = 32;

class Connection {
  peer: Peer | undefined;
  room: Room | undefined;
  tokens: number;
  lastRefill = Date.now();
  dropped = 0;
  queued = 0;
  queue: Promise<void> = Promise.resolve();
  alive = true;
  closed = false;
  /** When this connection (re)started asking for the room: the start of the join-time metric. */
  since = Date.now();
  /** Opaque id in this connection's TURN usernames (no appointment or person in coturn's logs). */
  readonly turnId = newTurnId();

  constructor(
    readonly ws: WebSocket,
    readonly session: SessionInfo,
    burst: number,
  ) {
    this.tokens = burst;
  }

  send(message: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(message));
  }

  notify(method: string, data: unknown): void {
    this.send({ notification: true, method, data: data ?? {} });
  }
}

function refuse(socket: Duplex, status: 401 | 403 | 500, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  socket.destroy();
}

function isSession(v: unknown): v is SessionInfo {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.appointmentId === 'string' && s.appointmentId.length > 0 && s.appointmentId.length <= 200 &&
    typeof s.sessionId === 'string' && s.sessionId.length > 0 &&
    (s.endsAt === undefined || (typeof s.endsAt === 'string' && Number.isFinite(Date.parse(s.endsAt)))) &&
    ROLES.includes(s.role as Role)
  );
}

function validId(id: unknown): id is RequestId {
  return (typeof id === 'string' && id.length > 0 && id.length <= 64) || (typeof id === 'number' && Number.isSafeInteger(id));
}

function record(data: unknown): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new SignalError('bad_request', 'data must be an object');
  return data as Record<string, unknown>;
}

/**
 * The call's signaling over WebSocket (noServer: the runtime's HTTP server hands us the upgrades on /ws).
 * Envelope: `{request:true,id,method,data}` -> `{response:true,id,ok:true,data}` or
 * `{response:true,id,ok:false,error:{code,message}}`; pushes are `{notification:true,method,data}`.
 * Requests of one connection are handled one after the other, in arrival order.
 */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly byAppointment = new Map<string, Set<Connection>>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly log: SignalingLog;
  private readonly pingTimer: NodeJS.Timeout;
  private closed = false;
  /** Calls being ended by a participant's `end` request right now: who ended it, for the roomClosed push. */
  private readonly endingBy = new Map<string, Role>();
  /** Guest sessions the employee let in, per appointment: a reload or reconnect of the same session needs no new yes. */
  private readonly admitted = new Map<string, Set<string>>();

  constructor(private readonly opts: SignalingOptions) {
    this.burst = opts.rateLimit?.burst ?? 40;
    this.perSecond = opts.rateLimit?.perSecond ?? 20;
    this.log = opts.log;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 64 * 1024, perMessageDeflate: false, clientTracking: false });
    opts.registry.on('roomClosed', (e: { appointmentId: string; reason: string }) => this.onRoomClosed(e.appointmentId, e.reason));
    this.pingTimer = setInterval(() => this.heartbeat(), opts.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
  }

  /** Call from the HTTP server's 'upgrade' event for the signaling path. Never throws; refusals answer 401/403. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    void this.upgrade(req, socket, head).catch((err: unknown) => {
      this.log.error(`upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
      refuse(socket, 500, 'Internal Server Error');
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.closed) return refuse(socket, 500, 'Shutting Down');
    if (!this.opts.allowedOrigin(req)) return refuse(socket, 403, 'Forbidden');
    const session = await this.opts.authenticate(req);
    if (!isSession(session)) return refuse(socket, 401, 'Unauthorized');
    if (socket.destroyed || this.closed) return refuse(socket, 500, 'Gone');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, session));
  }

  private onConnection(ws: WebSocket, session: SessionInfo): void {
    const conn = new Connection(ws, { ...session }, this.burst);
    // Handlers first, before anything async, so no early frame is lost.
    ws.on('message', (raw, isBinary) => this.onMessage(conn, raw, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.onClose(conn));
    let set = this.byAppointment.get(session.appointmentId);
    if (!set) this.byAppointment.set(session.appointmentId, (set = new Set()));
    // The newest connection of a role wins (reload, second tab, reconnect after a network change).
    for (const other of set) if (other.session.role === session.role) this.replace(other);
    set.add(conn);
    if (session.role === 'guest') {
      // A guest waits in the lobby (no media, no room) until the employee lets them in.
      if (this.isAdmitted(conn)) conn.notify('admitted', {});
      else {
        conn.notify('lobby', {});
        this.opts.onLobby?.(session.appointmentId, true);
      }
    }
  }

  private isAdmitted(conn: Connection): boolean {
    return conn.session.role !== 'guest' || (this.admitted.get(conn.session.appointmentId)?.has(conn.session.sessionId) ?? false);
  }

  private guestConnections(appointmentId: string): Connection[] {
    return [...(this.byAppointment.get(appointmentId) ?? [])].filter((c) => c.session.role === 'guest' && !c.closed);
  }

  /** Lets the waiting guest(s) of an appointment in. Returns how many connections were told. */
  admitGuest(appointmentId: string): number {
    const waiting = this.guestConnections(appointmentId);
    if (waiting.length === 0) return 0;
    let set = this.admitted.get(appointmentId);
    if (!set) this.admitted.set(appointmentId, (set = new Set()));
    for (const conn of waiting) {
      set.add(conn.session.sessionId);
      conn.notify('admitted', {});
    }
    this.opts.onLobby?.(appointmentId, false);
    return waiting.length;
  }

  /** Sends the guest out: roomClosed {reason:'removed'}, close code 4003, admission forgotten. */
  removeGuest(appointmentId: string): number {
    this.admitted.delete(appointmentId);
    const guests = this.guestConnections(appointmentId);
    for (const conn of guests) {
      if (conn.room && conn.peer) conn.room.detach(conn.peer, 'left');
      conn.room = undefined;
      conn.peer = undefined;
      conn.notify('roomClosed', { reason: 'removed' });
      conn.closed = true;
      conn.ws.close(CLOSE_REMOVED, 'removed from the call');
    }
    if (guests.length) this.opts.onLobby?.(appointmentId, false);
    return guests.length;
  }

  /** Whether a guest of the appointment is connected and not yet let in. */
  guestWaiting(appointmentId: string): boolean {
    return this.guestConnections(appointmentId).some((c) => !this.isAdmitted(c));
  }

  private replace(conn: Connection): void {
    if (conn.closed) return;
    if (conn.room && conn.peer) conn.room.detach(conn.peer, 'replaced');
    conn.room = undefined;
    conn.peer = undefined;
    conn.notify('roomClosed', { reason: 'replaced' });
    conn.closed = true;
    conn.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
  }

  private takeToken(conn: Connection): boolean {
    const now = Date.now();
    conn.tokens = Math.min(this.burst, conn.tokens + ((now - conn.lastRefill) / 1000) * this.perSecond);
    conn.lastRefill = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  private onMessage(conn: Connection, raw: RawData, isBinary: boolean): void {
    if (conn.closed) return;
    let msg: unknown;
    if (isBinary) {
      msg = undefined;
    } else {
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        msg = undefined;
      }
    }
    const m = typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as Record<string, unknown>) : undefined;
    const id = m && validId(m.id) ? m.id : null;
    if (!this.takeToken(conn) || conn.queued >= MAX_QUEUED) {
      conn.dropped++;
      if (conn.dropped > MAX_DROPPED) {
        conn.ws.close(CLOSE_RATE_LIMIT, 'rate limit');
        return;
      }
      this.respondError(conn, id, new SignalError('rate_limited', 'too many messages, slow down'));
      return;
    }
    if (!m) return this.respondError(conn, null, new SignalError('bad_request', 'messages must be JSON objects'));
    if (m.request !== true || id === null) {
      return this.respondError(conn, id, new SignalError('bad_request', 'expected {request:true,id,method,data}'));
    }
    if (typeof m.method !== 'string') return this.respondError(conn, id, new SignalError('bad_request', 'method must be a string'));
    const method = m.method;
    const data = m.data;
    conn.queued++;
    conn.queue = conn.queue
      .then(() => this.dispatch(conn, method, data))
      .then(
        (result) => conn.send({ response: true, id, ok: true, data: result ?? {} }),
        (err: unknown) => this.respondError(conn, id, err),
      )
      .finally(() => {
        conn.queued--;
      });
  }

  private respondError(conn: Connection, id: RequestId | null, err: unknown): void {
    let error: { code: string; message: string };
    if (err instanceof SignalError) {
      error = { code: err.code, message: err.message };
    } else {
      this.log.error(`signaling request failed: ${err instanceof Error ? err.message : String(err)}`);
      error = { code: 'internal', message: 'internal error' };
    }
    conn.send({ response: true, id, ok: false, error });
  }

  /** The connection's peer in its room, attaching (and creating the room) on first use or after a rejoin. */
  private async ensurePeer(conn: Connection): Promise<{ room: Room; peer: Peer }> {
    if (conn.room && conn.peer && !conn.room.closed && !conn.peer.closed) return { room: conn.room, peer: conn.peer };
    const since = conn.since;
    const room = await this.opts.registry.get(conn.session.appointmentId);
    if (conn.closed) throw new SignalError('not_joined', 'connection closed');
    const peer = room.attach(conn.session.role, conn.session.sessionId, {
      notify: (method, data) => conn.notify(method, data),
      replaced: () => this.replace(conn),
    }, since);
    conn.room = room;
    conn.peer = peer;
    return { room, peer };
  }

  private async dispatch(conn: Connection, method: string, rawData: unknown): Promise<unknown> {
    if (conn.closed) throw new SignalError('not_joined', 'connection closed');
    const data = record(rawData);
    // A guest in the lobby has no part in the call yet: no router, no transports, no media of the others.
    if (!this.isAdmitted(conn) && method !== 'leave') throw new SignalError('not_admitted', 'wait until the employee lets you in');
    switch (method) {
      case 'getRouterRtpCapabilities': {
        const { room } = await this.ensurePeer(conn);
        return room.rtpCapabilities;
      }
      case 'join': {
        const { room, peer } = await this.ensurePeer(conn);
        return room.join(peer, data.rtpCapabilities);
      }
      case 'createWebRtcTransport': {
        const { room, peer } = await this.ensurePeer(conn);
        const t = await room.createTransport(peer, data.direction);
        return { ...t, iceServers: this.iceServersFor(conn) };
      }
      case 'connectWebRtcTransport': {
        const { room, peer } = await this.ensurePeer(conn);
        await room.connectTransport(peer, data.transportId, data.dtlsParameters);
        return {};
      }
      case 'produce': {
        const { room, peer } = await this.ensurePeer(conn);
        return room.produce(peer, data.transportId, data.kind, data.rtpParameters, data.appData);
      }
      case 'closeProducer': {
        const { room, peer } = await this.ensurePeer(conn);
        room.closeProducer(peer, data.producerId);
        return {};
      }
      case 'pauseProducer':
      case 'resumeProducer': {
        const { room, peer } = await this.ensurePeer(conn);
        await room.pauseProducer(peer, data.producerId, method === 'pauseProducer');
        return {};
      }
      case 'resumeConsumer': {
        const { room, peer } = await this.ensurePeer(conn);
        await room.resumeConsumer(peer, data.consumerId);
        return {};
      }
      case 'restartIce': {
        const { room, peer } = await this.ensurePeer(conn);
        // Fresh TURN credentials too: a restart after a long outage must not fail on expired ones.
        return { iceParameters: await room.restartIce(peer, data.transportId), iceServers: this.iceServersFor(conn) };
      }
      case 'getStats': {
        const { room, peer } = await this.ensurePeer(conn);
        return room.getStats(peer);
      }
      case 'leave': {
        if (conn.room && conn.peer) conn.room.detach(conn.peer, 'left');
        conn.peer = undefined;
        conn.room = undefined;
        return {};
      }
      case 'end': {
        // The employee's "Ophangen" ends the conversation for both; a resident only leaves (`leave`). Everyone
        // connected gets roomClosed {reason:'ended', by:'agent'} and close code 4002, this connection too.
        if (conn.session.role !== 'agent') throw new SignalError('forbidden', 'only the employee can end the call for both');
        const appointmentId = conn.session.appointmentId;
        this.endingBy.set(appointmentId, conn.session.role);
        try {
          return { ended: this.opts.registry.closeRoom(appointmentId) };
        } finally {
          this.endingBy.delete(appointmentId);
        }
      }
      default:
        throw new SignalError('unknown_method', 'unknown method');
    }
  }

  /** The static ICE servers plus, when TURN is configured, this participant's own fresh TURN credentials. */
  private iceServersFor(conn: Connection): IceServer[] {
    const turn = this.opts.turn;
    if (!turn) return this.opts.iceServers;
    return [...this.opts.iceServers, turnIceServer(turn, conn.turnId, conn.session.endsAt)];
  }

  private onRoomClosed(appointmentId: string, reason: string): void {
    const by = this.endingBy.get(appointmentId);
    // The call is over (ended or empty): a guest coming back to a new call waits to be let in again.
    if (reason !== 'worker-died') this.admitted.delete(appointmentId);
    for (const conn of this.byAppointment.get(appointmentId) ?? []) {
      if (!conn.room || conn.room.appointmentId !== appointmentId || !conn.room.closed) continue;
      conn.room = undefined;
      conn.peer = undefined;
      if (reason === 'worker-died') {
        // The media process is gone but the connection is fine: the client sets up its device and transports again
        // on this same connection and lands on a fresh router.
        conn.since = Date.now();
        conn.notify('rejoin', { reason: 'media-restart' });
      } else if (reason === 'closed') {
        conn.notify('roomClosed', by ? { reason: 'ended', by } : { reason: 'ended' });
        conn.closed = true;
        conn.ws.close(CLOSE_ROOM_CLOSED, 'call ended');
      }
    }
  }

  private onClose(conn: Connection): void {
    const wasWaiting = !conn.closed && !this.isAdmitted(conn);
    conn.closed = true;
    if (wasWaiting && !this.guestWaiting(conn.session.appointmentId)) this.opts.onLobby?.(conn.session.appointmentId, false);
    if (conn.room && conn.peer) conn.room.detach(conn.peer, 'disconnected');
    conn.room = undefined;
    conn.peer = undefined;
    const set = this.byAppointment.get(conn.session.appointmentId);
    set?.delete(conn);
    if (set && set.size === 0) this.byAppointment.delete(conn.session.appointmentId);
  }

  private heartbeat(): void {
    for (const set of this.byAppointment.values()) {
      for (const conn of set) {
        if (!conn.alive) {
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        conn.ws.ping();
      }
    }
  }

  /**
   * Pushes a notification to exactly one participant's connection(s) of an appointment (e.g. the identification
   * pop-up to the resident). Returns how many connections got it (0 when that participant is not connected).
   */
  publish(appointmentId: string, role: Role, notification: Notification): number {
    if (typeof notification?.method !== 'string' || notification.method.length === 0) throw new Error('notification.method is required');
    let sent = 0;
    for (const conn of this.byAppointment.get(appointmentId) ?? []) {
      if (conn.session.role !== role || conn.closed) continue;
      conn.notify(notification.method, notification.data);
      sent++;
    }
    return sent;
  }

  /** Appointments with at least one signaling connection here. */
  appointments(): string[] {
    return [...this.byAppointment.keys()];
  }

  /** Connected signaling connections (for health and tests). */
  connectionCount(): number {
    let n = 0;
    for (const set of this.byAppointment.values()) n += set.size;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const set of this.byAppointment.values()) {
      for (const conn of set) conn.ws.close(1001, 'server shutting down');
    }
    this.wss.close();
  }
}
