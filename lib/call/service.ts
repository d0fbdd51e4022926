import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppointmentStore } from '../appointments/store';
import type { LinkService } from '../links';
import { createAgentHub, type AgentHub, type HubMessage } from '../realtime/agent-hub';
import { createAgentPush, relayAgentPushes, type AgentPush } from '../realtime/agent-push';
import type { Services } from '../services';
import { createMediaServer, defaultListenIp, type MediaServer } from '../../media-server';
import type { ProcessingLogEntry } from '../attributes/processing-log';
import { DocumentService, type DocumentInfo } from '../documents/service';
import type { LobbyEvent, PeerEvent, SourceEvent } from '../../media-server';
import { authenticateCall, queryOf, sameOriginUpgrade, signedInAgent, type CallAuthDeps } from './authenticate';
import { CallChat, type ChatMessage } from './chat';
import { appointmentStoreOf, linkServiceOf } from './deps';
import { guestServiceFor, type GuestService } from './guests';
import { PresenceTracker, type Presence } from './presence';
import { metricsOf } from '../runtime/metrics';
import { drainStateOf } from '../runtime/drain';
import { instanceIdOf } from '../runtime/instance';
import { forwardUpgrade, InstanceLink } from '../runtime/instance-link';
import { RoomPinning, type RoomRoute } from './room-pinning';
import { roomHoldsOf } from './room-holds';
import { reclaimJobsOf } from '../instances/reclaim';
import { relayToPeers } from '../instances/agent-relay';

/** The process-wide call machinery: one media server, one agent hub, one presence view, whatever nodes come and go. */
export interface CallService {
  readonly media: MediaServer;
  /** This instance's agent dashboards; push through `agentPushOf(services)` so every instance's dashboards get it. */
  readonly hub: AgentHub;
  readonly presence: PresenceTracker;
  readonly appointments: AppointmentStore;
  readonly links: LinkService;
  /** The call's chat, also to a resident who is still waiting (memory only). */
  readonly chat: CallChat;
  /** Documents and photos the resident shares (memory only, for the agent's eyes). */
  readonly documents: DocumentService;
  /** The third participant of an appointment (interpreter, family member). */
  readonly guests: GuestService;
  /** Writes a processing-log line; a failure is reported without failing the caller's action. */
  record(entry: ProcessingLogEntry): Promise<void>;
  /**
   * Several instances (PostgreSQL and IDV_INSTANCE_SECRET): the room directory and the authenticated link to the
   * other instances; undefined on one instance.
   */
  readonly pinning?: { rooms: RoomPinning; link: InstanceLink };
  /** Hooks `/ws` (under httpNodeRoot) into an HTTP server's upgrades; a second call for the same server does nothing. */
  attach(server: Server, basePath?: string): void;
}

export const CALL_SERVICE_KEY = 'call.service';

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function refuse(socket: Duplex, status: 401 | 403 | 503, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  socket.destroy();
}

