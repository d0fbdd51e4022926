import type { RequestHandler } from 'express';
import type { Request } from 'express';
import { readCookies } from '../http/cookies';
import { hashToken, looksLikeToken } from '../security/tokens';
import { sendJsonError } from '../http/security';
import { forwardRequest } from '../runtime/instance-link';
import { metricsOf } from '../runtime/metrics';
import type { Services } from '../services';
import { callCookieName } from './cookie';
import { linkServiceOf } from './deps';
import { runningCallService } from './service';
import { PINNED, RECOGNISED, type Marked } from './call-memory';
import { acceptRelay, RELAY_PATH } from '../instances/agent-relay';

/*
 * The kinds of request that read or change a call's memory, and how each names its appointment. A route that touches
 * call memory carries `callMemory` in its handler chain; test/e2e/instances.test.ts lists every mounted route that
 * does (the route census) and checks each is recognised here, and at run time a marked request this table does not
 * recognise is refused instead of being answered from the wrong instance's memory.
 */
/** Agent requests about one appointment's live call state (chat, documents, guest, identification). */
const AGENT_PATH = /^\/(?:auth\/agent\/appointments|agent\/appointments)\/([^/?#]{1,200})(?:\/(?:request|message|chat\.json|chat\/delete|documents\.json|documents\/[^?#]*|guest\.json|guest(?:\/admit|\/remove)?))?$/;
/**
 * The agent's panel reads and deletes a set, and a flow fetches a shared document once, with the appointment in the
 * query (`?appointment=`): the set id and the fetch token are known only to the owner's memory.
 */
const SET_PATH = /^\/(?:auth\/agent\/sets\/[^/?#]{1,100}(?:\/delete)?|idv\/documents\/[^/?#]{1,100})$/;
/** The resident's requests whose answer lives in the call's memory (identification, chat, documents). */
const RESIDENT_PATH = /^\/(?:auth\/(?:start|callback|pending|decline|idcontact\/return\/[^/?#]{1,100})|call\/chat(?:\.json)?|call\/documents(?:\/[^?#]*)?)$/;
/** An ID Contact auth plugin posts the (encrypted) result to the attr_url: its attempt names the appointment. */
const ATTR_PATH = /^\/auth\/idcontact\/attributes\/([^/?#]{1,100})$/;

/** Whether a request path is one of the kinds above (a request about a call's memory). */
export function isCallMemoryPath(path: string): boolean {
  return AGENT_PATH.test(path) || SET_PATH.test(path) || RESIDENT_PATH.test(path) || ATTR_PATH.test(path);
}

async function appointmentOf(services: Services, req: Request): Promise<string | undefined> {
  const agent = AGENT_PATH.exec(req.path);
  if (agent) {
    try {
      return decodeURIComponent(agent[1]);
    } catch {
      return undefined;
    }
  }
  if (SET_PATH.test(req.path)) return typeof req.query.appointment === 'string' ? req.query.appointment : undefined;
  const attr = ATTR_PATH.exec(req.path);
  if (attr) {
    if (!looksLikeToken(attr[1])) return undefined;
    const attempt = await services.store.pendingIdentifications.peek('idcontact-attr', hashToken(attr[1]), Date.now()).catch(() => undefined);
    return typeof attempt?.payload.appointmentId === 'string' ? attempt.payload.appointmentId : undefined;
  }
  if (!RESIDENT_PATH.test(req.path)) return undefined;
  const cookie = readCookies(req)[callCookieName(services.secure)];
  if (!cookie) return undefined;
  return (await linkServiceOf(services).getCallSession(cookie).catch(() => null))?.appointmentId;
}

/**
 * Sends a request about a call to the instance that holds the call's room (issue 12 part B): the identification's
 * callback (OIDC), an ID Contact plugin's result (still encrypted to our key) and the resident's return, the agent's
 * identification panel, chat and documents live in that instance's memory only. The request
 * goes over the authenticated instance link (HMAC, lib/runtime/instance-link.ts) unchanged, and the owner's answer
 * comes back unchanged; so the provider's answer is fetched by the owner and the attribute values are only ever in
 * its memory. A request another instance forwarded is handled here (never forwarded on); a forged forward header
 * gets 403. When the owner's address refuses (its process died), its room is taken over and the request handled
 * here: the call's memory was lost with it, so the resident identifies again (fail closed).
 *
 * Mounted before the body parsers (the body is streamed on as it is). Does nothing on one instance.
 */
export function ownerForward(services: Services): RequestHandler {
  return (req, res, next) => {
    const pinning = runningCallService(services)?.pinning;
    if (!pinning) return next();
    // Another instance's push for an agent's dashboard here (chat, which never goes through the database).
    if (req.path === RELAY_PATH) return acceptRelay(req, res, pinning.link, (username, message) => runningCallService(services)?.hub.publish(username, message));
    const m = req as Marked;
    m[PINNED] = services.log;
    const forwarded = pinning.link.check(req);
    if (forwarded === 'invalid') return sendJsonError(res, 403, 'forbidden', 'This request is not allowed.');
    // Forwarded by another instance, which recognised it: this is the owner.
    if (forwarded === 'valid') {
      m[RECOGNISED] = true;
      return next();
    }
    if (!isCallMemoryPath(req.path)) return next();
    m[RECOGNISED] = true;
    void (async () => {
      const appointmentId = await appointmentOf(services, req);
      if (!appointmentId) return next();
      const route = await pinning.rooms.routeRequest(appointmentId);
      if (route.local) return next();
      const owner = route.owner;
      metricsOf(services).forwarded('request');
      forwardRequest(owner.url, pinning.link, req, res, (why) => {
        void (async () => {
          const here = why === 'refused' ? (await pinning.rooms.ownerGone(appointmentId, owner).catch(() => undefined))?.local : false;
          if (here) metricsOf(services).takenOver();
          // A GET has no body: it is answered here. A body may be partly gone to the dead instance: try again.
          if (here && (req.method === 'GET' || req.method === 'HEAD')) return next();
          if (!res.headersSent) sendJsonError(res, 503, 'unavailable', 'The call moved to another server. Please try again.');
        })();
      });
    })().catch(next);
  };
}
