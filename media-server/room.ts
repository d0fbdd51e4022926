import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { SignalError } from './errors';

/** The resident, the employee, and a third participant (interpreter, family member) the employee let in. */
export type Role = 'resident' | 'agent' | 'guest';
export const ROLES: readonly Role[] = ['resident', 'agent', 'guest'];
/** The two whose presence makes the call: its duration runs from both joined until the last one left. */
const CALL_ROLES: readonly Role[] = ['resident', 'agent'];
/** What a guest never receives: the employee's screen may show the identification panel or a shared document. */
const NOT_FOR_GUESTS = 'screen';

export type Direction = 'send' | 'recv';

/** opus for audio; VP8 and H.264 constrained baseline (what every browser, incl. Safari, can encode). */
export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export interface RoomSettings {
  listenIps: ms.TransportListenIp[];
  /** ICE over TCP too, for networks that block UDP but have no TURN. */
  enableTcp: boolean;
  /** Cap on what one participant may send us, in bps. */
  maxIncomingBitrate: number;
  initialAvailableOutgoingBitrate: number;
  /** How long an empty room (nobody connected) lives on so a reload or reconnect finds it again. */
  emptyRoomTimeoutMs: number;
  /** Limit on producers per participant (audio, camera, maybe a screen). */
  maxProducersPerPeer: number;
}

/** Where a room pushes notifications for one participant: the signaling connection. */
export interface PeerSink {
  notify(method: string, data: unknown): void;
  /** Another connection took this role over: the old connection should be told and closed. */
  replaced(): void;
}

export type RoomCloseReason = 'empty' | 'worker-died' | 'closed';
export type LeaveReason = 'left' | 'replaced' | 'disconnected';

export interface PeerEvent {
  appointmentId: string;
  role: Role;
  /** peerJoined only: ms from the participant's connection (its first request) to joined, for the join-time metric. */
  joinMs?: number;
}
/** A participant started sending a source other than camera and microphone (the employee's screen). */
export interface SourceEvent {
  appointmentId: string;
  role: Role;
  source: string;
}
export interface CallEndedEvent {
  appointmentId: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
}
export interface RoomClosedEvent {
  appointmentId: string;
  reason: RoomCloseReason;
}

export class Peer {
  readonly id = randomUUID();
  joined = false;
  closed = false;
  rtpCapabilities: ms.RtpCapabilities | undefined;
  readonly transports = new Map<Direction, ms.WebRtcTransport>();
  readonly producers = new Map<string, ms.Producer>();
  readonly consumers = new Map<string, ms.Consumer>();
  /** Producer ids this peer consumes or is about to: guards against a double consume while one is in flight. */
  readonly consuming = new Set<string>();

  constructor(
    readonly role: Role,
    readonly sessionId: string,
    readonly sink: PeerSink,
    /** When the participant's connection started asking (epoch ms): the start of its join time. */
    readonly since: number = Date.now(),
  ) {}

  transportById(id: unknown): ms.WebRtcTransport {
    for (const t of this.transports.values()) if (t.id === id) return t;
    throw new SignalError('not_found', 'unknown transport');
  }
}

/**
 * The video codecs a joined peer can receive (mime types, e.g. ["video/VP8","video/H264"]), from the capabilities it
 * joined with. The other side sends with a codec in this list: the media server forwards and never transcodes, so a
 * device that decodes only H.264 (older iPhones) needs H.264 from the other side.
 */
export function videoCodecsOf(peer: Peer): string[] {
  const out: string[] = [];
  for (const c of peer.rtpCapabilities?.codecs ?? []) {
    const mime = typeof c?.mimeType === 'string' ? c.mimeType : '';
    if (c?.kind !== 'video' || !/^video\/[A-Za-z0-9-]{1,24}$/.test(mime) || /\/(rtx|red|ulpfec|flexfec)/i.test(mime)) continue;
    if (!out.some((m) => m.toLowerCase() === mime.toLowerCase())) out.push(mime);
    if (out.length >= 8) break;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Runs a mediasoup call on client-supplied parameters. mediasoup rejects bad ones with TypeError (ortc validation),
 * UnsupportedError (codec mismatch) or a plain Error from the worker (e.g. a duplicate MID or SSRC): all of those are
 * the client's fault and become bad_request. A closed transport or router (InvalidStateError) means the call is gone.
 */
async function clientInput<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SignalError) throw err;
    if (err instanceof Error && err.name === 'InvalidStateError') throw new SignalError('unavailable', 'the call is no longer available');
    if (err instanceof Error) throw new SignalError('bad_request', `invalid ${what}`);
    throw err;
  }
}

