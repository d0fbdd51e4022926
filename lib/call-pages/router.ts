import express, { type Router } from 'express';
import type { AppointmentStore } from '../appointments/store';
import { notValidPage } from '../access/pages';
import { html } from '../http/html';
import { pickLang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import { asyncRoute, noStore, securityHeaders, sendJsonError } from '../http/security';
import { readCookies } from '../http/cookies';
import type { LinkService } from '../links';
import type { AgentMessages } from '../call/agent-messages';
import { callCookieName } from '../call/cookie';
import { routerRtpCapabilities } from '../../media-server';
import { callStage } from './stage';
import { CLIENT, RESIDENT } from './texts';

export interface CallPagesOptions {
  links: LinkService;
  appointments: AppointmentStore;
  secure: boolean;
  branding: () => Branding;
  /** The agent's messages (latest per appointment); undefined until the call service runs. */
  messages?: () => AgentMessages | undefined;
}

/**
 * `GET /call`: the resident's call page. Only a live call-session cookie (set by /v/<token>) of a booked appointment
 * opens it; everyone else gets the same "not valid" page, whatever was wrong. The page itself holds no personal data:
 * the script connects to /ws with the same cookie.
 */
export function callPagesRouter(o: CallPagesOptions): Router {
  const r = express.Router();
  // The latest message of the agent, for a resident page that connects after it was pushed (or reloads).
  r.get('/call/message.json', securityHeaders(), noStore, rateLimit(createRateLimiter({ windowMs: 60_000, max: 60 })), asyncRoute(async (req, res) => {
    const session = await o.links.getCallSession(readCookies(req)[callCookieName(o.secure)]);
    if (!session || session.role !== 'resident') return sendJsonError(res, 401, 'call_session_required', 'Open het gesprek via de link in uw e-mail. / Open the call through the link in your e-mail.');
    res.json({ message: o.messages?.()?.latest(session.appointmentId) ?? null });
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
    res.type('html').send(
      renderPage({
        lang,
        title: t.title,
        branding: o.branding(),
        path: req.baseUrl + req.path,
        scripts: ['call.js', 'identify.js'],
        styles: ['call.css', 'identify.css'],
        // The router's capabilities let the browser prepare its media device during the device check.
        data: { texts: JSON.stringify({ ...CLIENT[lang], messageHeading: t.messageHeading }), role: 'resident', 'rtp-capabilities': JSON.stringify(routerRtpCapabilities()) },
        bodyClass: 'idv-call-page',
        main: html`<h1 class="utrecht-heading-1 idv-call-title">${t.title}</h1>
<p id="status" class="utrecht-paragraph idv-status" role="status" aria-live="polite"></p>
<p id="identification-status" class="utrecht-paragraph idv-identification-status" role="status" aria-live="polite"></p>
<div id="agent-message" class="idv-agent-message" role="status" aria-live="polite" aria-atomic="true"></div>
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
