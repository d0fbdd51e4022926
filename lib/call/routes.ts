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
      requireAgent: services.staff.requireStaff('agent'),
      csrf: services.csrf,
      secure: services.secure,
      branding: () => services.branding(),
      days: o.days,
      extras,
      recordView: (entry) => processingLog.record(entry),
      publicUrl: () => services.config.publicUrl,
    }),
  );
  router.use(callPagesRouter({ links: linkServiceOf(services), appointments, secure: services.secure, branding: () => services.branding(), extras, publicUrl: () => services.config.publicUrl }));
  router.use(documentFetchRouter(() => runningCallService(services)?.documents));
  router.use(errorHandler({ log: o.log, branding: () => services.branding() }));
  return router;
}
