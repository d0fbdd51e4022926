import express, { type Router } from 'express';
import { callMemory } from '../call/call-memory';
import type { AppointmentStore } from '../appointments/store';
import { notValidPage } from '../access/pages';
import { html } from '../http/html';
import { pickLang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import { asyncRoute, noStore, sameOrigin, securityHeaders, sendJsonError } from '../http/security';
import { readCookies } from '../http/cookies';
import type { LinkService } from '../links';
import type { CallExtras } from '../agent-pages/call-extras';
import type { CallSession } from '../links';
import { isUserError } from '../errors';
import { callCookieName } from '../call/cookie';
import { MAX_BYTES } from '../documents/service';
import { routerRtpCapabilities } from '../../media-server';
import { callStage, documentsSection } from './stage';
import { CLIENT, RESIDENT } from './texts';

export interface CallPagesOptions {
  links: LinkService;
  appointments: AppointmentStore;
  secure: boolean;
  branding: () => Branding;
  /** Chat, documents and guests of the running call service; undefined until it runs. */
  extras?: () => CallExtras | undefined;
  publicUrl?: () => string | undefined;
}

/**
 * `GET /call`: the resident's call page. Only a live call-session cookie (set by /v/<token>) of a booked appointment
 * opens it; everyone else gets the same "not valid" page, whatever was wrong. The page itself holds no personal data:
 * the script connects to /ws with the same cookie.
 */
export function callPagesRouter(o: CallPagesOptions): Router {
  const r = express.Router();
  const session = async (req: express.Request): Promise<CallSession | undefined> => o.links.getCallSession(readCookies(req)[callCookieName(o.secure)]);
  const noSession = (res: express.Response) => sendJsonError(res, 401, 'call_session_required', 'Open het gesprek via de link in uw e-mail. / Open the call through the link in your e-mail.');
  const unavailable = (res: express.Response) => sendJsonError(res, 503, 'unavailable', 'Dit kan nu even niet. Probeer het zo opnieuw. / Not possible right now; please try again shortly.');
  const userErrors = (res: express.Response, e: unknown) => {
    if (!isUserError(e)) throw e;
    if (e.status === 429) res.setHeader('Retry-After', '60');
    sendJsonError(res, e.status, e.code, e.message);
  };

  // The chat so far, for a page that (re)connects: the resident all of it, a guest what came after their admission.
  r.get('/call/chat.json', callMemory, securityHeaders(), noStore, rateLimit(createRateLimiter({ windowMs: 60_000, max: 60 })), asyncRoute(async (req, res) => {
    const s = await session(req);
    if (!s || s.role === 'agent') return noSession(res);
    const after = Number(req.query.after ?? 0);
    res.json({ messages: o.extras?.()?.chat.history(s.appointmentId, s.role, Number.isInteger(after) && after > 0 ? after : 0) ?? [] });
  }));

  // A chat message from the resident (also while waiting) or an admitted guest. JSON only and same origin (CSRF).
  r.post('/call/chat', callMemory, securityHeaders(), noStore, rateLimit(createRateLimiter({ windowMs: 60_000, max: 60 })), express.json({ limit: '8kb', strict: true }), asyncRoute(async (req, res) => {
    if (!req.is('application/json') || !sameOrigin(req, o.publicUrl?.())) return sendJsonError(res, 403, 'forbidden', 'Vernieuw de pagina. / Reload the page.');
    const s = await session(req);
    if (!s || s.role === 'agent') return noSession(res);
    const x = o.extras?.();
    if (!x) return unavailable(res);
    if (s.role === 'guest' && !x.chat.guestMayRead(s.appointmentId, { seq: 0, from: 'guest', text: '', at: new Date().toISOString() })) {
      return sendJsonError(res, 403, 'not_admitted', 'Wacht tot de medewerker u toelaat. / Wait until the employee lets you in.');
    }
    try {
      const { message } = await x.chat.send(s.appointmentId, s.role, s.role, (req.body as { text?: unknown } | undefined)?.text);
      res.status(201).json({ message });
    } catch (e) {
      userErrors(res, e);
    }
  }));

  // A document or photo from the resident: the raw file as the body, its claimed type in Content-Type (compared with
  // what the bytes say). Not a simple CORS request (image/*, application/pdf), and same origin: no CSRF from elsewhere.
  r.post(
    '/call/documents',
    callMemory,
    securityHeaders(),
    noStore,
    rateLimit(createRateLimiter({ windowMs: 10 * 60_000, max: 20 })),
    express.raw({ type: () => true, limit: MAX_BYTES }),
    asyncRoute(async (req, res) => {
      if (!sameOrigin(req, o.publicUrl?.())) return sendJsonError(res, 403, 'forbidden', 'Vernieuw de pagina. / Reload the page.');
      const s = await session(req);
      if (!s || s.role !== 'resident') return noSession(res);
      const x = o.extras?.();
      if (!x) return unavailable(res);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const doc = await x.documents.share(s.appointmentId, req.headers['content-type'], body);
        res.status(201).json({ document: doc });
      } catch (e) {
        userErrors(res, e);
      } finally {
        // The upload's own buffer: its bytes (EXIF included) do not wait for the garbage collector.
        body.fill(0);
      }
    }),
  );

  // The resident withdraws a document she shared ("Intrekken"): gone from memory at once, the agent's list follows
  // through the 'deleted' event. Only her own appointment's documents; anything else looks like an unknown one.
  r.post('/call/documents/:documentId/delete', callMemory, securityHeaders(), noStore, rateLimit(createRateLimiter({ windowMs: 60_000, max: 60 })), asyncRoute(async (req, res) => {
    if (!sameOrigin(req, o.publicUrl?.())) return sendJsonError(res, 403, 'forbidden', 'Vernieuw de pagina. / Reload the page.');
    const s = await session(req);
    if (!s || s.role !== 'resident') return noSession(res);
    const x = o.extras?.();
    if (!x) return unavailable(res);
    if (!x.documents.delete(String(req.params.documentId), s.appointmentId, 'resident_deleted')) {
      return sendJsonError(res, 404, 'gone', 'Dit document is al verwijderd. / This document has already been deleted.');
    }
    res.json({ deleted: true });
  }));

  r.get('/call', securityHeaders({ frameAncestors: "'none'" }), noStore, asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, o.secure);
    const t = RESIDENT[lang];
    const c = CLIENT[lang];
    const session = await o.links.getCallSession(readCookies(req)[callCookieName(o.secure)]);
    const appointment = session ? await o.appointments.get(session.appointmentId) : null;
    if (!session || !appointment || appointment.status !== 'booked') {
      return res.status(403).type('html').send(notValidPage(lang, o.branding()));
    }
    // An agent's link lands in the dashboard, which has the identification panel.
    if (session.role === 'agent') return res.redirect(303, `agent/call/${encodeURIComponent(session.appointmentId)}`);
    const guest = session.role === 'guest';
    res.type('html').send(
      renderPage({
        lang,
        title: t.title,
        branding: o.branding(),
        path: req.baseUrl + req.path,
        // A guest (interpreter, family member) gets no identification script and no document sharing.
        scripts: guest ? ['call.js'] : ['call.js', 'identify.js'],
        styles: ['call.css', 'identify.css'],
        // The router's capabilities let the browser prepare its media device during the device check.
        data: { texts: JSON.stringify({ ...CLIENT[lang], messageHeading: t.messageHeading }), role: session.role, 'rtp-capabilities': JSON.stringify(routerRtpCapabilities()) },
        bodyClass: 'idv-call-page',
        main: html`<h1 class="utrecht-heading-1 idv-call-title">${t.title}</h1>
<p id="status" class="utrecht-paragraph idv-status" role="status" aria-live="polite"></p>
${guest ? '' : html`<p id="identification-status" class="utrecht-paragraph idv-identification-status" role="status" aria-live="polite"></p>`}
<section id="device-check" aria-labelledby="device-heading">
  <h2 id="device-heading" class="utrecht-heading-2">${t.deviceHeading}</h2>
  <p class="utrecht-paragraph">${t.deviceIntro}</p>
  <video id="preview" class="idv-preview" autoplay muted playsinline aria-label="${t.camera}"></video>
  <div id="device-problem" class="utrecht-alert utrecht-alert--error" role="alert" hidden><p class="utrecht-paragraph" id="device-problem-text"></p></div>
  <div class="utrecht-form-field idv-device-field">
    <label class="utrecht-form-label" for="camera-select">${t.camera}</label>
    <select id="camera-select" class="utrecht-select utrecht-select--html-select"></select>
  </div>
  <div class="utrecht-form-field idv-device-field">
    <label class="utrecht-form-label" for="mic-select">${t.microphone}</label>
    <select id="mic-select" class="utrecht-select utrecht-select--html-select"></select>
  </div>
  <p class="idv-actions">
    <button type="button" id="start-call" class="utrecht-button utrecht-button--primary-action" disabled>${t.start}</button>
    <button type="button" id="retry-devices" class="utrecht-button utrecht-button--secondary-action" hidden>${t.retry}</button>
  </p>
</section>
<section id="waiting" aria-labelledby="waiting-heading" hidden>
  <h2 id="waiting-heading" class="utrecht-heading-2" tabindex="-1">${c.waitingHeading}</h2>
  <p class="utrecht-paragraph" id="waiting-text">${c.waitingText}</p>
</section>
<section id="call" aria-labelledby="call-heading" hidden>
  <h2 id="call-heading" class="utrecht-heading-2 idv-visually-hidden" tabindex="-1">${t.callHeading}</h2>
  ${callStage(lang, t.remoteVideo)}
</section>
<div id="call-side" class="idv-call-side" hidden>
  ${guest ? '' : documentsSection(lang)}
  <div id="chat-slot" class="idv-chat-slot"></div>
</div>
<section id="ended" aria-labelledby="ended-heading" hidden>
  <h2 id="ended-heading" class="utrecht-heading-2" tabindex="-1">${c.endedHeading}</h2>
  <p class="utrecht-paragraph" id="ended-text">${c.endedText}</p>
  <p class="utrecht-paragraph" id="ended-rejoin-hint">${t.rejoinHint}</p>
  <p class="idv-actions"><button type="button" id="rejoin" class="utrecht-button utrecht-button--secondary-action">${t.rejoin}</button></p>
</section>`,
      }),
    );
  }));
  return r;
}
