import express, { type Request, type Response, type Router } from 'express';
import { finishFailureText } from '../auth/messages';
import type { FinishFailure } from '../auth/oidc';
import { callCookieName } from '../call/cookie';
import { readCookies } from '../http/cookies';
import { errorHandler } from '../http/errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage } from '../http/layout';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, sameOrigin, securityHeaders, sendJsonError } from '../http/security';
import { isUserError } from '../errors';
import type { CallSession } from '../links';
import { linkServiceOf } from '../call/deps';
import type { Services } from '../services';
import { logPage } from './log-page';
import { logoSvg } from './logos';
import { wipeCopy, type IdentificationService } from './service';
import type { FailureReason } from './types';
import { RESIDENT_TEXTS } from './texts';

const FINISH_REASONS: readonly string[] = ['cancelled', 'expired', 'replayed', 'wrong_session', 'provider_error', 'validation_failed', 'acr_too_low', 'bsn_invalid', 'too_large'];

/** What the resident reads after coming back: 'ok', or the plain text of what went wrong. Codes only in the URL. */
export function outcomeText(code: string, lang: Lang): { ok: boolean; text: string } | undefined {
  if (code === 'ok') return { ok: true, text: RESIDENT_TEXTS[lang].ok };
  if (code === 'declined') return { ok: false, text: RESIDENT_TEXTS[lang].cancelled };
  if (code === 'internal') return { ok: false, text: finishFailureText('validation_failed', lang) };
  if (FINISH_REASONS.includes(code)) return { ok: false, text: finishFailureText(code as FinishFailure, lang) };
  return undefined;
}

async function callSessionOf(services: Services, req: Request): Promise<{ session?: CallSession; cookie?: string }> {
  const cookie = readCookies(req)[callCookieName(services.secure)];
  if (!cookie) return {};
  const session = await linkServiceOf(services).getCallSession(cookie);
  return session ? { session, cookie } : { cookie };
}

/**
 * The identification's HTTP surface. Resident side (call-session cookie): /auth/start (a GET navigation, so the CSP's
 * form-action never stands between the resident and the provider), /auth/callback, /auth/pending, /auth/decline.
 * Agent side (staff sign-in, own appointments only): /auth/agent/… . Administrators: /admin-log.
 */