async function start(services: Services): Promise<CallService> {
  const appointments = appointmentStoreOf(services);
  const links = linkServiceOf(services);
  const deps: CallAuthDeps = { links, appointments, staff: services.staff, secure: services.secure, publicUrl: () => services.config.publicUrl };
  const m = services.config.media;
  let listenIp = m.listenIp;
  if (!listenIp) {
    const choice = defaultListenIp();
    listenIp = choice.ip;
    services.log[choice.ip.startsWith('127.') ? 'warn' : 'info'](`media server listens on ${choice.ip}: ${choice.why}; set IDV_MEDIA_LISTEN_IP to choose`);
  }
  const media = await createMediaServer({
    numWorkers: m.workers,
    listenIp,
    announcedIp: m.announcedIp,
    rtcMinPort: m.rtcMinPort,
    rtcMaxPort: m.rtcMaxPort,
    iceServers: m.iceServers,
    turn: m.turn,
    allowedOrigin: (req) => sameOriginUpgrade(req, deps.publicUrl?.()),
    authenticate: (req) => authenticateCall(req, deps),
    log: { warn: (msg) => services.log.warn(msg), error: (msg) => services.log.error(msg) },
  });
  const hub = createAgentHub();
  // Pushes made on any instance (through the store's pub/sub) reach this instance's dashboards.
  const stopRelay = relayAgentPushes(services.store.pubsub, hub);
  const push = agentPushOf(services);
  const presence = new PresenceTracker(media.events);
  metricsOf(services).watchCall({ media, presence });
  // The agent's dashboard follows its residents live, whichever instance it is connected to; the lookup is one
  // indexed read per join or leave.
  presence.on('presence', (appointmentId: string, p: Presence) => {
    void appointments
      .get(appointmentId)
      .then(async (a) => {
        if (a) await push.publish(a.agent, { type: 'presence', appointmentId, resident: p.resident, agent: p.agent, guest: p.guest === true });
      })
      .catch((e: unknown) => services.log.warn(`presence update failed: ${(e as Error).message}`));
  });

  const processingLog = services.store.processingLog;
  const record = async (entry: ProcessingLogEntry): Promise<void> => {
    try {
      await processingLog.record(entry);
    } catch (e) {
      services.log.error(`processing log write failed (${entry.action}): ${(e as Error).message}`);
    }
  };
  /** The appointment's agent username, for pushes on the dashboard's live channel and the log's actor. */
  const agentOf = async (appointmentId: string): Promise<string | undefined> => (await appointments.get(appointmentId).catch(() => null))?.agent.toLowerCase();
  // References (document kind and size, a guest waiting) go to the agent's dashboards on every instance through the
  // store's pub/sub. Chat text must not pass through the database (PostgreSQL may spill its notification queue to
  // disk): it goes to this instance's dashboards and, with several instances, straight to the others over the
  // instance link (lib/instances/agent-relay.ts).
  const toAgent = (appointmentId: string, message: { type: string } & Record<string, unknown>, local = false): void => {
    void agentOf(appointmentId)
      .then(async (agent) => {
        if (!agent) return;
        if (!local) return void (await push.publish(agent, { ...message, appointmentId }));
        const full: HubMessage = { ...message, appointmentId } as HubMessage;
        hub.publish(agent, full);
        // Several instances: the agent's dashboard may be connected to another one; straight there, not via the store.
        if (pinning) await relayToPeers(pinning.link, await services.store.rooms.liveInstances(), agent, full);
      })
      .catch((e: unknown) => services.log.warn(`dashboard push failed: ${(e as Error).message}`));
  };

  const guests = guestServiceFor(services, record);

  // Chat: the resident and an admitted guest get it on the call's signaling, the agent on the dashboard's live
  // channel (also while the resident still waits and the agent is not in the call).
  const chat: CallChat = new CallChat({
    deliver: (appointmentId, message: ChatMessage) => {
      let n = media.publish(appointmentId, 'resident', { method: 'chatMessage', data: message });
      if (chat.guestMayRead(appointmentId, message)) n += media.publish(appointmentId, 'guest', { method: 'chatMessage', data: message });
      toAgent(appointmentId, { type: 'chat', message }, true);
      return n;
    },
    record: async (appointmentId, from, sender) => {
      const actor = from === 'agent' ? sender.toLowerCase() : from;
      await record({ appointmentId, actor, action: 'chat_message', detail: presence.get(appointmentId).agent ? 'in_call' : 'waiting_room' });
    },
  });

  const documents = new DocumentService();
  const docMessage = (d: DocumentInfo) => ({ documentId: d.documentId, kind: d.kind, size: d.size, sharedAt: d.sharedAt, expiresAt: d.expiresAt });
  documents.on('shared', (d) => {
    void record({ appointmentId: d.appointmentId, actor: 'resident', action: 'document_shared', attributeKeys: ['document'], detail: d.kind });
    toAgent(d.appointmentId, { type: 'document', state: 'shared', document: docMessage(d) });
  });
  documents.on('viewed', (d) => void record({ appointmentId: d.appointmentId, actor: d.by, action: 'document_viewed', attributeKeys: ['document'], detail: d.kind }));
  documents.on('fetched', (d) => void record({ appointmentId: d.appointmentId, actor: 'system', action: 'document_fetched', attributeKeys: ['document'], detail: d.kind }));
  documents.on('deleted', (d) => {
    void record({ appointmentId: d.appointmentId, actor: d.reason === 'resident_deleted' ? 'resident' : 'system', action: 'document_deleted', attributeKeys: ['document'], detail: d.reason });
    toAgent(d.appointmentId, { type: 'document', state: 'deleted', document: docMessage(d) });
    media.publish(d.appointmentId, 'resident', { method: 'documentDeleted', data: { documentId: d.documentId, reason: d.reason } });
  });

  presence.on('call', (e: { event: string; appointmentId: string }) => {
    if (e.event !== 'callEnded') return;
    // The end of the call deletes what was said and shown in it.
    chat.forget(e.appointmentId);
    documents.callEnded(e.appointmentId);
  });

  // Who was present: one line per arrival and departure (the agent by username, the guest by kind).
  const presenceLine = (action: 'participant_joined' | 'participant_left') => (e: PeerEvent) => {
    void (async () => {
      const actor = e.role === 'agent' ? ((await agentOf(e.appointmentId)) ?? 'agent') : e.role;
      const detail = e.role === 'guest' ? (await guests.get(e.appointmentId).catch(() => undefined))?.kind : undefined;
      await record({ appointmentId: e.appointmentId, actor, action, ...(detail ? { detail } : {}) });
    })();
  };
  media.events.on('peerJoined', presenceLine('participant_joined'));
  media.events.on('peerLeft', presenceLine('participant_left'));
  media.events.on('sourceStarted', (e: SourceEvent) => {
    void agentOf(e.appointmentId).then((agent) => record({ appointmentId: e.appointmentId, actor: e.role === 'agent' ? (agent ?? 'agent') : e.role, action: 'screen_shared' }));
  });
  media.events.on('lobby', (e: LobbyEvent) => toAgent(e.appointmentId, { type: 'guest', waiting: e.waiting }));

  const pinning = startPinning(services, media);
  if (pinning) {
    // Who is in the room, beside its owner in the directory: an agent's dashboard on another instance reads it there.
    presence.on('presence', (appointmentId: string, p: Presence) => {
      void services.store.rooms
        .setPresence(appointmentId, pinning.rooms.me.instanceId, { resident: p.resident, agent: p.agent, guest: p.guest === true })
        .catch((e: unknown) => services.log.warn(`room presence not recorded: ${(e as Error).message}`));
    });
  }
  const attached = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    if (queryOf(req).get('channel') === 'agent') {
      if (!sameOriginUpgrade(req, deps.publicUrl?.())) return refuse(socket, 403, 'Forbidden');
      const username = await signedInAgent(req, deps);
      if (!username) return refuse(socket, 401, 'Unauthorized');
      return hub.accept(req, socket, head, username);
    }
    if (pinning) {
      const forwarded = pinning.link.check(req);
      if (forwarded === 'invalid') return refuse(socket, 403, 'Forbidden');
      // Unauthenticated or cross-site upgrades are refused by the media server below, wherever they land.
      const session = sameOriginUpgrade(req, deps.publicUrl?.()) ? await authenticateCall(req, deps) : null;
      if (session) {
        // Forwarded here by another instance: this one holds (or just took) the room; the claim renews it.
        let route = forwarded === 'valid' ? await pinning.rooms.routeConnection(session.appointmentId).then(() => ({ local: true }) as RoomRoute) : await pinning.rooms.routeConnection(session.appointmentId);
        if (!route.local) {
          const owner = route.owner;
          metricsOf(services).forwarded('websocket');
          return forwardUpgrade(owner.url, pinning.link, req, socket, head, (why) => {
            if (why !== 'refused') return refuse(socket, 503, 'Service Unavailable');
            void pinning.rooms
              .ownerGone(session.appointmentId, owner)
              .then((r) => {
                if (r.local) metricsOf(services).takenOver();
                route = r;
                if (r.local) media.handleUpgrade(req, socket, head);
                else refuse(socket, 503, 'Service Unavailable');
              })
              .catch(() => refuse(socket, 503, 'Service Unavailable'));
          });
        }
      }
    }
    media.handleUpgrade(req, socket, head);
  };

  services.registerHealth('media', () => {
    const h = media.health();
    const down = h.workers.filter((w) => !w.alive).length;
    return { ok: h.ok, detail: h.ok ? undefined : `${down} of ${h.workers.length} media workers down` };
  });
  services.onClose(async () => {
    for (const [server, fn] of attached) server.off('upgrade', fn);
    attached.clear();
    stopRelay();
    roomHoldsOf(services).onPlaced(undefined);
    await pinning?.rooms.close();
    presence.close();
    chat.close();
    documents.close();
    hub.close();
    await media.close();
  });

  return {
    media,
    ...(pinning ? { pinning } : {}),
    hub,
    presence,
    appointments,
    links,
    chat,
    documents,
    guests,
    record,
    attach(server, basePath = '/') {
      if (attached.has(server)) return;
      const wsPath = `${basePath.endsWith('/') ? basePath : `${basePath}/`}ws`;
      const fn = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
        // Other upgrade listeners (Node-RED's editor comms, websocket nodes) own their paths: leave those alone.
        if (pathOf(req) !== wsPath) return;
        socket.on('error', () => socket.destroy());
        upgrade(req, socket, head).catch((e: unknown) => {
          services.log.error(`upgrade on ${wsPath} failed: ${(e as Error).message}`);
          if (!socket.destroyed) socket.destroy();
        });
      };
      server.on('upgrade', fn);
      attached.set(server, fn);
    },
  };
}

