import express, { type Request, type RequestHandler, type Router } from 'express';
import { callMemory } from '../call/call-memory';
import type { ProcessingLogEntry } from '../attributes/processing-log';
import type { Appointment, AppointmentStore } from '../appointments/store';
import { callExtrasRouter, type CallExtras } from './call-extras';
import type { Presence } from '../call/presence';
import { callStage } from '../call-pages/stage';
import { CLIENT } from '../call-pages/texts';
import type { Csrf } from '../http/csrf';
import { sendErrorPage } from '../http/errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { isUserError } from '../errors';
import { asyncRoute, bodyParsers, noStore, sameOrigin, securityHeaders, sendJsonError } from '../http/security';
import { logoutForm } from '../staff/login-page';
import { typedLine } from '../text/typed-text';
import { toPublicIso } from '../time';
import { AGENT, AGENT_CLIENT } from './texts';
import { dashboardWindow, timeInWords } from './when';

export interface AgentPagesOptions {
  appointments: AppointmentStore;
  presence: (appointmentId: string) => Presence;
  /**
   * Who is in rooms held by other instances (several instances: the room directory), for appointments this
   * instance's own tracker does not see; default none.
   */
  roomPresence?: (appointmentIds: readonly string[]) => Promise<Map<string, Presence>>;
  requireAgent: RequestHandler;
  csrf: Csrf;
  secure: boolean;
  branding: () => Branding;
  /** How many days ahead the list reaches (today included). Default 14. */
  days?: number;
  now?: () => Date;
  /** Chat, documents and guests of the running call service; undefined until it runs. */
  extras?: () => CallExtras | undefined;
  /** The recorded outcomes of these appointments (issue 14): shown instead of the presence once decided. */
  outcomes?: (ids: readonly string[]) => Promise<Map<string, { outcome: string; durationSeconds: number | null }>>;
  /** Writes a processing-log line (booking details viewed: field names only). */
  recordView?: (entry: ProcessingLogEntry) => Promise<unknown>;
  publicUrl?: () => string | undefined;
}

/**
 * The contact details a resident typed at booking (or the KCC typed for them), for the assigned agent only. Marked as
 * typed, not verified, wherever shown; `fields` names what is filled in (what the processing log records).
 */
export interface BookingDetails {
  appointmentId: string;
  topic: string;
  channel: Appointment['channel'];
  name: string;
  email: string;
  phone: string | null;
  remarks: string | null;
  fields: string[];
}

const VIEW_PLACES: Record<string, string> = { call: 'viewed_in_call', dashboard: 'viewed_on_dashboard' };

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
  /** How it ended, once decided (a code of lib/outcomes/types.ts) and, for a completed call, its minutes. */
  outcome?: string;
  durationMinutes?: number;
}

const APPOINTMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The agent dashboard: `GET /agent` (the page shell; the list comes from `/agent/appointments.json` and is kept
 * live over `/ws?channel=agent`), and `GET /agent/call/<id>` (an agent's access link lands here: the dashboard with
 * that call opened). Sign-in with the agent role is required for all of it.
 */
/** Someone is in the appointment's room on this instance (then this instance holds the room). */
const isHere = (p: Presence): boolean => p.resident || p.agent || p.guest === true;

