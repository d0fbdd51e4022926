import express, { type RequestHandler, type Router } from 'express';
import type { AppointmentStore } from '../appointments/store';
import type { Presence } from '../call/presence';
import { callStage } from '../call-pages/stage';
import { CLIENT } from '../call-pages/texts';
import type { Csrf } from '../http/csrf';
import { sendErrorPage } from '../http/errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import { logoutForm } from '../staff/login-page';
import { typedLine } from '../text/typed-text';
import { toPublicIso } from '../time';
import { AGENT, AGENT_CLIENT } from './texts';
import { dashboardWindow, timeInWords } from './when';

export interface AgentPagesOptions {
  appointments: AppointmentStore;
  presence: (appointmentId: string) => Presence;
  requireAgent: RequestHandler;
  csrf: Csrf;
  secure: boolean;
  branding: () => Branding;
  /** How many days ahead the list reaches (today included). Default 14. */
  days?: number;
  now?: () => Date;
}

/** One row of the dashboard list: what the agent needs to pick a call, no resident details. */
export interface DashboardAppointment {
  id: string;
  start: string;
  end: string;
  when: string;
  today: boolean;
  topic: string;
  channel: string;
  residentPresent: boolean;
  agentPresent: boolean;
}

const APPOINTMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The agent dashboard: `GET /agent` (the page shell; the list comes from `/agent/appointments.json` and is kept
 * live over `/ws?channel=agent`), and `GET /agent/call/<id>` (an agent's access link lands here: the dashboard with
 * that call opened). Sign-in with the agent role is required for all of it.
 */
export function agentPagesRouter(o: AgentPagesOptions): Router {
  const days = o.days ?? 14;
  const now = o.now ?? (() => new Date());
  const r = express.Router();
  const guard = [securityHeaders({ frameAncestors: "'none'" }), noStore, o.requireAgent];

  async function listFor(username: string, lang: Lang): Promise<DashboardAppointment[]> {
    const t = now();
    const w = dashboardWindow(t, days);
    const rows = await o.appointments.listForAgent(username, w.fromUtc, w.toUtc);
    return rows
      .filter((a) => a.status === 'booked')
      .map((a) => {
        const p = o.presence(a.id);
        return {
          id: a.id,
          start: toPublicIso(a.startUtc),
          end: toPublicIso(a.endUtc),
          when: timeInWords(a.startUtc, lang, t),
          today: a.startUtc < w.todayEndUtc,
          // Shown by the dashboard script as text: the same typed-text rule as every server-rendered page.
          topic: typedLine(a.topic),
          channel: a.channel === 'phone' ? AGENT[lang].channelPhone : AGENT[lang].channelWebsite,
          residentPresent: p.resident,
          agentPresent: p.agent,
        };
      });
  }

  r.get('/agent/appointments.json', ...guard, asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    res.json({ appointments: await listFor(req.staff!.username, lang) });
  }));

  r.get('/agent/call/:id', ...guard, asyncRoute(async (req, res) => {
    const id = req.params.id;
    const a = APPOINTMENT_ID.test(id) ? await o.appointments.get(id) : null;
    if (!a || a.agent.toLowerCase() !== req.staff!.username || a.status !== 'booked') {
      const lang = pickLang(req);
      return sendErrorPage(req, res, 404, AGENT[lang].notFoundTitle, AGENT[lang].notFoundText, o.branding());
    }
    res.redirect(303, `${req.baseUrl}/agent?call=${encodeURIComponent(id)}`);
  }));

  r.get('/agent', ...guard, (req, res) => {
    const lang = pickLang(req, res, o.secure);
    const t = AGENT[lang];
    const staff = req.staff!;
    res.type('html').send(
      renderPage({
        lang,
        title: t.title,
        branding: o.branding(),
        path: req.baseUrl + req.path,
        scripts: ['agent.js', 'identify-agent.js'],
        styles: ['call.css', 'identify.css'],
        headerExtra: logoutForm(lang, o.csrf.issue(req, res), staff.displayName, req.baseUrl),
        data: { texts: JSON.stringify({ ...CLIENT[lang], ...AGENT_CLIENT[lang] }), role: 'agent', lang },
        main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
<p id="status" class="utrecht-paragraph idv-status" role="status" aria-live="polite"></p>
<div class="idv-dashboard">
  <div class="idv-dashboard-main">
    <section id="appointments" aria-labelledby="today-heading">
      <h2 id="today-heading" class="utrecht-heading-2">${t.today}</h2>
      <ul id="list-today" class="utrecht-unordered-list idv-appointment-list"><li>${t.loading}</li></ul>
      <h2 id="upcoming-heading" class="utrecht-heading-2">${t.upcoming}</h2>
      <ul id="list-upcoming" class="utrecht-unordered-list idv-appointment-list"></ul>
    </section>
    <section id="call" aria-labelledby="call-heading" hidden>
      <h2 id="call-heading" class="utrecht-heading-2" tabindex="-1">${t.callHeading}</h2>
      ${callStage(lang, t.remoteVideo)}
    </section>
  </div>
  <section id="identification" class="idv-side-panel" aria-labelledby="identification-heading" data-appointment-id="">
    <h2 id="identification-heading" class="utrecht-heading-2">${t.identificationHeading}</h2>
    <p class="utrecht-paragraph" id="identification-idle">${t.identificationIdle}</p>
  </section>
</div>`,
      }),
    );
  });
  return r;
}