/**
 * The room directory and the instance link when several instances share the store (PostgreSQL) and hold the shared
 * IDV_INSTANCE_SECRET; undefined otherwise (one instance holds every room, as before).
 */
function startPinning(services: Services, media: MediaServer): { rooms: RoomPinning; link: InstanceLink } | undefined {
  const inst = services.config.instances;
  if (services.store.engine !== 'postgres' || !inst?.secret) return undefined;
  if (!inst.url) {
    services.log.warn('IDV_INSTANCE_URL is not known: this instance keeps its calls to itself');
    return undefined;
  }
  const link = new InstanceLink(inst.secret, instanceIdOf(services));
  const holds = roomHoldsOf(services);
  const rooms = new RoomPinning({
    directory: services.store.rooms,
    me: { instanceId: link.instanceId, url: inst.url },
    leaseMs: inst.leaseSeconds * 1000,
    // Rooms with a connection here, and rooms whose call memory (verified sets) lives here before or beside one.
    active: () => [...media.activeAppointments(), ...holds.held()],
    draining: () => drainStateOf(services).draining,
    onInstanceGone: async (id) => void (await reclaimJobsOf(services, id)),
    log: services.log,
  });
  drainStateOf(services).on('draining', () => void rooms.beat());
  holds.onPlaced(async (appointmentId) => {
    const route = await rooms.hold(appointmentId);
    // Identification requests are forwarded to the owner, so only a set stored while another instance took the room
    // in between lands here: its values stay here (never copied); the agent's panel will not find them there.
    if (!route.local) services.log.warn(`verified attributes were stored on an instance that does not hold the call's room (owner ${route.owner.instanceId})`);
  });
  return { rooms, link };
}