/**
 * One appointment's call: a mediasoup router on one worker, one peer per role, each with a send and a receive
 * WebRtcTransport (and a guest the employee let in: three peers, each receiving the other two). Emits 'peerJoined',
 * 'peerLeft' (PeerEvent), 'callStarted', 'callEnded' (CallEndedEvent), 'sourceStarted' (SourceEvent) and 'closed'
 * (RoomClosedEvent).
 */
export class Room extends EventEmitter {
  private readonly peers = new Map<Role, Peer>();
  private emptyTimer: NodeJS.Timeout | null = null;
  private callStartedAt: number | null = null;
  private lastLeftAt: number | null = null;
  closed = false;

  constructor(
    readonly appointmentId: string,
    private readonly router: ms.Router,
    private readonly settings: RoomSettings,
  ) {
    super();
    router.on('workerclose', () => this.close('worker-died'));
    this.armEmptyTimer();
  }

  get rtpCapabilities(): ms.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  get routerId(): string {
    return this.router.id;
  }

  peer(role: Role): Peer | undefined {
    return this.peers.get(role);
  }

  /** A connection for this role arrived: it replaces any earlier peer in the same role (reload, second tab). */
  attach(role: Role, sessionId: string, sink: PeerSink, since?: number): Peer {
    if (this.closed) throw new SignalError('unavailable', 'the call room is closed');
    const previous = this.peers.get(role);
    if (previous) {
      this.detach(previous, 'replaced');
      previous.sink.replaced();
    }
    const peer = new Peer(role, sessionId, sink, since);
    this.peers.set(role, peer);
    this.clearEmptyTimer();
    return peer;
  }

  /**
   * The peer left (leave request, connection closed or replaced): closes its transports, which cascades. The others
   * hear why, so a page can tell "stepped away" (left) from "connection lost" (disconnected) from a reload (replaced).
   */
  detach(peer: Peer, reason: LeaveReason = 'left'): void {
    if (peer.closed) return;
    peer.closed = true;
    if (this.peers.get(peer.role) === peer) this.peers.delete(peer.role);
    for (const t of peer.transports.values()) t.close();
    peer.transports.clear();
    if (peer.joined) {
      peer.joined = false;
      this.lastLeftAt = Date.now();
      this.notifyOthers(peer, 'peerLeft', { role: peer.role, reason });
      this.emit('peerLeft', { appointmentId: this.appointmentId, role: peer.role } satisfies PeerEvent);
    }
    if (this.peers.size === 0) this.armEmptyTimer();
  }

  private ownPeer(peer: Peer): void {
    if (this.closed || peer.closed || this.peers.get(peer.role) !== peer) {
      throw new SignalError('not_joined', 'this connection is no longer part of the call');
    }
  }

  /** The client has loaded its device: from now on it receives the other side's media. */
  async join(peer: Peer, rtpCapabilities: unknown): Promise<{ peers: Array<{ role: Role; videoCodecs: string[] }> }> {
    this.ownPeer(peer);
    if (!isObject(rtpCapabilities) || !Array.isArray(rtpCapabilities.codecs)) {
      throw new SignalError('bad_request', 'rtpCapabilities must be an object with codecs');
    }
    if (peer.joined) throw new SignalError('bad_request', 'already joined');
    peer.rtpCapabilities = rtpCapabilities as unknown as ms.RtpCapabilities;
    peer.joined = true;
    const others = this.joinedOthers(peer);
    this.notifyOthers(peer, 'peerJoined', { role: peer.role, videoCodecs: videoCodecsOf(peer) });
    this.emit('peerJoined', { appointmentId: this.appointmentId, role: peer.role, joinMs: Date.now() - peer.since } satisfies PeerEvent);
    if (this.callStartedAt === null && CALL_ROLES.every((r) => this.peers.get(r)?.joined)) {
      this.callStartedAt = Date.now();
      this.emit('callStarted', { appointmentId: this.appointmentId, role: peer.role } satisfies PeerEvent);
    }
    await this.consumeAllFor(peer);
    return { peers: others.map((p) => ({ role: p.role, videoCodecs: videoCodecsOf(p) })) };
  }

