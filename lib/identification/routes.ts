import * as fs from 'node:fs';
import { callMemory } from '../call/call-memory';
import * as path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { finishFailureText } from '../auth/messages';
import type { FinishFailure } from '../auth/oidc';
import { callCookieName } from '../call/cookie';
import { readCookies } from '../http/cookies';
import { errorHandler } from '../http/errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage } from '../http/layout';
import { clientKey, createRateLimiter, rateLimit } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, sameOrigin, securityHeaders, sendJsonError } from '../http/security';
import { isUserError, UserError } from '../errors';
import { toLogboekRecord } from '../trace/logboek';
import type { CallSession } from '../links';
import { linkServiceOf } from '../call/deps';
import type { Services } from '../services';
import { logPage } from './log-page';
import { logoSvg } from './logos';
import { wipeCopy, type IdentificationService } from './service';
import type { FailureReason } from './types';
import { RESIDENT_TEXTS } from './texts';

const FINISH_REASONS: readonly string[] = ['cancelled', 'expired', 'replayed', 'wrong_session', 'provider_error', 'validation_failed', 'acr_too_low', 'bsn_invalid', 'too_large'];
/** ID Contact reasons read as one of the OIDC texts: the resident needs what to do, not which check failed. */
const READ_AS: Record<string, FinishFailure> = {
  token_expired: 'expired',
  core_unavailable: 'provider_error',
  decrypt_failed: 'validation_failed',
  signature_invalid: 'validation_failed',
  alg_not_allowed: 'validation_failed',
  wrong_subject: 'validation_failed',
  token_not_yet_valid: 'validation_failed',
  malformed_token: 'validation_failed',
  unknown_attr_url: 'validation_failed',
  wrong_content_type: 'validation_failed',
  attributes_missing: 'validation_failed',
  internal: 'validation_failed',
};

/** What the resident reads after coming back: 'ok', or the plain text of what went wrong. Codes only in the URL. */
export function outcomeText(code: string, lang: Lang): { ok: boolean; text: string } | undefined {
  if (code === 'ok') return { ok: true, text: RESIDENT_TEXTS[lang].ok };
  if (code === 'waiting') return { ok: true, text: RESIDENT_TEXTS[lang].waiting };
  if (code === 'declined') return { ok: false, text: RESIDENT_TEXTS[lang].cancelled };
  if (code === 'auth_failed') return { ok: false, text: RESIDENT_TEXTS[lang].authFailed };
  if (Object.prototype.hasOwnProperty.call(READ_AS, code)) return { ok: false, text: finishFailureText(READ_AS[code], lang) };
  if (FINISH_REASONS.includes(code)) return { ok: false, text: finishFailureText(code as FinishFailure, lang) };
  return undefined;
}

/** Largest attr_url body read: an auth result of a few dozen attributes is a few kilobytes. */
const MAX_RESULT_BODY = '64kb';
const readJwt = express.text({ type: () => true, limit: MAX_RESULT_BODY });

/**
 * The body of a POST to an attr_url: read only when it is `application/jwt` (the protocol's type) and at most 64 KB;
 * otherwise the problem, without reading further.
 */
