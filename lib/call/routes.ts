import express, { type Router } from 'express';
import { agentPagesRouter } from '../agent-pages/router';
import { callPagesRouter } from '../call-pages/router';
import { errorHandler } from '../http/errors';
import type { Services } from '../services';
import type { AgentMessages } from './agent-messages';
import { appointmentStoreOf, linkServiceOf } from './deps';
import type { Presence } from './presence';
import { runningCallService } from './service';

const NOBODY: Presence = { resident: false, agent: false };

export interface CallRoutesOptions {
  /** Who is in a call now; until the media server runs, nobody. */
  presence: () => ((appointmentId: string) => Presence) | undefined;
  /** How many days ahead the dashboard lists (today included). */
  days?: number;
  log: (message: string) => void;
  /** The agent's messages; default: those of the running call service. */
  messages?: () => AgentMessages | undefined;
}

/** Everything the dashboard node serves: /agent, /agent/appointments.json, /agent/call/<id> and /call. */
export function callRoutes(services: Services, o: CallRoutesOptions): Router {
  const appointments = appointmentStoreOf(services);
  const messages = o.messages ?? (() => runningCallService(services)?.messages);
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
      messages,
      recordView: (entry) => processingLog.record(entry),
      publicUrl: () => services.config.publicUrl,
    }),
  );
  router.use(callPagesRouter({ links: linkServiceOf(services), appointments, secure: services.secure, branding: () => services.branding(), messages }));
  router.use(errorHandler({ log: o.log, branding: () => services.branding() }));
  return router;
}
