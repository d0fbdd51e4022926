import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { DateTime } from 'luxon';
import { parseBookingInput, type BookingInput } from '../appointments/booking-input';
import type { BookingService } from '../appointments/booking-service';
import { epochDay, formatLocalDate, fromEpochDay, parseLocalDate } from '../appointments/calendar';
import { fieldMessages, messageFor } from '../appointments/messages';
import type { Schedule } from '../appointments/schedule';
import type { Appointment } from '../appointments/store';
import { isUserError, UserError } from '../errors';
import type { Csrf } from '../http/csrf';
import { errorHandler, sendErrorPage } from '../http/errors';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { clientKey as networkKey, createRateLimiter, type LimiterFactory, type RateLimiter } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, securityHeaders } from '../http/security';
import { dateInWords, dateTimeInWords } from '../mail/when';
import { appointmentMessage, type AppointmentMessage } from '../events/message';
import type { NewEvent } from '../events/types';
import { hmac } from '../security/tokens';
import { isStoreFault } from '../store/faults';
import { logoutForm } from '../staff/login-page';
import { nationalMobile } from '../sms/phone';
import { ZONE } from '../time';
import { signConfirmationRef, verifyConfirmationRef } from './confirmation-ref';
import { corsAllowList, originAllowed } from './cors';
import { dayChoiceMain, reviewMain, timeFormMain, type DayOption, type SummaryItem } from './form-pages';
import type { BookingPageConfig } from './options';
import { cancelConfirmMain, cancelledMain, confirmationMain, upcomingMain, type UpcomingRow } from './other-pages';
import { movedMain, rescheduleMain, rescheduleTexts } from './reschedule-pages';
import { guestInviteForm, guestInvitedNotice, guestInviteRoutes, type GuestInvites } from './guest-invite';
import { texts } from './texts';

export interface BookingRouterOptions {
  config: BookingPageConfig;
  /** Makes the flood limits (Services.limiter: shared by every instance on PostgreSQL); default: this process's memory. */
  limiter?: LimiterFactory;
  service: BookingService;
  /** The schedule the service books against: the day pager needs its horizon, the KCC list its agents. */
  schedule: () => Schedule;
  csrf: Csrf;
  hmacKey: Buffer;
  secure: boolean;
  /** Base URL residents reach us on (the JSON API's same-origin check). */
  publicUrl: () => string;
  /** The node id recorded as the source of the events this router's changes write (lib/events). */
  source?: string;
  branding: () => Branding;
  /** Staff sign-in guard; required in KCC mode. */
  requireStaff?: RequestHandler;
  /** Called after each committed booking or cancellation with the message for the flow (it carries the event id). */
  onEvent: (e: AppointmentMessage) => void;
  log: (msg: string) => void;
  now?: () => DateTime;
  /** KCC mode: invitations of a third participant (lib/call/guests.ts GuestService) from the confirmation and the list. */
  guests?: GuestInvites & { removeLive?(appointmentId: string): void };
  /** True while an SMS gateway is configured for this form: the form then offers SMS (lib/sms). */
  offerSms?: () => boolean;
}

const DAYS_PER_PAGE = 14;
const FORM_FIELDS = ['name', 'email', 'phone', 'remarks', 'time', 'sms'] as const;
const MAX_UPCOMING = 500;

type Values = Partial<Record<(typeof FORM_FIELDS)[number], string>>;

/** Form field a parser/service error belongs to, as the id the error summary links to. */
function formField(field: string): string {
  if (field === 'start' || field === 'time') return 'time';
  if (field === 'date' || field === 'topic') return 'change';
  if ((FORM_FIELDS as readonly string[]).includes(field)) return field;
  return 'main';
}

function anchorFor(field: string): string {
  return field === 'time' ? 'time-0' : field;
}

/**
 * The booking module's pages and JSON API under one path: day and time choice, booking (form and JSON), the
 * confirmation page, the resident's cancel pages, and in KCC mode the upcoming list with cancel buttons.
 */
