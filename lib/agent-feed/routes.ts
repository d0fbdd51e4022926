import express, { type RequestHandler, type Router } from 'express';
import { DateTime } from 'luxon';
import type { AppointmentStore } from '../appointments/store';
import { CSRF_FIELD, type Csrf } from '../http/csrf';
import { sendErrorPage } from '../http/errors';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { clientKey, createRateLimiter } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, securityHeaders } from '../http/security';
import { dateTimeInWords } from '../mail/when';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import { logoutForm } from '../staff/login-page';
import { agentFeed, type AgentFeedStore } from './feed';

const TEXT = {
  nl: {
    title: 'Agenda-abonnement',
    intro: 'Met een agenda-abonnement ziet u uw video-afspraken in Outlook of een andere agenda. Het abonnement toont alleen de tijden, het onderwerp en een link naar het dashboard: geen gegevens van inwoners en geen link naar het gesprek.',
    none: 'U heeft nog geen agenda-abonnement.',
    active: (since: string) => `U heeft een agenda-abonnement sinds ${since}.`,
    create: 'Agenda-link maken',
    renew: 'Nieuwe agenda-link maken (de oude werkt dan niet meer)',
    revoke: 'Agenda-link intrekken',
    revoked: 'De agenda-link is ingetrokken. Agenda\'s die hem gebruikten, krijgen geen afspraken meer.',
    made: 'Uw nieuwe agenda-link',
    madeHelp: 'Voeg deze link in uw agenda toe als abonnement ("Agenda toevoegen" → "Van internet"). U ziet hem maar één keer: bewaar hem niet ergens anders en deel hem met niemand. Wie de link heeft, ziet uw afspraaktijden.',
    linkLabel: 'Agenda-link',
    back: 'Terug naar het dashboard',
    csrf: 'Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.',
    invalidTitle: 'Agenda-link ongeldig',
    invalid: 'Deze agenda-link is ongeldig of ingetrokken.',
  },
  en: {
    title: 'Calendar subscription',
    intro: 'With a calendar subscription you see your video appointments in Outlook or another calendar. It shows only the times, the topic and a link to the dashboard: no resident details and no link to the call.',
    none: 'You have no calendar subscription yet.',
    active: (since: string) => `You have had a calendar subscription since ${since}.`,
    create: 'Make a calendar link',
    renew: 'Make a new calendar link (the old one stops working)',
    revoke: 'Revoke the calendar link',
    revoked: 'The calendar link has been revoked. Calendars that used it get no appointments any more.',
    made: 'Your new calendar link',
    madeHelp: 'Add this link to your calendar as a subscription ("Add calendar" → "From internet"). It is shown only once: do not store it elsewhere and do not share it. Anyone with the link sees your appointment times.',
    linkLabel: 'Calendar link',
    back: 'Back to the dashboard',
    csrf: 'The form has expired. Reload the page and try again.',
    invalidTitle: 'Calendar link invalid',
    invalid: 'This calendar link is invalid or has been revoked.',
  },
} as const;

export interface AgentFeedRoutesOptions {
  feeds: AgentFeedStore;
  appointments: Pick<AppointmentStore, 'listForAgent'>;
  requireAgent: RequestHandler;
  csrf: Csrf;
  secure: boolean;
  branding: () => Branding;
  /** The public base URL (no trailing slash): the feed link and the dashboard link in it. */
  publicUrl: () => string;
  now?: () => Date;
}

/** How far the feed reaches: a month back (recent history in the calendar), three months ahead. */
const BACK_MS = 31 * 24 * 3600_000;
const AHEAD_MS = 92 * 24 * 3600_000;

/**
 * The agent's calendar feed (issue 14, point 7): `GET /agent/agenda` (make, renew or revoke the secret link; the
 * agent role), and `GET /agenda.ics?access_token=<token>` (the feed, no sign-in; the token is 256 bits from the
 * CSPRNG, stored as its SHA-256 hash, compared in constant time, and masked in the shipped nginx access log like
 * every `access_token`). Renewing replaces the token, so the old link stops at once.
 */
