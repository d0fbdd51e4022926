import express, { type RequestHandler, type Router } from 'express';
import { DateTime } from 'luxon';
import { parseLocalDate, formatLocalDate } from '../appointments/calendar';
import { sendErrorPage } from '../http/errors';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { asyncRoute, noStore, securityHeaders } from '../http/security';
import type { Csrf } from '../http/csrf';
import { logoutForm } from '../staff/login-page';
import { ZONE } from '../time';
import { aggregate, shownCount, shownMedian, SUPPRESS_BELOW } from './aggregate';
import type { CountRow, DurationRow, Period, QualityRow, StatisticsStore } from './types';

const TEXT = {
  nl: {
    title: 'Statistiek videobellen',
    intro: (n: number) => `Alleen totalen: geen namen, adressen of BSN's. Aantallen van 1 tot ${n - 1} staan er als "< ${n}", zodat geen cel naar één inwoner wijst.`,
    filter: 'Periode kiezen',
    from: 'Van',
    to: 'Tot en met',
    per: 'Per',
    day: 'dag',
    week: 'week',
    show: 'Tonen',
    csv: 'Download als CSV',
    period: 'Periode',
    total: 'Totaal',
    bookingsByChannel: 'Afspraken gemaakt, per kanaal',
    bookingsByTopic: 'Afspraken gemaakt, per onderwerp',
    cancellations: 'Annuleringen, door wie',
    moved: 'Verplaatste afspraken (op de nieuwe datum)',
    outcomes: 'Afloop van afspraken',
    waiting: 'Wachttijd in de wachtkamer (mediaan, min:sec)',
    callDuration: 'Duur van het gesprek (mediaan, min:sec)',
    identificationRequests: 'Identificatie: gekozen methode',
    identificationSuccesses: 'Identificatie: gelukt, per methode',
    medianOf: 'Aantal',
    median: 'Mediaan',
    none: 'Geen gegevens in deze periode.',
    chart: 'Afspraken gemaakt per periode (staafdiagram; de tabel eronder bevat dezelfde cijfers)',
    hidden: 'niet getoond',
    quality: 'Verbindingskwaliteit per kant (aandeel van de gesprekstijd)',
    side: 'Kant',
    calls: 'Gesprekken',
    good: 'Goed',
    poor: 'Matig of slecht',
    noMedia: 'Geen beeld en geluid',
    qualityNote: 'De pagina van het gesprek meet pakketverlies en vertraging; bewaard wordt per gesprek en per kant alleen hoe lang de verbinding goed, matig of slecht was of zonder beeld en geluid. Bij minder dan 5 gesprekken staan de aandelen er niet.',
    bad: 'Kies een geldige periode van hoogstens 366 dagen, met "van" niet na "tot en met".',
    keys: { website: 'website', phone: 'telefoon (KCC)', resident: 'inwoner', staff: 'medewerker', agent: 'medewerker', moved: 'verplaatst', completed: 'afgerond', resident_no_show: 'inwoner niet gekomen', agent_no_show: 'medewerker niet gekomen', cancelled: 'geannuleerd' } as Record<string, string>,
  },
  en: {
    title: 'Video calling statistics',
    intro: (n: number) => `Totals only: no names, addresses or citizen service numbers. Counts from 1 to ${n - 1} show as "< ${n}", so that no cell points at one resident.`,
    filter: 'Choose a period',
    from: 'From',
    to: 'Up to and including',
    per: 'Per',
    day: 'day',
    week: 'week',
    show: 'Show',
    csv: 'Download as CSV',
    period: 'Period',
    total: 'Total',
    bookingsByChannel: 'Appointments made, by channel',
    bookingsByTopic: 'Appointments made, by topic',
    cancellations: 'Cancellations, by whom',
    moved: 'Moved appointments (on their new date)',
    outcomes: 'How appointments ended',
    waiting: 'Waiting time in the waiting room (median, min:sec)',
    callDuration: 'Call duration (median, min:sec)',
    identificationRequests: 'Identification: method chosen',
    identificationSuccesses: 'Identification: succeeded, by method',
    medianOf: 'Count',
    median: 'Median',
    none: 'No data in this period.',
    chart: 'Appointments made per period (bar chart; the table below holds the same figures)',
    hidden: 'not shown',
    quality: 'Connection quality per side (share of the call time)',
    side: 'Side',
    calls: 'Calls',
    good: 'Good',
    poor: 'Fair or poor',
    noMedia: 'No picture or sound',
    qualityNote: 'The call page measures packet loss and delay; per call and per side only how long the connection was good, fair or poor, or without picture and sound is kept. With fewer than 5 calls the shares are not shown.',
    bad: 'Choose a valid period of at most 366 days, with "from" not after "up to".',
    keys: { website: 'website', phone: 'phone (KCC)', resident: 'resident', staff: 'employee', agent: 'employee', moved: 'moved', completed: 'completed', resident_no_show: 'resident did not come', agent_no_show: 'employee did not come', cancelled: 'cancelled' } as Record<string, string>,
  },
} as const;

