import express, { type Request, type Response, type Router } from 'express';
import type { CaughtMail } from '../mail/catcher';
import { dataList } from '../http/components';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage } from '../http/layout';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import type { MailService } from '../mail-service';
import type { Services } from '../services';
import { ZONE } from '../zone';

const TEXT = {
  nl: {
    title: 'Opgevangen e-mail (demo)',
    intro: 'In de demomodus gaat e-mail niet de deur uit: de ingebouwde mailcatcher vangt hem op en toont hem hier.',
    elsewhere: (d: string) => `E-mail gaat nu naar ${d}; hier wordt niets opgevangen.`,
    none: 'Er is nog geen e-mail opgevangen. Maak een afspraak en ververs deze pagina.',
    from: 'Van',
    to: 'Aan',
    subject: 'Onderwerp',
    date: 'Datum',
    back: 'Terug naar de lijst',
    invite: 'Agenda-uitnodiging (.ics)',
    notFound: 'Deze e-mail is er niet (meer)',
    caption: 'Opgevangen e-mails, nieuwste eerst',
  },
  en: {
    title: 'Caught e-mail (demo)',
    intro: 'In demo mode e-mail does not leave this machine: the built-in mail catcher keeps it and shows it here.',
    elsewhere: (d: string) => `E-mail now goes to ${d}; nothing is caught here.`,
    none: 'No e-mail has been caught yet. Book an appointment and reload this page.',
    from: 'From',
    to: 'To',
    subject: 'Subject',
    date: 'Date',
    back: 'Back to the list',
    invite: 'Calendar invite (.ics)',
    notFound: 'This e-mail does not exist (any more)',
    caption: 'Caught e-mails, newest first',
  },
};

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/g;

/** Plain text, escaped, with its http(s) URLs as links (so the demo user can click the access link). */
export function linkify(text: string): SafeHtml {
  const parts: (string | SafeHtml)[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    // Sentence punctuation after a URL is not part of it.
    const url = m[0].replace(/[.,;:!?)]+$/, '');
    const at = m.index ?? 0;
    parts.push(text.slice(last, at), html`<a class="utrecht-link" href="${url}" rel="noreferrer">${url}</a>`);
    last = at + url.length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

function when(iso: string | undefined, lang: Lang): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: ZONE, dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * /dev/mail: the demo mail catcher's inbox for signed-in staff (any role). Mounted in demo mode only; the mails hold
 * personal data, so even there a sign-in is required and the HTML part is never rendered (only the escaped text).
 */
export function devMailRouter(services: Services, mail: MailService): Router {
  const router = express.Router();
  const guard = [securityHeaders(), noStore, services.staff.requireStaff()];

  const send = (req: Request, res: Response, status: number, lang: Lang, title: string, main: SafeHtml) => {
    res.status(status).type('html').send(renderPage({ lang, title, branding: services.branding(), path: req.baseUrl + req.path, main }));
  };

  router.get('/dev/mail', ...guard, asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, services.secure);
    const t = TEXT[lang];
    const catcher = await mail.catcher();
    if (!catcher) {
      return send(req, res, 200, lang, t.title, html`<h1 class="utrecht-heading-1">${t.title}</h1><p class="utrecht-paragraph">${t.elsewhere(mail.destination())}</p>`);
    }
    const list = catcher.list();
    const rows = list.map(
      (m) => html`<tr class="utrecht-table__row">
<td class="utrecht-table__cell">${when(m.date ?? m.receivedAt, lang)}</td>
<td class="utrecht-table__cell">${m.from}</td>
<td class="utrecht-table__cell">${m.to.join(', ')}</td>
<td class="utrecht-table__cell"><a class="utrecht-link" href="/dev/mail/${m.id}">${m.subject || '(…)'}</a></td>
</tr>`,
    );
    const table = list.length
      ? html`<div class="idv-table-wrap" role="region" aria-label="${t.caption}" tabindex="0"><table class="utrecht-table idv-table">
<caption class="utrecht-table__caption">${t.caption}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row">
<th class="utrecht-table__header-cell" scope="col">${t.date}</th><th class="utrecht-table__header-cell" scope="col">${t.from}</th>
<th class="utrecht-table__header-cell" scope="col">${t.to}</th><th class="utrecht-table__header-cell" scope="col">${t.subject}</th>
</tr></thead>
<tbody class="utrecht-table__body">${rows}</tbody>
</table></div>`
      : html`<p class="utrecht-paragraph">${t.none}</p>`;
    send(req, res, 200, lang, t.title, html`<h1 class="utrecht-heading-1">${t.title}</h1><p class="utrecht-paragraph">${t.intro}</p>${table}`);
  }));

  router.get('/dev/mail/:id', ...guard, asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, services.secure);
    const t = TEXT[lang];
    const catcher = await mail.catcher();
    const id = req.params.id;
    const m: CaughtMail | undefined = catcher && ID.test(id) ? catcher.get(id) : undefined;
    const back = html`<p class="utrecht-paragraph"><a class="utrecht-link" href="/dev/mail">${t.back}</a></p>`;
    if (!m) return send(req, res, 404, lang, t.notFound, html`<h1 class="utrecht-heading-1">${t.notFound}</h1>${back}`);
    send(req, res, 200, lang, m.subject || t.title, html`<h1 class="utrecht-heading-1">${m.subject}</h1>
${dataList([[t.from, m.from], [t.to, m.to.join(', ')], [t.date, when(m.date ?? m.receivedAt, lang)]], 'idv-mail-headers')}
<pre class="idv-mail-text">${linkify(m.text)}</pre>
${m.calendar ? html`<h2 class="utrecht-heading-2">${t.invite}</h2><pre class="idv-mail-text">${m.calendar}</pre>` : ''}
${back}`);
  }));

  return router;
}