  async createTransport(peer: Peer, direction: unknown): Promise<{
    id: string;
    iceParameters: ms.IceParameters;
    iceCandidates: ms.IceCandidate[];
    dtlsParameters: ms.DtlsParameters;
  }> {
    this.ownPeer(peer);
    if (direction !== 'send' && direction !== 'recv') throw new SignalError('bad_request', 'direction must be send or recv');
    // A second transport in the same direction (client restarting after a media drop) replaces the first.
    peer.transports.get(direction)?.close();
    peer.transports.delete(direction);
    const transport = await this.router.createWebRtcTransport({
      listenIps: this.settings.listenIps,
      enableUdp: true,
      enableTcp: this.settings.enableTcp,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.settings.initialAvailableOutgoingBitrate,
      appData: { role: peer.role, direction },
    });
    if (peer.closed || this.closed) {
      transport.close();
      throw new SignalError('not_joined', 'this connection is no longer part of the call');
    }
    peer.transports.set(direction, transport);
    transport.observer.once('close', () => {
      if (peer.transports.get(direction) === transport) peer.transports.delete(direction);
    });
    if (direction === 'send') await transport.setMaxIncomingBitrate(this.settings.maxIncomingBitrate);
    else if (peer.joined) await this.consumeAllFor(peer);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(peer: Peer, transportId: unknown, dtlsParameters: unknown): Promise<void> {
    this.ownPeer(peer);
    const transport = peer.transportById(transportId);
    if (!isObject(dtlsParameters) || !Array.isArray(dtlsParameters.fingerprints)) {
      throw new SignalError('bad_request', 'dtlsParameters must be an object with fingerprints');
    }
    await clientInput('dtlsParameters', () => transport.connect({ dtlsParameters: dtlsParameters as unknown as ms.DtlsParameters }));
  }

  async restartIce(peer: Peer, transportId: unknown): Promise<ms.IceParameters> {
    this.ownPeer(peer);
    return peer.transportById(transportId).restartIce();
  }

  async produce(peer: Peer, transportId: unknown, kind: unknown, rtpParameters: unknown, appData: unknown): Promise<{ id: string }> {
    this.ownPeer(peer);
    if (!peer.joined) throw new SignalError('not_joined', 'join before producing');
    const transport = peer.transportById(transportId);
    if (transport !== peer.transports.get('send')) throw new SignalError('bad_request', 'produce needs the send transport');
    if (kind !== 'audio' && kind !== 'video') throw new SignalError('bad_request', 'kind must be audio or video');
    if (!isObject(rtpParameters)) throw new SignalError('bad_request', 'rtpParameters must be an object');
    if (peer.producers.size >= this.settings.maxProducersPerPeer) throw new SignalError('bad_request', 'too many producers');
    // Only a short source label travels in appData; anything else the client sends is dropped.
    const source = isObject(appData) && typeof appData.source === 'string' && /^[a-z]{1,16}$/.test(appData.source) ? appData.source : kind;
    const producer = await clientInput('rtpParameters', () =>
      transport.produce({ kind, rtpParameters: rtpParameters as unknown as ms.RtpParameters, appData: { source, role: peer.role } }),
    );
    if (peer.closed) {
      producer.close();
      throw new SignalError('not_joined', 'this connection is no longer part of the call');
    }
    peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => peer.producers.delete(producer.id));
    if (source === NOT_FOR_GUESTS) this.emit('sourceStarted', { appointmentId: this.appointmentId, role: peer.role, source } satisfies SourceEvent);
    for (const other of this.joinedOthers(peer)) void this.consume(other, peer, producer).catch(() => undefined);
    return { id: producer.id };
  }

  private ownProducer(peer: Peer, producerId: unknown): ms.Producer {
    this.ownPeer(peer);
    const producer = typeof producerId === 'string' ? peer.producers.get(producerId) : undefined;
    if (!producer) throw new SignalError('not_found', 'unknown producer');
    return producer;
  }

  /** The client stopped sending one of its producers (e.g. to send video in another codec). */
  closeProducer(peer: Peer, producerId: unknown): void {
    this.ownProducer(peer, producerId).close();
  }

  /** Camera or microphone switched off (or on) by the participant; the other side's consumer follows. */
  async pauseProducer(peer: Peer, producerId: unknown, paused: boolean): Promise<void> {
    const producer = this.ownProducer(peer, producerId);
    if (paused) await producer.pause();
    else await producer.resume();
  }

  async resumeConsumer(peer: Peer, consumerId: unknown): Promise<void> {
    this.ownPeer(peer);
    const consumer = typeof consumerId === 'string' ? peer.consumers.get(consumerId) : undefined;
    if (!consumer) throw new SignalError('not_found', 'unknown consumer');
    // The consumer can close between the lookup and the worker's answer (the other side left): not a server error.
    await consumer.resume().catch(() => {
      throw new SignalError('not_found', 'the consumer is gone');
    });
  }