function readResultBody(req: Request, res: Response): Promise<{ body?: string; problem?: 'too_large' | 'wrong_content_type' }> {
  if (!req.is('application/jwt')) return Promise.resolve({ problem: 'wrong_content_type' });
  return new Promise((resolve) => {
    readJwt(req, res, (err?: unknown) => {
      if (!err) return resolve({ body: typeof req.body === 'string' ? req.body : '' });
      const e = err as { status?: number; type?: string };
      resolve({ problem: e.status === 413 || e.type === 'entity.too.large' ? 'too_large' : 'wrong_content_type' });
    });
  });
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
  // Start, callback and decline count on every instance together (the callback may land on any of them).
  const residentLimiter = services.limiter('identification', { windowMs: 60_000, max: 60 });
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

  r.get('/auth/start', callMemory, ...pages, rateLimit(residentLimiter), asyncRoute(async (req, res) => {
    const { session, cookie } = await callSessionOf(services, req);
    try {
      const url = await id.start(req.query.request, req.query.method, session, cookie);
      res.redirect(303, url);
    } catch (e) {
      if (!isUserError(e)) throw e;
      residentProblem(req, res, e.status, e.code === 'provider_error' ? finishFailureText('provider_error', pickLang(req)) : e.message);
    }
  }));

  r.get('/auth/callback', callMemory, ...pages, rateLimit(residentLimiter), asyncRoute(async (req, res) => {
    const { session, cookie } = await callSessionOf(services, req);
    const outcome: 'ok' | FailureReason = await id.finish(req.originalUrl, session, cookie);
    // Back into the call; the code (never a value) lets the call page say how it went.
    res.redirect(303, `/call?idv-auth=${encodeURIComponent(outcome)}`);
  }));

  r.get('/auth/pending', callMemory, ...pages, rateLimit(pollLimiter), asyncRoute(async (req, res) => {
    const { session } = await callSessionOf(services, req);
    if (!session || session.role !== 'resident') return sendJsonError(res, 401, 'call_session_required', 'No call session');
    const lang = pickLang(req);
    const code = typeof req.query.outcome === 'string' ? req.query.outcome : undefined;
    const outcome = code ? outcomeText(code, lang) : undefined;
    res.json({ request: id.pendingFor(session) ?? null, shared: id.sharedWithAgent(session), texts: RESIDENT_TEXTS[lang], ...(outcome ? { outcome } : {}) });
  }));

  r.post('/auth/decline', callMemory, ...pages, rateLimit(residentLimiter), express.json({ limit: '2kb', strict: true }), asyncRoute(async (req, res) => {
    // JSON only and same origin: a foreign page can neither send this content type without CORS nor forge Origin.
    if (!req.is('application/json') || !sameOrigin(req, services.config.publicUrl)) return sendJsonError(res, 403, 'forbidden', 'Forbidden');
    const { session } = await callSessionOf(services, req);
    await id.decline((req.body as { requestId?: unknown } | undefined)?.requestId, session);
    res.json({ ok: true });
  }));

  // ID Contact: the auth plugin (server to server) posts the result to the one-time attr_url of an attempt. A busy
  // plugin posts from one address, so its budget is wide; addresses that keep hitting unknown attr_urls are cut off
  // before they can fill the processing log.
  const resultLimiter = createRateLimiter({ windowMs: 60_000, max: 600 });
  const unknownLimiter = createRateLimiter({ windowMs: 60_000, max: 20 });
  r.post('/auth/idcontact/attributes/:token', callMemory, securityHeaders(), noStore, rateLimit(resultLimiter), asyncRoute(async (req, res) => {
    const token = String(req.params.token);
    if (!(await id.idContact().attemptForAttr(token)) && !(await unknownLimiter.hit(clientKey(req))).ok) {
      res.setHeader('Connection', 'close');
      return sendJsonError(res, 429, 'too_many_requests', 'Too many requests');
    }
    const { body, problem } = await readResultBody(req, res);
    if (problem) res.setHeader('Connection', 'close');
    const { outcome, status } = await id.receiveIdContactResult(token, body, problem);
    if (status === 200) return res.status(200).json({ received: true });
    sendJsonError(res, status, outcome, status === 404 ? 'Unknown address' : status === 409 ? 'This result was already received' : status === 413 ? 'Too large' : status === 415 ? 'Send application/jwt' : 'The result was not accepted');
  }));

  // ID Contact: the resident comes back into the call (comm_url); a result in the query is taken out of the address
  // bar at once by the 303.
  r.get('/auth/idcontact/return/:token', callMemory, ...pages, rateLimit(residentLimiter), asyncRoute(async (req, res) => {
    const { session, cookie } = await callSessionOf(services, req);
    const outcome = await id.returnFromIdContact(String(req.params.token), req.query as Record<string, unknown>, session, cookie);
    res.redirect(303, `/call?idv-auth=${encodeURIComponent(outcome)}`);
  }));

  r.get(/^\/auth\/logos\/idc\/([0-9a-f]{32})$/, (req, res) => {
    const logo = id.coreLogos.get((req.params as Record<string, string>)[0] ?? '');
    if (!logo) return res.status(404).end();
    // Served as an image only: an SVG from the core can run nothing here.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type(logo.type).send(logo.bytes);
  });

  r.get(/^\/auth\/logos\/([a-z]{1,20})\.svg$/, (req, res) => {
    const svg = logoSvg((req.params as Record<string, string>)[0] ?? '');
    if (!svg) return res.status(404).end();
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('image/svg+xml').send(svg);
  });

  r.get('/auth/agent/appointments/:appointmentId', callMemory, ...pages, agent, asyncRoute(async (req, res) => {
    const username = req.staff!.username;
    const appointmentId = String(req.params.appointmentId);
    const { owned, sets } = await id.setsForAppointment(appointmentId, username);
    if (!owned) return sendJsonError(res, 404, 'not_found', 'Deze afspraak bestaat niet of is niet voor u ingepland. / Not found.');
    const after = Number(req.query.after ?? 0);
    res.json({ sets, notices: id.noticesFor(appointmentId, Number.isFinite(after) ? after : 0), purposes: id.purposeList(), csrf: services.csrf.issue(req, res) });
  }));

  r.post('/auth/agent/appointments/:appointmentId/request', callMemory, ...pages, agent, ...bodyParsers('2kb'), asyncRoute(async (req, res) => {
    if (!sameOrigin(req, services.config.publicUrl) || !services.csrf.verify(req)) return sendJsonError(res, 403, 'csrf', 'Vernieuw de pagina en probeer het opnieuw. / Reload the page and try again.');
    await id.ask(String(req.params.appointmentId), req.staff!.username, (req.body as { purpose?: unknown } | undefined)?.purpose, req.headers.traceparent);
    res.status(202).json({ asked: true });
  }));

  r.get('/auth/agent/sets/:setId', callMemory, ...pages, agent, asyncRoute(async (req, res) => {
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

  r.post('/auth/agent/sets/:setId/delete', callMemory, ...pages, agent, ...bodyParsers('2kb'), asyncRoute(async (req, res) => {
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

  // The processing log in the Logboek Dataverwerkingen shape (lib/trace/logboek.ts), one JSON record per line, oldest
  // first: for the gemeente's own Logboek or an audit. Admins only; names and codes, never attribute values.
  r.get('/admin-log/export.jsonl', ...pages, services.staff.requireStaff('admin'), asyncRoute(async (req, res) => {
    const one = (name: string): string | undefined => {
      const v = req.query[name];
      if (v === undefined || v === '') return undefined;
      if (typeof v !== 'string') throw new UserError(400, 'invalid_query', `${name} must be given once`);
      return v;
    };
    const appointmentId = one('appointment');
    if (appointmentId !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(appointmentId)) throw new UserError(400, 'invalid_query', 'appointment must be an appointment id');
    const from = one('from');
    const to = one('to');
    const base = { ...(appointmentId ? { appointmentId } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
    // Checks the filters before anything is sent, so a bad one is a clean 400.
    let page = await id.log.list({ ...base, afterId: 0, limit: EXPORT_PAGE });
    res.status(200);
    res.type('application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="verwerkingenlog.jsonl"');
    let sent = 0;
    while (page.length > 0 && sent < EXPORT_MAX) {
      res.write(page.map((rec) => JSON.stringify(toLogboekRecord(rec, SERVICE))).join('\n') + '\n');
      sent += page.length;
      if (page.length < EXPORT_PAGE) break;
      page = await id.log.list({ ...base, afterId: page[page.length - 1].id, limit: EXPORT_PAGE });
    }
    res.end();
  }));

  r.use(errorHandler({ log: (m) => services.log.error(m), branding: () => services.branding() }));
  return r;
}

const EXPORT_PAGE = 1000;
/** An export is bounded; narrow it with from/to for more. */
const EXPORT_MAX = 200_000;
const SERVICE = { name: 'id-video', version: packageVersion() };

/** This package's version for the Logboek's resource attributes (dist/lib/identification → package root). */
function packageVersion(): string {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Mounts the routes once while any identification node runs; returns the release function for the node's close. */
export function acquireIdentificationRoutes(services: Services, id: IdentificationService): () => void {
  return services.mountShared('identification', () => identificationRouter(services, id));
}