export interface StatisticsRoutesOptions {
  store: StatisticsStore;
  requireManager: RequestHandler;
  csrf: Csrf;
  secure: boolean;
  branding: () => Branding;
  now?: () => Date;
}

const COUNT_TABLES = ['bookingsByChannel', 'bookingsByTopic', 'cancellations', 'moved', 'outcomes', 'identificationRequests', 'identificationSuccesses'] as const;
const DURATION_TABLES = ['waiting', 'callDuration'] as const;

/** A period query: local dates (inclusive) and day or week; 400 for anything else. */
function parseQuery(q: Record<string, unknown>, today: DateTime): { from: string; to: string; period: Period } | undefined {
  const per = q.per === undefined || q.per === '' ? 'week' : q.per === 'dag' || q.per === 'day' ? 'day' : q.per === 'week' ? 'week' : undefined;
  const to = q.tot === undefined || q.tot === '' ? today.toFormat('yyyy-MM-dd') : parseLocalDate(q.tot) ? formatLocalDate(parseLocalDate(q.tot)!) : undefined;
  const from = q.van === undefined || q.van === '' ? today.minus({ weeks: 8 }).startOf('week').toFormat('yyyy-MM-dd') : parseLocalDate(q.van) ? formatLocalDate(parseLocalDate(q.van)!) : undefined;
  if (!per || !from || !to || from > to) return undefined;
  const days = DateTime.fromISO(to, { zone: ZONE }).diff(DateTime.fromISO(from, { zone: ZONE }), 'days').days;
  if (days > 366) return undefined;
  return { from, to, period: per };
}

function csvCell(v: string): string {
  // Formula characters first (a spreadsheet must not run a topic as a formula), then quotes.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The manager's statistics (issue 14, point 6): `GET /statistiek` (role `manager`) with a period form (GET, works
 * without JavaScript), accessible tables with a caption and header cells, one SVG bar chart whose figures are in the
 * table beside it, and `?formaat=csv` for the same figures. Counts of 1-4 and medians of fewer than 5 calls are never
 * shown or exported.
 */
