import express, { type Router } from 'express';
import { agentPagesRouter } from '../agent-pages/router';
import { callPagesRouter } from '../call-pages/router';
import { errorHandler } from '../http/errors';
import type { Services } from '../services';
import type { CallExtras } from '../agent-pages/call-extras';
import { appointmentStoreOf, linkServiceOf } from './deps';
import type { Presence } from './presence';
import { runningCallService } from './service';
import { documentFetchRouter } from '../documents/fetch-route';
import { outcomesOf } from '../outcomes/runtime';
import { agentFeedRouter } from '../agent-feed/routes';
import { publicBase } from '../access/public-base';
import { statisticsRouter } from '../statistics/routes';

const NOBODY: Presence = { resident: false, agent: false };

export interface CallRoutesOptions {
  /** Who is in a call now; until the media server runs, nobody. */
  presence: () => ((appointmentId: string) => Presence) | undefined;
  /** How many days ahead the dashboard lists (today included). */
  days?: number;
  log: (message: string) => void;
  /** Chat, documents and guests; default: those of the running call service. */
  extras?: () => CallExtras | undefined;
}

/**
 * Everything the dashboard node serves: /agent, /agent/appointments.json, /agent/call/<id>, /call, the chat, document
 * and guest routes of both sides, and a flow's one-time document fetch (/idv/documents/<token>).
 */
export function callRoutes(services: Services, o: CallRoutesOptions): Router {
  const appointments = appointmentStoreOf(services);
  const extras = o.extras ?? (() => runningCallService(services));
  const processingLog = services.store.processingLog;
  const router = express.Router();
  router.use(
    agentPagesRouter({
      appointments,
      presence: (id) => o.presence()?.(id) ?? NOBODY,
      // Several instances: rooms held elsewhere are read from the directory (one query per list).
      roomPresence: async (ids) => (runningCallService(services)?.pinning ? services.store.rooms.presenceOf(ids) : new Map()),
      requireAgent: services.staff.requireStaff('agent'),
      csrf: services.csrf,
      secure: services.secure,
      branding: () => services.branding(),
      days: o.days,
      extras,
      recordView: (entry) => processingLog.record(entry),
      outcomes: (ids) => outcomesOf(services).store.forAppointments(ids),
      publicUrl: () => services.config.publicUrl,
    }),
  );
  router.use(
    agentFeedRouter({
      feeds: services.store.agentFeeds,
      appointments,
      requireAgent: services.staff.requireStaff('agent'),
      csrf: services.csrf,
      secure: services.secure,
      branding: () => services.branding(),
      // IDV_PUBLIC_URL, else the address the runtime listens on (the feed link is made on the agent's own request).
      publicUrl: () => publicBase(services.config, undefined),
    }),
  );
  // The manager's statistics are staff pages of this runtime like the dashboard (role `manager`).
  router.use(
    statisticsRouter({
      store: services.store.statistics,
      requireManager: services.staff.requireStaff('manager'),
      csrf: services.csrf,
      secure: services.secure,
      branding: () => services.branding(),
    }),
  );
  router.use(callPagesRouter({ links: linkServiceOf(services), appointments, secure: services.secure, branding: () => services.branding(), extras, publicUrl: () => services.config.publicUrl }));
  router.use(documentFetchRouter(() => runningCallService(services)?.documents));
  router.use(errorHandler({ log: o.log, branding: () => services.branding() }));
  return router;
}
