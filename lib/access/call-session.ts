import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { cookieName, readCookies, setCookie } from '../http/cookies';
import { sendErrorPage } from '../http/errors';
import { pickLang } from '../http/lang';
import { sendJsonError, wantsJson } from '../http/security';
import type { CallSession, LinkRole } from '../links';
import { currentServices, type Services } from '../services';
import { linkServiceOf } from './links';

declare module 'express-serve-static-core' {
  interface Request {
    /** The call session behind the idv_call cookie, set by requireCallSession(). */
    callSession?: CallSession;
  }
}

/** The call-session cookie: __Host- prefixed (and so Secure, Path=/, host-only) behind https. */
export function callCookieName(secure: boolean): string {
  return cookieName('idv_call', secure);
}

/** Binds a call session to this browser until the link's window ends. HttpOnly: page scripts never see it. */
export function setCallCookie(res: Response, secure: boolean, sessionId: string, expiresAt: string): void {
  const seconds = (Date.parse(expiresAt) - Date.now()) / 1000;
  setCookie(res, callCookieName(secure), sessionId, { secure, sameSite: 'Lax', maxAgeSeconds: Math.max(0, seconds) });
}

/**
 * The call session of this request (appointment, role, agent), or undefined when the cookie is missing, malformed,
 * expired or revoked (cancellation, call end). For the call page and the signaling handshake.
 */
export async function callSessionFrom(req: Request, services: Services | undefined = currentServices()): Promise<CallSession | undefined> {
  if (!services) return undefined;
  const value = readCookies(req)[callCookieName(services.secure)];
  if (value === undefined) return undefined;
  return linkServiceOf(services).getCallSession(value);
}

export interface RequireCallSessionOptions {
  /** Only sessions of this role pass (the resident's call page, the agent's). */
  role?: LinkRole;
  /** Default: the process-wide services at request time. */
  services?: Services;
}

const TEXT = {
  nl: {
    noSession: 'Open het gesprek via de link in uw e-mail',
    noSessionBody: 'U heeft (nog) geen toegang tot dit gesprek. Gebruik de link uit de e-mail met de bevestiging van uw afspraak.',
    wrongRole: 'Geen toegang',
    wrongRoleBody: 'Met deze link heeft u geen toegang tot deze pagina.',
  },
  en: {
    noSession: 'Open the call with the link in your e-mail',
    noSessionBody: 'You have no access to this call (yet). Please use the link from the e-mail confirming your appointment.',
    wrongRole: 'No access',
    wrongRoleBody: 'This link does not give access to this page.',
  },
};

/**
 * Middleware for pages and APIs of a call: a live call session is required (401 otherwise), of the given role
 * (403), and for the agent's session the signed-in employee must be the agent it was issued to (403): a forwarded
 * agent cookie or link alone does not let someone else into the call.
 */
export function requireCallSession(options: RequireCallSessionOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const services = options.services ?? currentServices();
    (async () => {
      res.setHeader('Cache-Control', 'no-store');
      const session = await callSessionFrom(req, services);
      const lang = pickLang(req);
      const refuse = (status: 401 | 403) => {
        const t = TEXT[lang];
        if (wantsJson(req)) {
          return sendJsonError(res, status, status === 401 ? 'call_session_required' : 'forbidden', status === 401 ? t.noSessionBody : t.wrongRoleBody);
        }
        return sendErrorPage(req, res, status, status === 401 ? t.noSession : t.wrongRole, status === 401 ? t.noSessionBody : t.wrongRoleBody, services?.branding());
      };
      if (!session || !services) return refuse(401);
      if (options.role && session.role !== options.role) return refuse(403);
      if (session.role === 'agent') {
        const staff = await services.staff.identify(req);
        if (!staff || !session.agentUsername || staff.username !== session.agentUsername.toLowerCase()) return refuse(403);
      }
      req.callSession = session;
      next();
    })().catch(next);
  };
}
