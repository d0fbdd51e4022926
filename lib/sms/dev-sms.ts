import express, { type Request, type Response, type Router } from 'express';
import { linkify } from '../access/dev-mail';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage } from '../http/layout';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import type { Services } from '../services';
import { ZONE } from '../zone';
import { countSegments } from './gsm7';
import { nationalMobile } from './phone';
import { smsCatcherOf } from './service';

const TEXT = {
  nl: {
    title: 'Opgevangen sms (demo)',
    intro:
      'In de demomodus gaat een sms niet de deur uit: een sms-gateway met de instelling "demo" vangt hem op en toont hem hier. Zo ziet u wat een inwoner zou ontvangen.',
    none: 'Er is nog geen sms opgevangen. Maak een afspraak met "Stuur mij een sms" aangevinkt en ververs deze pagina.',
    caption: 'Opgevangen sms-berichten, nieuwste eerst',
    date: 'Ontvangen',
    to: 'Aan',
    text: 'Tekst',
    parts: 'Delen',
  },
  en: {
    title: 'Caught SMS (demo)',
    intro: 'In demo mode an SMS does not leave this machine: an SMS gateway with the preset "demo" keeps it and shows it here, so you see what a resident would receive.',
    none: 'No SMS has been caught yet. Book an appointment with "Send me a text message" ticked and reload this page.',
    caption: 'Caught text messages, newest first',
    date: 'Received',
    to: 'To',
    text: 'Text',
    parts: 'Parts',
  },
};

function when(iso: string, lang: Lang): string {
  return new Date(iso).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: ZONE, dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * /dev/sms: the demo SMS catcher's list for signed-in staff (any role), as /dev/mail is for mail. Mounted in demo
 * mode only (lib/access/routes.ts), so in production the route does not exist. The SMS hold a number and an access
 * link: a sign-in is required even in demo mode, and the page is never cached.
 */
export function devSmsRouter(services: Services): Router {
  const router = express.Router();
  const guard = [securityHeaders(), noStore, services.staff.requireStaff()];
  router.get('/dev/sms', ...guard, asyncRoute(async (req: Request, res: Response) => {
    const lang = pickLang(req, res, services.secure);
    const t = TEXT[lang];
    const list = smsCatcherOf(services).list();
    const rows = list.map(
      (m) => html`<tr class="utrecht-table__row">
<td class="utrecht-table__cell">${when(m.receivedAt, lang)}</td>
<td class="utrecht-table__cell">${nationalMobile(m.to)}</td>
<td class="utrecht-table__cell idv-sms-text">${linkify(m.text)}</td>
<td class="utrecht-table__cell">${String(countSegments(m.text).segments)}</td>
</tr>`,
    );
    const table: SafeHtml = list.length
      ? html`<div class="idv-table-wrap" role="region" aria-label="${t.caption}" tabindex="0"><table class="utrecht-table idv-table">
<caption class="utrecht-table__caption">${t.caption}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row">
<th class="utrecht-table__header-cell" scope="col">${t.date}</th><th class="utrecht-table__header-cell" scope="col">${t.to}</th>
<th class="utrecht-table__header-cell" scope="col">${t.text}</th><th class="utrecht-table__header-cell" scope="col">${t.parts}</th>
</tr></thead>
<tbody class="utrecht-table__body">${rows}</tbody>
</table></div>`
      : html`<p class="utrecht-paragraph">${t.none}</p>`;
    const main = html`<h1 class="utrecht-heading-1">${t.title}</h1><p class="utrecht-paragraph">${t.intro}</p>${table}`;
    res.status(200).type('html').send(renderPage({ lang, title: t.title, branding: services.branding(), path: req.baseUrl + req.path, main }));
  }));
  return router;
}