export function identificationRouter(services: Services, id: IdentificationService): Router {
  const r = express.Router();
  const residentLimiter = createRateLimiter({ windowMs: 60_000, max: 60 });
  // The call page asks every few seconds whether a pop-up is open; that must not eat the budget of start/callback.
  const pollLimiter = createRateLimiter({ windowMs: 60_000, max: 120 });
  const agent = services.staff.requireStaff('agent');
  const pages = [securityHeaders(), noStore];
  const backToCall = (lang: Lang) => (lang === 'nl' ? 'Terug naar het gesprek' : 'Back to the call');

  const residentProblem = (req: Request, res: Response, status: number, message: string) => {
    const lang = pickLang(req);
    const title = lang === 'nl' ? 'Inloggen lukt nu niet' : 'Signing in is not possible right now';
    res.status(status).type('html').send(
      renderPage({
        lang,
        title,
        branding: services.branding(),
        path: req.baseUrl + req.path,
        main: html`<h1 class="utrecht-heading-1">${title}</h1><p class="utrecht-paragraph">${message}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="/call">${backToCall(lang)}</a></p>`,
      }),
    );
  };

  r.get('/auth/start', ...pages, rateLimit(residentLimiter), asyncRoute(async (req, res) => {
    const { session, cookie } = await callSessionOf(services, req);
    try {
      const url = await id.start(req.query.request, req.query.method, session, cookie);
      res.redirect(303, url);
    } catch (e) {
      if (!isUserError(e)) throw e;
      residentProblem(req, res, e.status, e.code === 'provider_error' ? finishFailureText('provider_error', pickLang(req)) : e.message);
    }
  }));

  r.get('/auth/callback', ...pages, rateLimit(residentLimiter), asyncRoute(async (req, res) => {
    const { session, cookie } = await callSessionOf(services, req);
    const outcome: 'ok' | FailureReason = await id.finish(req.originalUrl, session, cookie);
    // Back into the call; the code (never a value) lets the call page say how it went.
    res.redirect(303, `/call?idv-auth=${encodeURIComponent(outcome)}`);
  }));

  r.get('/auth/pending', ...pages, rateLimit(pollLimiter), asyncRoute(async (req, res) => {
    const { session } = await callSessionOf(services, req);
    if (!session || session.role !== 'resident') return sendJsonError(res, 401, 'call_session_required', 'No call session');
    const lang = pickLang(req);
    const code = typeof req.query.outcome === 'string' ? req.query.outcome : undefined;
    const outcome = code ? outcomeText(code, lang) : undefined;
    res.json({ request: id.pendingFor(session) ?? null, shared: id.sharedWithAgent(session), texts: RESIDENT_TEXTS[lang], ...(outcome ? { outcome } : {}) });
  }));

  r.post('/auth/decline', ...pages, rateLimit(residentLimiter), express.json({ limit: '2kb', strict: true }), asyncRoute(async (req, res) => {
    // JSON only and same origin: a foreign page can neither send this content type without CORS nor forge Origin.
    if (!req.is('application/json') || !sameOrigin(req, services.config.publicUrl)) return sendJsonError(res, 403, 'forbidden', 'Forbidden');
    const { session } = await callSessionOf(services, req);
    await id.decline((req.body as { requestId?: unknown } | undefined)?.requestId, session);
    res.json({ ok: true });
  }));

  r.get(/^\/auth\/logos\/([a-z]{1,20})\.svg$/, (req, res) => {
    const svg = logoSvg((req.params as Record<string, string>)[0] ?? '');
    if (!svg) return res.status(404).end();
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('image/svg+xml').send(svg);
  });

  r.get('/auth/agent/appointments/:appointmentId', ...pages, agent, asyncRoute(async (req, res) => {
    const username = req.staff!.username;
    const appointmentId = String(req.params.appointmentId);
    const { owned, sets } = await id.setsForAppointment(appointmentId, username);
    if (!owned) return sendJsonError(res, 404, 'not_found', 'Deze afspraak bestaat niet of is niet voor u ingepland. / Not found.');
    const after = Number(req.query.after ?? 0);
    res.json({ sets, notices: id.noticesFor(appointmentId, Number.isFinite(after) ? after : 0), purposes: id.purposeList(), csrf: services.csrf.issue(req, res) });
  }));

  r.post('/auth/agent/appointments/:appointmentId/request', ...pages, agent, ...bodyParsers('2kb'), asyncRoute(async (req, res) => {
    if (!sameOrigin(req, services.config.publicUrl) || !services.csrf.verify(req)) return sendJsonError(res, 403, 'csrf', 'Vernieuw de pagina en probeer het opnieuw. / Reload the page and try again.');
    await id.ask(String(req.params.appointmentId), req.staff!.username, (req.body as { purpose?: unknown } | undefined)?.purpose);
    res.status(202).json({ asked: true });
  }));

  r.get('/auth/agent/sets/:setId', ...pages, agent, asyncRoute(async (req, res) => {
    const set = await id.setForAgent(String(req.params.setId), req.staff!.username);
    if (!set) return sendJsonError(res, 404, 'gone', 'Deze gegevens bestaan niet (meer). / This data does not exist (any more).');
    const lang = pickLang(req);
    const body = JSON.stringify({
      attributeSetId: set.attributeSetId,
      appointmentId: set.appointmentId,
      methodId: set.methodId,
      methodName: set.methodName ?? set.methodId,
      acr: set.acr ?? null,
      verifiedAt: set.storedAt,
      expiresAt: set.expiresAt,
      attributes: set.attributes.map((a) => ({ key: a.key, label: lang === 'nl' ? a.labelNl : a.labelEn, value: a.value })),
    });
    wipeCopy(set);
    res.type('application/json').send(body);
  }));

  r.post('/auth/agent/sets/:setId/delete', ...pages, agent, ...bodyParsers('2kb'), asyncRoute(async (req, res) => {
    if (!sameOrigin(req, services.config.publicUrl) || !services.csrf.verify(req)) return sendJsonError(res, 403, 'csrf', 'Vernieuw de pagina en probeer het opnieuw. / Reload the page and try again.');
    const deleted = await id.deleteByAgent(String(req.params.setId), req.staff!.username);
    if (!deleted) return sendJsonError(res, 404, 'gone', 'Deze gegevens bestaan niet (meer). / This data does not exist (any more).');
    res.json({ deleted: true });
  }));

  r.get('/admin-log', ...pages, services.staff.requireStaff('admin'), asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, services.secure, { followBrowser: true });
    const appointmentId = typeof req.query.appointment === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(req.query.appointment) ? req.query.appointment : undefined;
    const from = new Date(Date.now() - 31 * 24 * 3600_000).toISOString();
    const records = (await id.log.list({ limit: 1000, from, ...(appointmentId ? { appointmentId } : {}) })).reverse();
    res.type('html').send(logPage({ lang, branding: services.branding(), records, ...(appointmentId ? { appointmentId } : {}), path: '/admin-log' }));
  }));

  r.use(errorHandler({ log: (m) => services.log.error(m), branding: () => services.branding() }));
  return r;
}

/** Mounts the routes once while any identification node runs; returns the release function for the node's close. */
export function acquireIdentificationRoutes(services: Services, id: IdentificationService): () => void {
  return services.mountShared('identification', () => identificationRouter(services, id));
}