export function createBookingRouter(o: BookingRouterOptions): Router {
  const { config, service, csrf } = o;
  const kcc = config.mode === 'kcc';
  if (kcc && !o.requireStaff) throw new Error('KCC mode needs requireStaff');
  const now = o.now ?? (() => DateTime.utc());
  const offerSms = o.offerSms ?? (() => false);
  // The flood limits on bookings are shared by every instance (o.limiter: the store's counters); the budget for
  // reading pages protects each instance's own CPU and stays in its memory.
  const limiter: LimiterFactory = o.limiter ?? ((_name, l) => createRateLimiter(l));
  const perClient: RateLimiter = limiter(`booking-client:${config.mode}:${config.path}`, { windowMs: 10 * 60_000, max: config.limitPerIp });
  const perEmail: RateLimiter = limiter(`booking-email:${config.mode}:${config.path}`, { windowMs: 60 * 60_000, max: config.limitPerEmail });
  const reads: RateLimiter = createRateLimiter({ windowMs: 60_000, max: Math.max(300, config.limitPerIp * 5) });
  const emailKey = (email: string) => hmac(o.hmacKey, `booking-email|${email.toLowerCase()}`);
  const source = o.source ?? null;
  /** The event part of a change: which node, which language the resident reads, where their cancel page is. */
  const event = (facts: NewEvent['facts']): NewEvent => ({ source, facts });
  const clientKey = (req: Request) => (kcc && req.staff ? `staff|${req.staff.username}` : networkKey(req));

  const inner = express.Router();
  inner.use(securityHeaders({ frameAncestors: config.frameAncestors }));
  inner.use(noStore);
  if (!kcc) inner.use(corsAllowList(config.corsOrigins));
  if (kcc) inner.use(o.requireStaff as RequestHandler);

  const page = (req: Request, res: Response, status: number, lang: Lang, title: string, main: SafeHtml) => {
    let headerExtra: SafeHtml | undefined;
    if (kcc && req.staff) {
      headerExtra = html`<a class="utrecht-link" href="${req.baseUrl}/afspraken">${texts(lang).upcomingLink}</a>
${logoutForm(lang, csrf.issue(req, res), req.staff.displayName)}`;
    }
    res.status(status).type('html').send(
      renderPage({ lang, title, main, branding: o.branding(), path: req.baseUrl + req.path, scripts: ['form-errors.js', 'booking.js'], headerExtra }),
    );
  };

  const limited = async (req: Request, res: Response, limiter: RateLimiter, key: string, json: boolean, lang: Lang): Promise<boolean> => {
    const r = await limiter.hit(key);
    if (r.ok) return false;
    res.setHeader('Retry-After', String(r.retryAfterSec));
    const message = texts(lang).tooMany;
    if (json) res.status(429).type('application/json').send(JSON.stringify({ error: 'rate_limited', message }));
    else sendErrorPage(req, res, 429, message, '', o.branding());
    return true;
  };

  const today = () => {
    const d = now().setZone(ZONE);
    return { year: d.year, month: d.month, day: d.day };
  };

  const localDateOf = (publicIso: string) => publicIso.slice(0, 10);
  const when = (a: Pick<Appointment, 'startUtc' | 'topic'>, lang: Lang) => ({
    when: dateTimeInWords(DateTime.fromISO(a.startUtc, { zone: 'utc' }), lang),
    topic: a.topic,
  });

  async function renderDays(req: Request, res: Response, lang: Lang, topic: string, summary: SummaryItem[], status: number, day?: string) {
    const first = epochDay(today());
    const horizonEnd = first + o.schedule().horizonDays;
    const asked = parseLocalDate(req.query.from);
    const start = Math.min(Math.max(asked ? epochDay(asked) : first, first), horizonEnd);
    const from = formatLocalDate(fromEpochDay(start));
    const to = formatLocalDate(fromEpochDay(start + DAYS_PER_PAGE - 1));
    const byDay = new Map<string, number>();
    for (const s of await service.slots(from, to)) byDay.set(localDateOf(s.start), (byDay.get(localDateOf(s.start)) ?? 0) + 1);
    const days: DayOption[] = [...byDay].map(([date, free]) => ({
      date,
      free,
      label: dateInWords(DateTime.fromISO(date, { zone: ZONE }), lang),
    }));
    const t = texts(lang);
    // Paging keeps the chosen topic, so a visitor without JavaScript does not lose it.
    const pageHref = (epoch: number) => {
      const q = new URLSearchParams({ from: formatLocalDate(fromEpochDay(epoch)) });
      if (topic && config.topics.length > 1) q.set('topic', topic);
      return `${req.baseUrl}?${q.toString()}`;
    };
    page(req, res, status, lang, kcc ? t.titleKcc : t.title, dayChoiceMain({
      lang,
      mode: config.mode,
      action: req.baseUrl,
      topics: config.topics,
      topic,
      days,
      day,
      earlierHref: start > first ? pageHref(Math.max(first, start - DAYS_PER_PAGE)) : undefined,
      laterHref: start + DAYS_PER_PAGE <= horizonEnd ? pageHref(start + DAYS_PER_PAGE) : undefined,
      summary,
    }));
  }

  async function renderTimes(
    req: Request,
    res: Response,
    v: { lang: Lang; topic: string; day: string; values: Values; errors: Record<string, string>; status: number },
  ) {
    const t = texts(v.lang);
    const date = DateTime.fromISO(v.day, { zone: ZONE });
    const dayLabel = dateInWords(date, v.lang);
    const slots = await service.slots(v.day, v.day);
    const times = slots.map((s) => ({ value: s.start.slice(11, 16), clock: s.start.slice(11, 16), datePrefix: `${dayLabel}, ` }));
    const summary: SummaryItem[] = Object.entries(v.errors).map(([field, message]) => ({
      href: field === 'time' && times.length === 0 ? 'time-0' : anchorFor(field),
      message,
    }));
    const back = new URLSearchParams({ day: v.day });
    if (v.topic) back.set('topic', v.topic);
    page(req, res, v.status, v.lang, kcc ? t.titleKcc : t.title, timeFormMain({
      lang: v.lang,
      mode: config.mode,
      action: req.baseUrl,
      csrf: csrf.issue(req, res),
      topic: v.topic,
      showTopic: config.topics.length > 0,
      day: v.day,
      dayLabel,
      changeHref: `${req.baseUrl}?${back.toString()}`,
      times,
      values: v.values,
      phone: config.phone,
      sms: offerSms(),
      privacyUrl: config.privacyUrl,
      errors: v.errors,
      summary,
    }));
  }

  /**
   * The move pages (issue 14, point 3), for the resident's link and the KCC list alike: the days with free times of
   * the next two weeks, or one day's free times (the appointment's own time left out) as a POST form.
   */
  async function renderMove(
    req: Request,
    res: Response,
    v: { lang: Lang; a: Appointment; action: string; home: string; day?: string; summary: SummaryItem[]; status: number; chosenTime?: string },
  ) {
    const t = rescheduleTexts(v.lang);
    const common = { lang: v.lang, kcc, action: v.action, csrf: csrf.issue(req, res), current: when(v.a, v.lang), summary: v.summary, home: v.home };
    const own = (iso: string) => Date.parse(iso) === Date.parse(v.a.startUtc);
    if (v.day) {
      const label = dateInWords(DateTime.fromISO(v.day, { zone: ZONE }), v.lang);
      const times = (await service.slots(v.day, v.day))
        .filter((s) => !own(s.start))
        .map((s) => ({ value: s.start.slice(11, 16), clock: s.start.slice(11, 16), datePrefix: `${label}, ` }));
      return page(req, res, v.status, v.lang, kcc ? t.titleKcc : t.title, rescheduleMain({ ...common, day: { date: v.day, label, times }, chosenTime: v.chosenTime }));
    }
    const first = epochDay(today());
    const last = Math.min(first + DAYS_PER_PAGE - 1, first + o.schedule().horizonDays);
    const byDay = new Map<string, number>();
    for (const s of await service.slots(formatLocalDate(fromEpochDay(first)), formatLocalDate(fromEpochDay(last)))) {
      if (!own(s.start)) byDay.set(localDateOf(s.start), (byDay.get(localDateOf(s.start)) ?? 0) + 1);
    }
    const days: DayOption[] = [...byDay].map(([date, free]) => ({ date, free, label: dateInWords(DateTime.fromISO(date, { zone: ZONE }), v.lang) }));
    return page(req, res, v.status, v.lang, kcc ? t.titleKcc : t.title, rescheduleMain({ ...common, days }));
  }

  /** The day of a move page's query or form; undefined when none was asked, null when it is not a real date. */
  const askedDay = (value: unknown): string | undefined | null => {
    if (value === undefined || value === '') return undefined;
    const d = parseLocalDate(value);
    return d ? formatLocalDate(d) : null;
  };

  /** The instant a move form names (its day and HH:mm in Amsterdam time), or undefined when it names none. */
  const movedStart = (body: Record<string, unknown> | undefined): string | undefined => {
    const day = askedDay(body?.date);
    const time = body?.time;
    if (!day || typeof time !== 'string' || !/^\d{2}:\d{2}$/.test(time)) return undefined;
    const dt = DateTime.fromISO(`${day}T${time}`, { zone: ZONE });
    return dt.isValid ? (dt.toISO() ?? undefined) : undefined;
  };

  /** Runs a move from a form and renders what follows: the moved page, or the same page with the reason. */
  async function postMove(
    req: Request,
    res: Response,
    lang: Lang,
    a: Appointment,
    action: string,
    home: string,
    run: (start: string) => Promise<{ appointment: Appointment; eventId: string; lang: 'nl' | 'en'; previous: { agent: string; startUtc: string; endUtc: string } }>,
    done: (moved: Appointment) => void,
  ) {
    const body = req.body as Record<string, unknown> | undefined;
    const day = askedDay(body?.date) ?? undefined;
    const start = movedStart(body);
    if (!start) {
      return renderMove(req, res, { lang, a, action, home, day: day ?? undefined, summary: [{ href: day ? 'time-0' : 'day-0', message: messageFor('start.required', lang) }], status: 400 });
    }
    try {
      const moved = await run(start);
      emit(appointmentMessage('rescheduled', moved.appointment, moved.lang, moved.eventId, moved.previous));
      done(moved.appointment);
    } catch (e) {
      if (!isUserError(e) || e.code === 'link_invalid' || e.code === 'not_found' || e.code === 'already_cancelled' || e.code === 'appointment_over') throw e;
      // A time that went meanwhile, or one that is not bookable: the same day again, with the reason; nothing moved.
      return renderMove(req, res, { lang, a, action, home, day: day ?? undefined, summary: [{ href: 'time-0', message: messageFor(e.code, lang) }], status: e.status });
    }
  }

  // The form, step by step without JavaScript: topic and day (GET), then time and contact details (POST).
  inner.get('/', asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, o.secure);
    if (await limited(req, res, reads, clientKey(req), false, lang)) return;
    const t = texts(lang);
    const summary: SummaryItem[] = [];
    let topic = config.topics[0] ?? '';
    const qTopic = req.query.topic;
    if (qTopic !== undefined) {
      if (typeof qTopic === 'string' && (config.topics.includes(qTopic) || (config.topics.length === 0 && qTopic === ''))) topic = qTopic;
      else summary.push({ href: 'topic-0', message: messageFor('topic.unknown', lang) });
    }
    const qDay = req.query.day;
    if (qDay !== undefined && summary.length === 0) {
      const d = parseLocalDate(qDay);
      if (d) return renderTimes(req, res, { lang, topic, day: formatLocalDate(d), values: {}, errors: {}, status: 200 });
      summary.push({ href: 'day-0', message: t.badDay });
    }
    return renderDays(req, res, lang, topic, summary, summary.length ? 400 : 200);
  }));

  inner.get('/slots', asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    if (await limited(req, res, reads, clientKey(req), true, lang)) return;
    try {
      res.json(await service.slots(req.query.from as string, req.query.to as string));
    } catch (e) {
      if (!isUserError(e)) throw e;
      sendUserErrorJson(res, e, lang);
    }
  }));

  inner.post('/', ...bodyParsers('16kb'), asyncRoute(async (req, res) => {
    const json = req.is('application/json') === 'application/json';
    const lang = pickLang(req);
    const t = texts(lang);
    // The form goes through "Controleer uw afspraak" first: only step=confirm books. The JSON API books at once.
    const rawStep = (req.body as Record<string, unknown> | undefined)?.step;
    const step: 'review' | 'edit' | 'confirm' = json ? 'confirm' : rawStep === 'confirm' || rawStep === 'edit' ? rawStep : 'review';
    // Looking and changing cost a read; only a real booking attempt counts against the booking limits.
    if (await limited(req, res, step === 'confirm' ? perClient : reads, clientKey(req), json, lang)) return;
    if (json) {
      if (!originAllowed(req, o.publicUrl(), config.corsOrigins)) {
        return res.status(403).type('application/json').send(JSON.stringify({ error: 'forbidden_origin', message: t.forbidden }));
      }
    } else if (!csrf.verify(req)) {
      return sendErrorPage(req, res, 403, t.csrf, '', o.branding());
    }
    const body = req.body as Record<string, unknown>;
    const values: Values = {};
    for (const f of FORM_FIELDS) if (typeof body?.[f] === 'string') values[f] = (body[f] as string).slice(0, 1000);
    const formTopic = typeof body?.topic === 'string' && config.topics.includes(body.topic) ? body.topic : config.topics[0] ?? '';
    const formDay = parseLocalDate(body?.date);

    const fail = async (e: UserError) => {
      if (json) return sendUserErrorJson(res, e, lang);
      const fields = e.fields ?? { start: e.code };
      if (!formDay) {
        return renderDays(req, res, lang, formTopic, [{ href: 'day-0', message: fields.date ? messageFor(fields.date, lang) : e.message }], e.status);
      }
      const errors: Record<string, string> = {};
      for (const [field, code] of Object.entries(fields)) {
        const target = formField(field);
        errors[target] ??= messageFor(code, lang);
      }
      if (e.code === 'slot_taken') errors.time = messageFor('slot_taken', lang);
      if (errors.time) delete values.time;
      return renderTimes(req, res, { lang, topic: formTopic, day: formatLocalDate(formDay), values, errors, status: e.status });
    };

    if (step === 'edit') {
      if (!formDay) return renderDays(req, res, lang, formTopic, [], 200);
      return renderTimes(req, res, { lang, topic: formTopic, day: formatLocalDate(formDay), values, errors: {}, status: 200 });
    }

    let input: BookingInput;
    try {
      input = parseBookingInput(body, {
        topics: config.topics,
        askPhone: config.phone !== 'off',
        requirePhone: config.phone === 'required',
        offerSms: offerSms(),
        extraFields: json ? [] : ['_csrf', 'step'],
      });
    } catch (e) {
      if (isUserError(e)) return fail(e);
      throw e;
    }
    if (step === 'review') {
      // A time that went meanwhile is said now, not after the resident has read the review and pressed confirm.
      const local = DateTime.fromISO(input.start, { zone: 'utc' }).setZone(ZONE);
      const day = local.toFormat('yyyy-MM-dd');
      const free = await service.slots(day, day);
      if (!free.some((s) => Date.parse(s.start) === Date.parse(input.start))) return fail(new UserError(409, 'slot_taken', messageFor('slot_taken', lang)));
      return page(req, res, 200, lang, kcc ? t.reviewTitleKcc : t.reviewTitle, reviewMain({
        lang,
        mode: config.mode,
        action: req.baseUrl,
        csrf: csrf.issue(req, res),
        showTopic: config.topics.length > 0,
        when: dateTimeInWords(DateTime.fromISO(input.start, { zone: 'utc' }), lang),
        values: { topic: input.topic, date: day, time: local.toFormat('HH:mm'), name: input.name, email: input.email, phone: input.phone, remarks: input.remarks },
        phone: config.phone,
        sms: offerSms(),
        ...(input.sms && input.phone ? { smsTo: nationalMobile(input.phone) } : {}),
      }));
    }
    // Per e-mail as well as per address: one resident flooding from many addresses is still one resident.
    if (!kcc && (await limited(req, res, perEmail, emailKey(input.email), json, lang))) return;
    let result;
    try {
      const booked = event({ lang, cancelPath: config.residentPath });
      result = await service.book(
        input,
        kcc ? { channel: 'phone', bookedBy: req.staff?.username ?? null, event: booked } : { channel: 'website', event: booked },
      );
    } catch (e) {
      if (isUserError(e)) return fail(e);
      throw e;
    }
    const a = result.appointment;
    if (!result.duplicate && result.eventId) emit(appointmentMessage('booked', a, lang, result.eventId));
    if (json) {
      const body = appointmentMessage('booked', a, lang).appointment;
      return res.status(result.duplicate ? 200 : 201).json({ id: a.id, start: body.start, end: body.end });
    }
    res.redirect(303, `${req.baseUrl}/bevestiging?ref=${signConfirmationRef(o.hmacKey, a.id, now().toMillis())}`);
  }));

  inner.get('/bevestiging', asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, o.secure);
    const t = texts(lang);
    const id = verifyConfirmationRef(o.hmacKey, req.query.ref, now().toMillis());
    const a = id ? await service.get(id) : null;
    const shown = a && a.status === 'booked' ? a : null;
    const invite = kcc && o.guests && shown ? guestInviteForm(lang, `${req.baseUrl}/afspraken/${shown.id}/gast`, csrf.issue(req, res)) : '';
    page(req, res, shown ? 200 : 404, lang, kcc ? t.confirmedTitleKcc : t.confirmedTitle,
      html`${confirmationMain(lang, config.mode, shown ? when(shown, lang) : null, req.baseUrl, shown?.resident)}${invite}`);
  }));

  if (!kcc) {
    const linkInvalid = (req: Request, res: Response, lang: Lang) => {
      const t = texts(lang);
      page(req, res, 404, lang, t.linkInvalidTitle, html`<h1 class="utrecht-heading-1">${t.linkInvalidTitle}</h1>
<p class="utrecht-paragraph">${messageFor('link_invalid', lang)}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${req.baseUrl}">${t.another}</a></p>`);
    };

    /** The appointment of a cancel/change link's token, or undefined once "link not valid" (404) was answered. */
    const byCancelToken = async (req: Request, res: Response, lang: Lang): Promise<Appointment | undefined> => {
      try {
        return await service.appointmentForCancelToken(req.params.token);
      } catch (e) {
        if (isUserError(e)) return void linkInvalid(req, res, lang);
        throw e;
      }
    };

    // GET only shows what would be cancelled: mail scanners and link previews open links, and must not cancel.
    inner.get('/annuleren/:token', asyncRoute(async (req, res) => {
      const lang = pickLang(req, res, o.secure);
      if (await limited(req, res, reads, clientKey(req), false, lang)) return;
      const a = await byCancelToken(req, res, lang);
      if (!a) return;
      page(req, res, 200, lang, texts(lang).cancelTitle,
        cancelConfirmMain(lang, when(a, lang), `${req.baseUrl}/annuleren/${req.params.token}`, csrf.issue(req, res), req.baseUrl));
    }));

    inner.post('/annuleren/:token', ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      if (await limited(req, res, perClient, clientKey(req), false, lang)) return;
      if (!csrf.verify(req)) return sendErrorPage(req, res, 403, texts(lang).csrf, '', o.branding());
      let cancelled;
      try {
        cancelled = await service.cancelByToken(req.params.token, event({ lang }));
      } catch (e) {
        if (isUserError(e)) return linkInvalid(req, res, lang);
        throw e;
      }
      const a = cancelled.appointment;
      emit(appointmentMessage('cancelled', a, lang, cancelled.eventId));
      page(req, res, 200, lang, texts(lang).cancelledTitle, cancelledMain(lang, when(a, lang), req.baseUrl));
    }));

    // "Afspraak wijzigen" from the mails: GET shows days and times only (scanners open links), POST moves.
    inner.get('/wijzigen/:token', asyncRoute(async (req, res) => {
      const lang = pickLang(req, res, o.secure);
      if (await limited(req, res, reads, clientKey(req), false, lang)) return;
      const a = await byCancelToken(req, res, lang);
      if (!a) return;
      const day = askedDay(req.query.day);
      const action = `${req.baseUrl}/wijzigen/${req.params.token}`;
      if (day === null) return renderMove(req, res, { lang, a, action, home: req.baseUrl, summary: [{ href: 'day-0', message: texts(lang).badDay }], status: 400 });
      return renderMove(req, res, { lang, a, action, home: req.baseUrl, day, summary: [], status: 200 });
    }));

    inner.post('/wijzigen/:token', ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      if (await limited(req, res, perClient, clientKey(req), false, lang)) return;
      if (!csrf.verify(req)) return sendErrorPage(req, res, 403, texts(lang).csrf, '', o.branding());
      const a = await byCancelToken(req, res, lang);
      if (!a) return;
      const action = `${req.baseUrl}/wijzigen/${req.params.token}`;
      try {
        await postMove(req, res, lang, a, action, req.baseUrl,
          (start) => service.rescheduleByToken(req.params.token, start, event({ lang, cancelPath: config.residentPath })),
          (moved) => page(req, res, 200, lang, rescheduleTexts(lang).movedTitle, movedMain(lang, false, when(moved, lang), req.baseUrl)));
      } catch (e) {
        // Used twice, cancelled meanwhile, or over: the link is dead, as for a cancel link.
        if (isUserError(e)) return linkInvalid(req, res, lang);
        throw e;
      }
    }));
  } else {
    inner.get('/afspraken', asyncRoute(async (req, res) => {
      const lang = pickLang(req, res, o.secure);
      const schedule = o.schedule();
      const from = now();
      const to = from.plus({ days: schedule.horizonDays + 2 });
      const names = new Map(schedule.agents.map((a) => [a.username, a.displayName]));
      const all: Appointment[] = [];
      for (const agent of schedule.agents) {
        const list = await service.listForAgent(agent.username, from.toUTC().toISO() as string, to.toUTC().toISO() as string);
        all.push(...list.filter((a) => a.status === 'booked'));
      }
      all.sort((x, y) => (x.startUtc < y.startUtc ? -1 : x.startUtc > y.startUtc ? 1 : 0));
      const rows: UpcomingRow[] = all.slice(0, MAX_UPCOMING).map((a) => ({
        id: a.id,
        when: when(a, lang).when,
        topic: a.topic,
        agent: names.get(a.agent) ?? a.agent,
        resident: a.resident.name,
        channel: a.channel,
      }));
      const notice =
        req.query.geannuleerd === '1' ? texts(lang).cancelledNotice : req.query.verplaatst === '1' ? rescheduleTexts(lang).movedTitleKcc
          : req.query.uitgenodigd === '1' && o.guests ? guestInvitedNotice(lang) : undefined;
      page(req, res, 200, lang, texts(lang).upcomingTitle, upcomingMain(lang, rows, req.baseUrl, csrf.issue(req, res), notice, !!o.guests));
    }));

    inner.post('/afspraken/:id/annuleren', ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      if (await limited(req, res, perClient, clientKey(req), false, lang)) return;
      if (!csrf.verify(req)) return sendErrorPage(req, res, 403, texts(lang).csrf, '', o.branding());
      let cancelled;
      try {
        // No language: the employee's page language is not the resident's; the store takes the booking's.
        cancelled = await service.cancelByStaff(req.params.id, (req.staff as { username: string }).username, event({}));
      } catch (e) {
        if (isUserError(e)) return sendErrorPage(req, res, e.status, messageFor(e.code, lang), '', o.branding());
        throw e;
      }
      emit(appointmentMessage('cancelled', cancelled.appointment, cancelled.lang, cancelled.eventId));
      res.redirect(303, `${req.baseUrl}/afspraken?geannuleerd=1`);
    }));

    if (o.guests) {
      inner.use(guestInviteRoutes({
        guests: o.guests,
        appointment: (id) => service.get(id),
        removeLive: o.guests.removeLive,
        csrf,
        secure: o.secure,
        allowed: async (req, res, lang) => !(await limited(req, res, perClient, clientKey(req), false, lang)),
        page,
        errorPage: (req, res, status, message) => sendErrorPage(req, res, status, message, '', o.branding()),
        when,
      }));
    }

    const staffAppointment = async (req: Request, res: Response, lang: Lang): Promise<Appointment | undefined> => {
      const a = await service.get(String(req.params.id));
      if (a && a.status === 'booked' && Date.parse(a.startUtc) > now().toMillis()) return a;
      const code = !a ? 'not_found' : a.status !== 'booked' ? 'already_cancelled' : 'appointment_over';
      sendErrorPage(req, res, code === 'not_found' ? 404 : 409, messageFor(code, lang), '', o.branding());
      return undefined;
    };

    inner.get('/afspraken/:id/wijzigen', asyncRoute(async (req, res) => {
      const lang = pickLang(req, res, o.secure);
      if (await limited(req, res, reads, clientKey(req), false, lang)) return;
      const a = await staffAppointment(req, res, lang);
      if (!a) return;
      const day = askedDay(req.query.day);
      const action = `${req.baseUrl}/afspraken/${a.id}/wijzigen`;
      const home = `${req.baseUrl}/afspraken`;
      if (day === null) return renderMove(req, res, { lang, a, action, home, summary: [{ href: 'day-0', message: texts(lang).badDay }], status: 400 });
      return renderMove(req, res, { lang, a, action, home, day, summary: [], status: 200 });
    }));

    inner.post('/afspraken/:id/wijzigen', ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      if (await limited(req, res, perClient, clientKey(req), false, lang)) return;
      if (!csrf.verify(req)) return sendErrorPage(req, res, 403, texts(lang).csrf, '', o.branding());
      const a = await staffAppointment(req, res, lang);
      if (!a) return;
      try {
        await postMove(req, res, lang, a, `${req.baseUrl}/afspraken/${a.id}/wijzigen`, `${req.baseUrl}/afspraken`,
          // No language: the employee's page language is not the resident's; the store takes the booking's.
          (start) => service.rescheduleByStaff(a.id, (req.staff as { username: string }).username, start, event({ cancelPath: config.residentPath })),
          () => res.redirect(303, `${req.baseUrl}/afspraken?verplaatst=1`));
      } catch (e) {
        if (isUserError(e)) return sendErrorPage(req, res, e.status, messageFor(e.code, lang), '', o.branding());
        throw e;
      }
    }));
  }

  // A database that cannot write (read-only, full, locked too long) is a temporary outage, not a bug: a plain 503 with
  // Retry-After and no details, which the error handler below renders without a log line per request.
  inner.use(((err, req, res, next) => {
    if (!isStoreFault(err)) return next(err);
    res.setHeader('Retry-After', '30');
    next(new UserError(503, 'store_unavailable', messageFor('store_unavailable', pickLang(req))));
  }) as express.ErrorRequestHandler);

  // The error handler logs the path with token-like runs redacted (lib/http/errors.ts loggablePath).
  inner.use(errorHandler({ log: o.log, branding: o.branding }));

  function emit(e: AppointmentMessage) {
    try {
      o.onEvent(e);
    } catch (err) {
      // The booking stands whatever a downstream node does; the flow's Catch node sees the node's own error.
      o.log(`booking event could not be sent: ${(err as Error).name}`);
    }
  }

  const outer = express.Router();
  outer.use(config.path, inner);
  return outer;
}

function sendUserErrorJson(res: Response, e: UserError, lang: Lang): void {
  const body: Record<string, unknown> = { error: e.code, message: messageFor(e.code, lang) };
  if (e.fields) {
    body.fields = fieldMessages(e.fields, lang);
    body.codes = e.fields;
  }
  res.status(e.status).type('application/json').setHeader('Cache-Control', 'no-store');
  res.send(JSON.stringify(body));
}
