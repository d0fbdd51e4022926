import express, { type Router } from 'express';
import type { AppointmentStore } from '../appointments/store';
import { notValidPage } from '../access/pages';
import { html } from '../http/html';
import { pickLang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import { readCookies } from '../http/cookies';
import type { LinkService } from '../links';
import { callCookieName } from '../call/cookie';
import { routerRtpCapabilities } from '../../media-server';
import { callStage } from './stage';
import { CLIENT, RESIDENT } from './texts';

export interface CallPagesOptions {
  links: LinkService;
  appointments: AppointmentStore;
  secure: boolean;
  branding: () => Branding;
}

/**
 * `GET /call`: the resident's call page. Only a live call-session cookie (set by /v/<token>) of a booked appointment
 * opens it; everyone else gets the same "not valid" page, whatever was wrong. The page itself holds no personal data:
 * the script connects to /ws with the same cookie.
 */
export function callPagesRouter(o: CallPagesOptions): Router {
  const r = express.Router();
  r.get('/call', securityHeaders({ frameAncestors: "'none'" }), noStore, asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, o.secure);
    const t = RESIDENT[lang];
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
        data: { texts: JSON.stringify(CLIENT[lang]), role: 'resident', 'rtp-capabilities': JSON.stringify(routerRtpCapabilities()) },
        main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
<p id="status" class="utrecht-paragraph idv-status" role="status" aria-live="polite"></p>
<section id="device-check" aria-labelledby="device-heading">
  <h2 id="device-heading" class="utrecht-heading-2">${t.deviceHeading}</h2>
  <p class="utrecht-paragraph">${t.deviceIntro}</p>
  <video id="preview" class="idv-preview" autoplay muted playsinline aria-label="${t.camera}"></video>
  <div id="device-problem" class="utrecht-alert utrecht-alert--error" role="alert" hidden><p class="utrecht-paragraph" id="device-problem-text"></p></div>
  <div class="utrecht-form-field idv-device-field">
    <label class="utrecht-form-label" for="camera-select">${t.camera}</label>
    <select id="camera-select" class="utrecht-select"></select>
  </div>
  <div class="utrecht-form-field idv-device-field">
    <label class="utrecht-form-label" for="mic-select">${t.microphone}</label>
    <select id="mic-select" class="utrecht-select"></select>
  </div>
  <p class="idv-actions">
    <button type="button" id="start-call" class="utrecht-button utrecht-button--primary-action" disabled>${t.start}</button>
    <button type="button" id="retry-devices" class="utrecht-button utrecht-button--secondary-action" hidden>${t.retry}</button>
  </p>
</section>
<section id="waiting" aria-labelledby="waiting-heading" hidden>
  <h2 id="waiting-heading" class="utrecht-heading-2" tabindex="-1">${t.waitingHeading}</h2>
  <p class="utrecht-paragraph">${t.waitingText}</p>
</section>
<section id="call" aria-labelledby="call-heading" hidden>
  <h2 id="call-heading" class="utrecht-heading-2 idv-visually-hidden" tabindex="-1">${t.callHeading}</h2>
  ${callStage(lang, t.remoteVideo)}
</section>
<section id="ended" aria-labelledby="ended-heading" hidden>
  <h2 id="ended-heading" class="utrecht-heading-2" tabindex="-1">${t.endedHeading}</h2>
  <p class="utrecht-paragraph" id="ended-text">${t.endedText}</p>
</section>`,
      }),
    );
  }));
  return r;
}
