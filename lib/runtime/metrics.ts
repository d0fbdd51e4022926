import type { EventEmitter } from 'node:events';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Channel } from '../appointments/store';
import type { Services } from '../services';
import type { StaffIdentity } from '../staff/types';
import { isDirectLocal } from './health-route';

/**
 * This instance's Prometheus metrics (prom-client, its own registry, not the library's global one). Every counter and
 * gauge of ID Video is defined here and fed from the emitters that already exist (media server events through the
 * presence tracker, identification service events, outbox events, bookings), so no domain module keeps a counter of
 * its own. Labels are closed sets (role, reason code, channel, outcome): never an appointment id, a username, a name
 * or an attribute, so a scrape holds no personal data and the series stay few.
 *
 * Counters count what happened on this instance (Prometheus sums over instances); `idv_outbox_mails` reads the shared
 * store and so shows the same figure on every instance of one database (aggregate it with max, not sum).
 */
export interface Metrics {
  readonly registry: Registry;
  /** Follows a call service's media events and presence (once per emitter). */
  watchCall(call: { media: { events: EventEmitter; health(): { rooms: number; connections: number } }; presence: { live(): string[] } }): void;
  /** Follows the identification service's 'verified' and 'failed' events. */
  watchIdentification(service: EventEmitter): void;
  /** Follows the outbox's 'sent', 'failed' and 'retrying' events. */
  watchOutbox(outbox: EventEmitter): void;
  /** A booking was made (not a repeat of one already made). */
  booked(channel: Channel): void;
  /** A call's signaling connection or request was passed on to the instance holding its room. */
  forwarded(kind: 'websocket' | 'request'): void;
  /** A room was taken over from an instance that died. */
  takenOver(): void;
}

const KEY = 'runtime.metrics';
/** Join time buckets in seconds: a join takes some 100 ms on a idle machine, seconds when the media workers are busy. */
const JOIN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** The metrics of these services (made once). */
export function metricsOf(services: Pick<Services, 'memo' | 'store'>): Metrics {
  return services.memo(KEY, () => createMetrics(services.store.outbox));
}

function createMetrics(outboxStore: { counts(): Promise<{ pending: number; sending: number; failed: number }> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'idv_process_' });
  const watched = new WeakSet<object>();
  let callView: { media: { health(): { rooms: number; connections: number } }; presence: { live(): string[] } } | undefined;

  new Gauge({
    name: 'idv_calls_active',
    help: 'Appointments with at least one participant in the call on this instance',
    registers: [registry],
    collect() {
      this.set(callView?.presence.live().length ?? 0);
    },
  });
  new Gauge({
    name: 'idv_media_rooms',
    help: 'Media rooms (routers) on this instance',
    registers: [registry],
    collect() {
      this.set(callView?.media.health().rooms ?? 0);
    },
  });
  const joins = new Counter({ name: 'idv_call_joins_total', help: 'Participants that joined a call on this instance, by role', labelNames: ['role'], registers: [registry] });
  const joinTime = new Histogram({
    name: 'idv_call_join_seconds',
    help: "From a participant's first signaling request (router capabilities) to joined in the room, by role",
    labelNames: ['role'],
    buckets: JOIN_BUCKETS,
    registers: [registry],
  });
  const identifications = new Counter({
    name: 'idv_identifications_total',
    help: 'Identification outcomes on this instance: verified, or the failure reason code',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const mails = new Counter({ name: 'idv_mails_total', help: 'Mail delivery attempts by outcome (sent, retrying, failed)', labelNames: ['outcome'], registers: [registry] });
  const bookings = new Counter({ name: 'idv_bookings_total', help: 'New bookings made on this instance, by channel (website, phone)', labelNames: ['channel'], registers: [registry] });
  const forwards = new Counter({ name: 'idv_instance_forwards_total', help: "Calls' signaling connections and requests passed on to the instance holding the room", labelNames: ['kind'], registers: [registry] });
  const takeovers = new Counter({ name: 'idv_room_takeovers_total', help: 'Rooms taken over from an instance that died', registers: [registry] });
  new Gauge({
    name: 'idv_outbox_mails',
    help: 'Mails in the outbox by state, read from the shared store (the same on every instance of one database)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const c = await outboxStore.counts();
        for (const state of ['pending', 'sending', 'failed'] as const) this.set({ state }, c[state]);
      } catch {
        // A store that cannot be read shows in /readyz and /healthz; the scrape keeps the other figures.
        this.reset();
      }
    },
  });

  return {
    registry,
    watchCall(call) {
      callView = call;
      if (watched.has(call.media.events)) return;
      watched.add(call.media.events);
      call.media.events.on('peerJoined', (e: { role: string; joinMs?: number }) => {
        joins.inc({ role: e.role });
        if (typeof e.joinMs === 'number') joinTime.observe({ role: e.role }, e.joinMs / 1000);
      });
    },
    watchIdentification(service) {
      if (watched.has(service)) return;
      watched.add(service);
      service.on('verified', () => identifications.inc({ outcome: 'verified' }));
      service.on('failed', (e: { reason: string }) => identifications.inc({ outcome: e.reason }));
    },
    watchOutbox(outbox) {
      if (watched.has(outbox)) return;
      watched.add(outbox);
      for (const outcome of ['sent', 'retrying', 'failed'] as const) outbox.on(outcome, () => mails.inc({ outcome }));
    },
    booked(channel) {
      bookings.inc({ channel });
    },
    forwarded(kind) {
      forwards.inc({ kind });
    },
    takenOver() {
      takeovers.inc();
    },
  };
}

export interface MetricsRouteOptions {
  metrics: Metrics;
  identify(req: Parameters<RequestHandler>[0]): Promise<StaffIdentity | undefined>;
}

/**
 * GET /metrics in Prometheus' text format, for the same audience as the detailed /healthz: a scrape straight to the
 * runtime's socket from this machine (isDirectLocal) or a signed-in administrator. Anyone else gets 404, so the
 * endpoint is not even visible through the proxy.
 */
export function metricsRoute(o: MetricsRouteOptions): RequestHandler {
  return (req, res, next) => {
    void (async () => {
      const allowed = isDirectLocal(req) || ((await o.identify(req).catch(() => undefined))?.roles.includes('admin') ?? false);
      if (!allowed) return next();
      const body = await o.metrics.registry.metrics();
      res.status(200).setHeader('Cache-Control', 'no-store');
      res.type(o.metrics.registry.contentType).send(body);
    })().catch(next);
  };
}
