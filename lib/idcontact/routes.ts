import express, { type Router } from 'express';
import { isUserError } from '../errors';
import { errorHandler } from '../http/errors';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import { asyncRoute, noStore, securityHeaders, sendJsonError } from '../http/security';
import type { Services } from '../services';
import type { IdContactCore } from './config';
import { coreCallerProblem } from './core-auth';
import { startUnplannedSession, type StartedSession, type UnplannedDeps, type UnplannedSettings } from './start-communication';

export interface StartCommunicationRouteOptions {
  services: Services;
  /** Path prefix the core is given as this plugin's `start` URL (e.g. '' or '/idcontact'). */
  path: string;
  core: IdContactCore;
  settings: UnplannedSettings;
  deps: UnplannedDeps;
  onStarted(session: StartedSession): void;
  /** A refused call, as a code (never the presented secret or token), for the node's status and log. */
  onRefused(code: string): void;
}

/** Largest body: an auth_result of a few dozen attributes is a few kilobytes; 64 KB is the token limit. */
const MAX_BODY = '80kb';

/**
 * `POST <path>/start_communication`, the communication plugin's one endpoint (id-contact/docs
 * docs/openapi/comm_plugin.openapi.yml). Only the configured core gets through (lib/idcontact/core-auth.ts), within a
 * rate limit per client network, with a bounded JSON body; the answer is `{client_url, attr_url?}`.
 */
export function startCommunicationRouter(o: StartCommunicationRouteOptions): Router {
  const r = express.Router();
  // A core starts a session per resident choosing video: generous for one caller, a wall for guessing secrets.
  const limiter = createRateLimiter({ windowMs: 60_000, max: 120 });
  const parse = express.json({ limit: MAX_BODY, strict: true, type: 'application/json' });
  r.post(`${o.path}/start_communication`, securityHeaders(), noStore, rateLimit(limiter), (req, res, next) => {
    const problem = coreCallerProblem(req, o.core.startAuth, o.services.config.trustProxy);
    if (problem) {
      o.onRefused(problem);
      if (problem === 'not_configured') return sendJsonError(res, 503, 'not_configured', 'This endpoint is not set up');
      if (o.core.startAuth.mode === 'secret') res.setHeader('WWW-Authenticate', 'Basic realm="ID Video", charset="UTF-8"');
      return sendJsonError(res, 401, 'unauthorized', 'Only the configured ID Contact core may start sessions here');
    }
    if (!req.is('application/json')) {
      o.onRefused('wrong_content_type');
      return sendJsonError(res, 415, 'wrong_content_type', 'Send application/json');
    }
    next();
  }, parse, asyncRoute(async (req, res) => {
    try {
      const session = await startUnplannedSession(o.deps, o.core, o.settings, req.body);
      o.onStarted(session);
      res.status(200).json({ client_url: session.clientUrl, ...(session.attrUrl ? { attr_url: session.attrUrl } : {}) });
    } catch (e) {
      if (!isUserError(e)) throw e;
      o.onRefused(e.code);
      sendJsonError(res, e.status, e.code, e.message);
    }
  }));
  r.use(errorHandler({ log: (m) => o.services.log.error(m), branding: () => o.services.branding() }));
  return r;
}