const AGENT_PUSH_KEY = 'call.agent-push';

/**
 * Pushes to an agent's dashboards on every instance (lib/realtime/agent-push.ts); usable whether or not this
 * instance runs the call service (a booking node on an instance without dashboards still reaches them).
 */
export function agentPushOf(services: Services): AgentPush {
  return services.memo(AGENT_PUSH_KEY, () =>
    createAgentPush(services.store.pubsub, (username) => runningCallService(services)?.hub.connectionCount(username) ?? 0),
  );
}

function callHolder(services: Services) {
  return services.memo(CALL_SERVICE_KEY, () => ({
    pending: undefined as Promise<CallService> | undefined,
    running: undefined as CallService | undefined,
    problem: '',
  }));
}

/** The call service if a node already started it; never starts media workers just to ask. */
export function runningCallService(services: Services): CallService | undefined {
  return callHolder(services).running;
}

/**
 * The call service of these services, started on first use. A failed start (no worker binary, bad media settings) is
 * reported, shows as unhealthy, and is retried on the next use instead of being remembered forever.
 */
export function getCallService(services: Services): Promise<CallService> {
  const holder = callHolder(services);
  if (!holder.pending) {
    services.registerHealth('media', () => ({ ok: false, detail: holder.problem || 'media server starting' }));
    holder.pending = start(services).then((service) => (holder.running = service)).catch((e: unknown) => {
      holder.problem = `media server could not start: ${(e as Error).message}`;
      holder.pending = undefined;
      services.log.error(holder.problem);
      throw e;
    });
  }
  return holder.pending;
}
