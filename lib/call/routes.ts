import express, { type Router } from 'express';
import { agentPagesRouter } from '../agent-pages/router';
import { callPagesRouter } from '../call-pages/router';
import { errorHandler } from '../http/errors';
import type { Services } from '../services';
import { appointmentStoreOf, linkServiceOf } from './deps';
import type { Presence } from './presence';

const NOBODY: Presence = { resident: false, agent: false };

export interface CallRoutesOptions {
  /** Who is in a call now; until the media server runs, nobody. */
  presence: () => ((appointmentId: string) => Presence) | undefined;
  /** How many days ahead the dashboard lists (today included). */
  days?: number;
  log: (message: string) => void;
}

/** Everything the dashboard node serves: /agent, /agent/appointments.json, /agent/call/<id> and /call. */
export function callRoutes(services: Services, o: CallRoutesOptions): Router {
  const appointments = appointmentStoreOf(services);
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
    }),
  );
  router.use(callPagesRouter({ links: linkServiceOf(services), appointments, secure: services.secure, branding: () => services.branding() }));
  router.use(errorHandler({ log: o.log, branding: () => services.branding() }));
  return router;
}