export function statisticsRouter(o: StatisticsRoutesOptions): Router {
  const now = o.now ?? (() => new Date());
  const r = express.Router();
  const guard = [securityHeaders({ frameAncestors: "'none'" }), noStore, o.requireManager];

  r.get('/statistiek', ...guard, asyncRoute(async (req, res) => {
    const lang: Lang = pickLang(req, res, o.secure);
    const t = TEXT[lang];
    const today = DateTime.fromJSDate(now()).setZone(ZONE).startOf('day');
    const q = parseQuery(req.query as Record<string, unknown>, today);
    if (!q) return sendErrorPage(req, res, 400, t.title, t.bad, o.branding());
    const fromUtc = DateTime.fromISO(q.from, { zone: ZONE }).toUTC().toISO() as string;
    const toUtc = DateTime.fromISO(q.to, { zone: ZONE }).plus({ days: 1 }).toUTC().toISO() as string;
    const stats = aggregate(await o.store.facts(new Date(fromUtc).toISOString(), new Date(toUtc).toISOString()), q.period);
    const label = (k: string) => t.keys[k] ?? k;

    if (req.query.formaat === 'csv') {
      const lines = ['table,period,key,value'];
      for (const name of COUNT_TABLES) for (const row of stats[name]) lines.push([name, row.period, label(row.key), shownCount(row.count).replace(' ', '')].map(csvCell).join(','));
      for (const name of DURATION_TABLES) {
        for (const row of stats[name]) lines.push([name, row.period, 'median_seconds', row.count < SUPPRESS_BELOW ? '' : String(row.medianSeconds)].map(csvCell).join(','));
      }
      for (const row of stats.quality) {
        const shown = row.calls >= SUPPRESS_BELOW;
        for (const [key, pct] of [['calls', undefined], ['good_pct', row.goodPct], ['poor_pct', row.poorPct], ['no_media_pct', row.nonePct]] as const) {
          const value = pct === undefined ? shownCount(row.calls).replace(' ', '') : shown ? String(pct) : '';
          lines.push(['quality', row.period, `${row.side}_${key}`, value].map(csvCell).join(','));
        }
      }
      res.setHeader('Content-Disposition', `attachment; filename="statistiek-${q.from}-${q.to}.csv"`);
      return res.type('text/csv; charset=utf-8').send(`${lines.join('\r\n')}\r\n`);
    }

    const countTable = (id: string, caption: string, rows: CountRow[]): SafeHtml => {
      if (!rows.length) return html`<h2 class="utrecht-heading-2" id="${id}">${caption}</h2><p class="utrecht-paragraph">${t.none}</p>`;
      const keys = [...new Set(rows.map((x) => x.key))].sort();
      const periods = [...new Set(rows.map((x) => x.period))].sort();
      const cell = (p: string, k: string) => rows.find((x) => x.period === p && x.key === k)?.count ?? 0;
      return html`<h2 class="utrecht-heading-2" id="${id}">${caption}</h2>
<div class="idv-table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="utrecht-table idv-table">
<caption class="idv-visually-hidden">${caption}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">${t.period}</th>${keys.map((k) => html`<th class="utrecht-table__header-cell" scope="col">${label(k)}</th>`)}</tr></thead>
<tbody class="utrecht-table__body">${periods.map((p) => html`<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">${p}</th>${keys.map((k) => html`<td class="utrecht-table__cell utrecht-table__cell--numeric">${shownCount(cell(p, k))}</td>`)}</tr>`)}</tbody>
</table></div>`;
    };
    const durationTable = (id: string, caption: string, rows: DurationRow[]): SafeHtml => {
      if (!rows.length) return html`<h2 class="utrecht-heading-2" id="${id}">${caption}</h2><p class="utrecht-paragraph">${t.none}</p>`;
      return html`<h2 class="utrecht-heading-2" id="${id}">${caption}</h2>
<div class="idv-table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="utrecht-table idv-table">
<caption class="idv-visually-hidden">${caption}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">${t.period}</th><th class="utrecht-table__header-cell" scope="col">${t.medianOf}</th><th class="utrecht-table__header-cell" scope="col">${t.median}</th></tr></thead>
<tbody class="utrecht-table__body">${rows.map((x) => html`<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">${x.period}</th><td class="utrecht-table__cell utrecht-table__cell--numeric">${shownCount(x.count)}</td><td class="utrecht-table__cell utrecht-table__cell--numeric">${shownMedian(x) ?? t.hidden}</td></tr>`)}</tbody>
</table></div>`;
    };

    const qualityTable = (id: string, rows: QualityRow[]): SafeHtml => {
      if (!rows.length) return html`<h2 class="utrecht-heading-2" id="${id}">${t.quality}</h2><p class="utrecht-paragraph">${t.none}</p>`;
      const pct = (row: QualityRow, n: number) => (row.calls >= SUPPRESS_BELOW ? `${n} %` : t.hidden);
      const head = [t.side, t.calls, t.good, t.poor, t.noMedia];
      return html`<h2 class="utrecht-heading-2" id="${id}">${t.quality}</h2>
<div class="idv-table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="utrecht-table idv-table">
<caption class="idv-visually-hidden">${t.quality}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">${t.period}</th>${head.map((h) => html`<th class="utrecht-table__header-cell" scope="col">${h}</th>`)}</tr></thead>
<tbody class="utrecht-table__body">${rows.map((x) => html`<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">${x.period}</th><td class="utrecht-table__cell">${label(x.side)}</td><td class="utrecht-table__cell utrecht-table__cell--numeric">${shownCount(x.calls)}</td><td class="utrecht-table__cell utrecht-table__cell--numeric">${pct(x, x.goodPct)}</td><td class="utrecht-table__cell utrecht-table__cell--numeric">${pct(x, x.poorPct)}</td><td class="utrecht-table__cell utrecht-table__cell--numeric">${pct(x, x.nonePct)}</td></tr>`)}</tbody>
</table></div>
<p class="utrecht-paragraph">${t.qualityNote}</p>`;
    };

    // Bookings per period as bars; a suppressed count gets no bar (its height would tell the number).
    const totals = new Map<string, number>();
    for (const row of stats.bookingsByChannel) totals.set(row.period, (totals.get(row.period) ?? 0) + row.count);
    const bars = [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const max = Math.max(SUPPRESS_BELOW, ...bars.map(([, n]) => n));
    const width = 40;
    const chart = bars.length
      ? html`<figure class="idv-chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" viewBox="0 0 ${bars.length * width + 10} 130" width="100%" height="160" class="idv-chart-svg">
<title id="chart-title">${t.chart}</title>
${bars.map(([p, n], i) => {
  const h = n >= SUPPRESS_BELOW ? Math.round((n / max) * 100) : 0;
  return html`<g><rect x="${i * width + 8}" y="${110 - h}" width="${width - 12}" height="${h}" class="idv-chart-bar"></rect><text x="${i * width + 8 + (width - 12) / 2}" y="${105 - h}" text-anchor="middle" class="idv-chart-label">${shownCount(n)}</text><text x="${i * width + 8 + (width - 12) / 2}" y="125" text-anchor="middle" class="idv-chart-axis">${p.slice(5)}</text></g>`;
})}
</svg><figcaption class="utrecht-paragraph">${t.chart}</figcaption></figure>`
      : '';
    const csvHref = `${req.baseUrl}/statistiek?${new URLSearchParams({ van: q.from, tot: q.to, per: q.period === 'day' ? 'dag' : 'week', formaat: 'csv' }).toString()}`;
    res.type('html').send(
      renderPage({
        lang,
        title: t.title,
        branding: o.branding(),
        path: req.baseUrl + req.path,
        headerExtra: logoutForm(lang, o.csrf.issue(req, res), req.staff!.displayName, req.baseUrl),
        main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
<p class="utrecht-paragraph">${t.intro(SUPPRESS_BELOW)}</p>
<form method="get" action="${req.baseUrl}/statistiek" class="idv-form idv-stat-filter">
<fieldset class="utrecht-form-fieldset idv-fieldset"><legend class="utrecht-form-fieldset__legend">${t.filter}</legend>
<div class="utrecht-form-field utrecht-form-field--text"><label class="utrecht-form-label" for="van">${t.from}</label>
<input class="utrecht-textbox utrecht-textbox--html-input" type="date" id="van" name="van" value="${q.from}"></div>
<div class="utrecht-form-field utrecht-form-field--text"><label class="utrecht-form-label" for="tot">${t.to}</label>
<input class="utrecht-textbox utrecht-textbox--html-input" type="date" id="tot" name="tot" value="${q.to}"></div>
<div class="utrecht-form-field"><label class="utrecht-form-label" for="per">${t.per}</label>
<select class="utrecht-select utrecht-select--html-select" id="per" name="per"><option value="week"${q.period === 'week' ? html` selected` : ''}>${t.week}</option><option value="dag"${q.period === 'day' ? html` selected` : ''}>${t.day}</option></select></div>
</fieldset>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.show}</button>
</form>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${csvHref}" download>${t.csv}</a></p>
${chart}
${COUNT_TABLES.map((name) => countTable(`t-${name}`, t[name], stats[name]))}
${DURATION_TABLES.map((name) => durationTable(`t-${name}`, t[name], stats[name]))}
${qualityTable('t-quality', stats.quality)}`,
      }),
    );
  }));
  return r;
}