  async getStats(peer: Peer): Promise<Record<string, unknown>> {
    this.ownPeer(peer);
    const out: Record<string, unknown> = {};
    for (const [direction, t] of peer.transports) out[direction] = await t.getStats();
    out.producers = await Promise.all([...peer.producers.values()].map(async (p) => ({ id: p.id, kind: p.kind, stats: await p.getStats() })));
    out.consumers = await Promise.all([...peer.consumers.values()].map(async (c) => ({ id: c.id, kind: c.kind, stats: await c.getStats() })));
    return out;
  }

  private joinedOthers(peer: Peer): Peer[] {
    return [...this.peers.values()].filter((p) => p !== peer && p.joined && !p.closed);
  }

  private notifyOthers(peer: Peer, method: string, data: unknown): void {
    for (const other of this.peers.values()) if (other !== peer && !other.closed) other.sink.notify(method, data);
  }

  /**
   * Everything the others already send, for a peer that just joined or just got its receive transport. Video first:
   * the client sets consumers up one SDP negotiation at a time, and the picture is what a joining person waits for
   * (the first frame also needs a key frame from the sender, requested when the video consumer is resumed).
   */
  private async consumeAllFor(peer: Peer): Promise<void> {
    for (const other of this.joinedOthers(peer)) {
      const producers = [...other.producers.values()].sort((a, b) => Number(b.kind === 'video') - Number(a.kind === 'video'));
      for (const producer of producers) await this.consume(peer, other, producer).catch(() => undefined);
    }
  }

  /** Creates a paused consumer and tells the client; it is resumed when the client asks (resumeConsumer). */
  private async consume(consumerPeer: Peer, producerPeer: Peer, producer: ms.Producer): Promise<void> {
    const transport = consumerPeer.transports.get('recv');
    const caps = consumerPeer.rtpCapabilities;
    if (!transport || !caps || consumerPeer.closed || consumerPeer.consuming.has(producer.id)) return;
    if (consumerPeer.role === 'guest' && (producer.appData as { source?: string }).source === NOT_FOR_GUESTS) return;
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) return;
    consumerPeer.consuming.add(producer.id);
    let consumer: ms.Consumer;
    try {
      consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: caps, paused: true });
    } catch (err) {
      consumerPeer.consuming.delete(producer.id);
      throw err;
    }
    if (consumerPeer.closed || transport.closed) {
      consumer.close();
      return;
    }
    consumerPeer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => {
      consumerPeer.consumers.delete(consumer.id);
      consumerPeer.consuming.delete(producer.id);
    });
    consumer.on('producerclose', () => {
      if (!consumerPeer.closed) consumerPeer.sink.notify('consumerClosed', { consumerId: consumer.id });
    });
    // Camera or microphone switched off on the other side: the page shows "Camera uit" instead of a frozen picture.
    consumer.on('producerpause', () => {
      if (!consumerPeer.closed) consumerPeer.sink.notify('consumerPaused', { consumerId: consumer.id });
    });
    consumer.on('producerresume', () => {
      if (!consumerPeer.closed) consumerPeer.sink.notify('consumerResumed', { consumerId: consumer.id });
    });
    consumerPeer.sink.notify('newConsumer', {
      peerRole: producerPeer.role,
      producerId: producer.id,
      id: consumer.id,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
      appData: { source: (producer.appData as { source?: string }).source ?? consumer.kind },
    });
  }

  private armEmptyTimer(): void {
    this.clearEmptyTimer();
    if (this.closed) return;
    this.emptyTimer = setTimeout(() => this.close('empty'), this.settings.emptyRoomTimeoutMs);
    this.emptyTimer.unref();
  }

  private clearEmptyTimer(): void {
    if (this.emptyTimer) clearTimeout(this.emptyTimer);
    this.emptyTimer = null;
  }

  /** Closes the router (cascading to every transport, producer and consumer) and reports the call's duration. */
  close(reason: RoomCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.clearEmptyTimer();
    const now = Date.now();
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const p of peers) p.closed = true;
    this.router.close();
    if (this.callStartedAt !== null) {
      const endedAt = peers.some((p) => p.joined) || this.lastLeftAt === null ? now : this.lastLeftAt;
      this.emit('callEnded', {
        appointmentId: this.appointmentId,
        startedAt: new Date(this.callStartedAt).toISOString(),
        endedAt: new Date(endedAt).toISOString(),
        durationMs: Math.max(0, endedAt - this.callStartedAt),
      } satisfies CallEndedEvent);
    }
    this.emit('closed', { appointmentId: this.appointmentId, reason } satisfies RoomClosedEvent);
    this.removeAllListeners();
  }

  /** The roles currently connected, for the signaling layer to notify on close. */
  connectedPeers(): Peer[] {
    return [...this.peers.values()];
  }
}