export function agentFeedRouter(o: AgentFeedRoutesOptions): Router {
  const now = o.now ?? (() => new Date());
  const guessing = createRateLimiter({ windowMs: 60_000, max: 60 });
  const r = express.Router();
  const guard = [securityHeaders({ frameAncestors: "'none'" }), noStore, o.requireAgent];

  const page = async (req: express.Request, res: express.Response, lang: Lang, extra: SafeHtml | '' = '', status = 200) => {
    const t = TEXT[lang];
    const username = req.staff!.username;
    const since = await o.feeds.createdAt(username);
    const csrf = o.csrf.issue(req, res);
    const form = (action: string, label: string, danger = false) => html`<form method="post" action="${req.baseUrl}${action}" class="idv-form">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<button type="submit" class="utrecht-button ${danger ? 'utrecht-button--secondary-action' : 'utrecht-button--primary-action'}">${label}</button>
</form>`;
    res.status(status).type('html').send(
      renderPage({
        lang,
        title: t.title,
        branding: o.branding(),
        path: req.baseUrl + req.path,
        headerExtra: logoutForm(lang, csrf, req.staff!.displayName, req.baseUrl),
        main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
${extra}
<p class="utrecht-paragraph">${t.intro}</p>
<p class="utrecht-paragraph">${since ? t.active(dateTimeInWords(DateTime.fromISO(since, { zone: 'utc' }), lang)) : t.none}</p>
${form('/agent/agenda', since ? t.renew : t.create)}
${since ? form('/agent/agenda/intrekken', t.revoke, true) : ''}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${req.baseUrl}/agent">${t.back}</a></p>`,
      }),
    );
  };

  r.get('/agent/agenda', ...guard, asyncRoute(async (req, res) => page(req, res, pickLang(req, res, o.secure))));

  r.post('/agent/agenda', ...guard, ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    if (!o.csrf.verify(req)) return sendErrorPage(req, res, 403, TEXT[lang].csrf, '', o.branding());
    const token = newToken();
    await o.feeds.replace(req.staff!.username, hashToken(token), now().toISOString());
    const link = `${o.publicUrl()}${req.baseUrl}/agenda.ics?access_token=${token}`;
    const t = TEXT[lang];
    await page(req, res, lang, html`<div class="utrecht-alert utrecht-alert--ok" role="status">
<h2 class="utrecht-heading-2">${t.made}</h2>
<div class="utrecht-form-field utrecht-form-field--text"><label class="utrecht-form-label" for="feed-link">${t.linkLabel}</label>
<input class="utrecht-textbox utrecht-textbox--html-input" id="feed-link" type="text" readonly value="${link}" aria-describedby="feed-help"></div>
<p class="utrecht-paragraph" id="feed-help">${t.madeHelp}</p></div>`);
  }));

  r.post('/agent/agenda/intrekken', ...guard, ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    if (!o.csrf.verify(req)) return sendErrorPage(req, res, 403, TEXT[lang].csrf, '', o.branding());
    await o.feeds.revoke(req.staff!.username);
    await page(req, res, lang, html`<div class="utrecht-alert utrecht-alert--ok" role="status"><p class="utrecht-paragraph">${TEXT[lang].revoked}</p></div>`);
  }));

  r.get('/agenda.ics', securityHeaders({ frameAncestors: "'none'" }), noStore, asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    const limit = await guessing.hit(clientKey(req));
    if (!limit.ok) {
      res.setHeader('Retry-After', String(limit.retryAfterSec));
      return sendErrorPage(req, res, 429, TEXT[lang].invalidTitle, TEXT[lang].invalid, o.branding());
    }
    const token = req.query.access_token;
    const found = looksLikeToken(token) ? await o.feeds.find(hashToken(token)) : undefined;
    // One answer for malformed, unknown and revoked tokens.
    if (!found || !safeEqual(found.tokenHash, hashToken(token as string))) {
      return sendErrorPage(req, res, 404, TEXT[lang].invalidTitle, TEXT[lang].invalid, o.branding());
    }
    const t = now();
    const list = await o.appointments.listForAgent(found.username, new Date(t.getTime() - BACK_MS).toISOString(), new Date(t.getTime() + AHEAD_MS).toISOString());
    const base = o.publicUrl();
    res.type('text/calendar; charset=utf-8').send(agentFeed(list, { host: new URL(base).hostname, dashboardUrl: `${base}${req.baseUrl}/agent`, lang: 'nl', now: t }));
  }));
  return r;
}
