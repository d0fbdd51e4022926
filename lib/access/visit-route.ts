import express, { type Request, type Response, type Router } from 'express';
import { isUserError } from '../errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage } from '../http/layout';
import { clientKey, createRateLimiter, rateLimit, type RateLimiter } from '../http/rate-limit';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import { isStoreFault } from '../store/faults';
import type { Services } from '../services';
import { setCallCookie } from './call-session';
import { linkServiceOf } from './links';
import { notValidPage, tooEarlyPage } from './pages';

export interface VisitRouteOptions {
  services: Services;
  /** Bad links per hashed client address before it is refused for the rest of the window; default 30 per 10 minutes. */
  failures?: RateLimiter;
  /** All visits per hashed client address (caps the lookups); default 600 per 10 minutes. */
  limiter?: RateLimiter;
  /** Where the resident's call page is (default /call). */
  residentCallPath?: string;
  /** Where the agent's call page for an appointment is (default /agent/call/<id>). */
  agentCallPath?: (appointmentId: string) => string;
}

const TEXT = {
  nl: {
    wrongAgent: 'Deze link is voor een andere medewerker',
    wrongAgentBody: 'U bent aangemeld, maar deze link hoort bij de medewerker voor wie de afspraak is ingepland. Meld u aan met dat account.',
    failed: 'Er ging iets mis',
    failedBody: 'Er ging aan onze kant iets mis. Probeert u het over een paar minuten opnieuw.',
  },
  en: {
    wrongAgent: 'This link is for another employee',
    wrongAgentBody: 'You are signed in, but this link belongs to the employee the appointment is planned for. Please sign in with that account.',
    failed: 'Something went wrong',
    failedBody: 'Something went wrong on our side. Please try again in a few minutes.',
  },
};

/**
 * GET /v/<token>: swaps an access link for a call-session cookie and redirects (303) to the call page, so the token
 * leaves the address bar and never travels in a Referer. Read-only towards the link: a mail scanner that fetches it
 * gets a cookie of its own and changes nothing for the resident.
 */
export function visitRouter(o: VisitRouteOptions): Router {
  const { services } = o;
  const links = linkServiceOf(services);
  // Guessing is what the limit is for, so it counts bad links: a municipality's office (or a proxy without
  // IDV_TRUST_PROXY) sends many residents' and agents' good links from one address and must not be locked out.
  // Shared by every instance (a guesser does not get 30 tries per instance); the overall budget stays per instance.
  const failures = o.failures ?? services.limiter('link-failures', { windowMs: 10 * 60_000, max: 30 });
  const limiter = o.limiter ?? createRateLimiter({ windowMs: 10 * 60_000, max: 600 });
  const residentPath = o.residentCallPath ?? '/call';
  const agentPath = o.agentCallPath ?? ((id: string) => `/agent/call/${encodeURIComponent(id)}`);
  const router = express.Router();

  const page = (res: Response, status: number, body: string) => {
    res.status(status).type('html').send(body);
  };
  const message = (res: Response, lang: Lang, status: number, title: string, body: string) =>
    page(res, status, renderPage({ lang, title, branding: services.branding(), path: '/v/', main: html`<h1 class="utrecht-heading-1">${title}</h1><p class="utrecht-paragraph">${body}</p>` }));

  const visit = async (req: Request, res: Response) => {
    const lang = pickLang(req, res, services.secure);
    // Everything after /v/ is the token; /v, /v/ and deeper paths are just more kinds of invalid token.
    const token = req.path.length > 3 ? req.path.slice(3) : '';
    const key = clientKey(req);
    const refuse = (retryAfterSec: number) => {
      res.setHeader('Retry-After', String(retryAfterSec));
      return res.status(429).type('text/plain; charset=utf-8').send('Te veel ongeldige links. Probeer het over een paar minuten opnieuw. / Too many invalid links.');
    };
    // Over the budget of bad links, the network is refused for the rest of the window, good links included.
    const notValid = async () => {
      const r = await failures.hit(key);
      if (!r.ok) return refuse(r.retryAfterSec);
      return page(res, 404, notValidPage(lang, services.branding()));
    };
    const state = await failures.peek(key);
    if (!state.ok) return refuse(state.retryAfterSec);
    try {
      const result = await links.resolve(token);
      if (result.status === 'invalid') return notValid();
      if (result.status === 'too_early') return page(res, 200, tooEarlyPage(lang, services.branding(), result.opensAt, `/v/${token}`));
      if (result.role === 'agent') {
        const staff = await services.staff.identify(req);
        if (!staff) return res.redirect(303, `/login?next=${encodeURIComponent(`/v/${token}`)}`);
        const owner = (result.agentUsername ?? '').toLowerCase();
        if (!staff.roles.includes('agent') || staff.username !== owner) {
          return message(res, lang, 403, TEXT[lang].wrongAgent, TEXT[lang].wrongAgentBody);
        }
      }
      const sessionId = await links.createCallSession({
        appointmentId: result.appointmentId,
        role: result.role,
        ...(result.agentUsername ? { agentUsername: result.agentUsername } : {}),
      });
      setCallCookie(res, services.secure, sessionId, result.validUntil);
      return res.redirect(303, result.role === 'agent' ? agentPath(result.appointmentId) : residentPath);
    } catch (e) {
      // Revoked between lookup and session (a cancellation racing the click): the same page as any dead link.
      if (isUserError(e) && e.status === 404) return notValid();
      // A store that cannot write is an outage /healthz reports, not a log line per visitor.
      if (isStoreFault(e)) {
        res.setHeader('Retry-After', '30');
        return message(res, lang, 503, TEXT[lang].failed, TEXT[lang].failedBody);
      }
      services.log.error(`access link visit failed: ${(e as Error).name}: ${(e as Error).message}`);
      return message(res, lang, 500, TEXT[lang].failed, TEXT[lang].failedBody);
    }
  };

  router.get(
    /^\/v(?:\/.*)?$/,
    securityHeaders(),
    noStore,
    (_req, res, next) => {
      res.setHeader('X-Robots-Tag', 'noindex, nofollow');
      next();
    },
    rateLimit(limiter),
    asyncRoute(visit),
  );
  return router;
}