export function agentPagesRouter(o: AgentPagesOptions): Router {
  const days = o.days ?? 14;
  const now = o.now ?? (() => new Date());
  const r = express.Router();
  const guard = [securityHeaders({ frameAncestors: "'none'" }), noStore, o.requireAgent];

  /** The agent's own booked appointment, or undefined (another agent's, cancelled, unknown and malformed look alike). */
  async function own(req: Request): Promise<Appointment | undefined> {
    const id = String(req.params.id ?? '');
    const a = APPOINTMENT_ID.test(id) ? await o.appointments.get(id) : null;
    return a && a.status === 'booked' && a.agent.toLowerCase() === req.staff!.username.toLowerCase() ? a : undefined;
  }
  const notFound = (res: express.Response, lang: Lang) => sendJsonError(res, 404, 'not_found', AGENT[lang].notFoundText);

  async function listFor(username: string, lang: Lang): Promise<DashboardAppointment[]> {
    const t = now();
    const w = dashboardWindow(t, days);
    const rows = (await o.appointments.listForAgent(username, w.fromUtc, w.toUtc)).filter((a) => a.status === 'booked');
    const outcomes = o.outcomes ? await o.outcomes(rows.map((a) => a.id)) : new Map<string, { outcome: string; durationSeconds: number | null }>();
    const local = new Map(rows.map((a) => [a.id, o.presence(a.id)]));
    const elsewhere = rows.filter((a) => !isHere(local.get(a.id)!)).map((a) => a.id);
    const remote = o.roomPresence && elsewhere.length ? await o.roomPresence(elsewhere) : new Map<string, Presence>();
    return rows
      .map((a) => {
        const p = remote.get(a.id) ?? local.get(a.id)!;
        const done = outcomes.get(a.id);
        return {
          ...(done ? { outcome: done.outcome, ...(done.durationSeconds !== null ? { durationMinutes: Math.max(1, Math.round(done.durationSeconds / 60)) } : {}) } : {}),
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

  // Booking details: only for the agent the appointment is planned for, and every opening is in the processing log
  // (which fields, where — never their contents). The log write comes first: no log line, no details.
  r.get('/agent/appointments/:id/booking.json', ...guard, asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    const a = await own(req);
    if (!a) return notFound(res, lang);
    const r = a.resident;
    const fields = ['name', 'email', ...(r.phone ? ['phone'] : []), 'topic', ...(r.remarks ? ['remarks'] : [])];
    const where = VIEW_PLACES[String(req.query.where ?? '')] ?? 'viewed_on_dashboard';
    await o.recordView?.({ appointmentId: a.id, actor: req.staff!.username, action: 'booking_viewed', attributeKeys: fields, detail: where });
    const details: BookingDetails = { appointmentId: a.id, topic: a.topic, channel: a.channel, name: r.name, email: r.email, phone: r.phone, remarks: r.remarks, fields };
    res.json(details);
  }));

  r.use(callExtrasRouter({ own, extras: () => o.extras?.(), guard, csrf: o.csrf, publicUrl: o.publicUrl }));

  // A chat message (the first form: a short message to a waiting resident) from the agent of their own appointment.
  r.post('/agent/appointments/:id/message', callMemory, ...guard, ...bodyParsers('2kb'), asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    if (!sameOrigin(req, o.publicUrl?.()) || !o.csrf.verify(req)) return sendJsonError(res, 403, 'csrf', AGENT[lang].reload);
    const a = await own(req);
    if (!a) return notFound(res, lang);
    const chat = o.extras?.()?.chat;
    if (!chat) return sendJsonError(res, 503, 'unavailable', AGENT[lang].messageUnavailable);
    try {
      const { delivered, message } = await chat.send(a.id, 'agent', req.staff!.username, (req.body as { text?: unknown } | undefined)?.text);
      res.status(201).json({ delivered, message });
    } catch (e) {
      if (!isUserError(e)) throw e;
      if (e.status === 429) res.setHeader('Retry-After', '60');
      sendJsonError(res, e.status, e.code, e.message);
    }
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
        data: { texts: JSON.stringify({ ...CLIENT[lang], ...AGENT_CLIENT[lang], channelWebsite: t.channelWebsite, channelPhone: t.channelPhone }), role: 'agent', lang, csrf: o.csrf.issue(req, res) },
        bodyClass: 'idv-agent-page',
        main: html`<h1 class="utrecht-heading-1 idv-agent-title">${t.title}</h1>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${req.baseUrl}/agent/agenda">${t.feedLink}</a></p>
<p id="status" class="utrecht-paragraph idv-status" role="status" aria-live="polite"></p>
<div class="idv-dashboard">
  <section id="appointments" class="idv-appointments" aria-labelledby="today-heading">
    <h2 id="today-heading" class="utrecht-heading-2">${t.today}</h2>
    <ul id="list-today" class="idv-appointment-list"><li>${t.loading}</li></ul>
    <h2 id="upcoming-heading" class="utrecht-heading-2">${t.upcoming}</h2>
    <ul id="list-upcoming" class="idv-appointment-list"></ul>
  </section>
  <section id="call" class="idv-workspace" aria-labelledby="call-heading" hidden>
    <h2 id="call-heading" class="utrecht-heading-2 idv-workspace-heading" tabindex="-1">${t.callHeading}</h2>
    <div class="idv-workspace-grid">
      <div class="idv-workspace-stage">${callStage(lang, t.remoteVideo, { screenShare: true })}
        <p id="screen-status" class="utrecht-paragraph idv-screen-status" role="status" aria-live="polite"></p>
        <div id="workspace-chat" class="idv-chat-slot"></div>
      </div>
      <div class="idv-side-panel">
        <section id="booking-details" class="idv-booking-details" aria-labelledby="booking-details-heading">
          <h3 id="booking-details-heading" class="utrecht-heading-3">${t.detailsHeading} <span class="utrecht-status-badge utrecht-status-badge--warning">${t.unverified}</span></h3>
          <p class="utrecht-paragraph idv-unverified-note">${t.unverifiedNote}</p>
          <div id="booking-details-body"></div>
        </section>
        <section id="guest-panel" class="idv-guest-panel" aria-labelledby="guest-heading">
          <h3 id="guest-heading" class="utrecht-heading-3">${t.guestHeading}</h3>
          <div id="guest-body"></div>
        </section>
        <section id="documents-panel" class="idv-documents-panel" aria-labelledby="documents-panel-heading">
          <h3 id="documents-panel-heading" class="utrecht-heading-3">${t.documentsHeading}</h3>
          <ul id="documents-list" class="idv-documents-list"></ul>
        </section>
        <section id="identification" class="idv-identification" aria-labelledby="identification-heading" data-appointment-id="">
          <h3 id="identification-heading" class="utrecht-heading-3">${t.identificationHeading}</h3>
          <p class="utrecht-paragraph" id="identification-idle">${t.identificationIdle}</p>
        </section>
      </div>
    </div>
  </section>
</div>`,
      }),
    );
  });
  return r;
}
