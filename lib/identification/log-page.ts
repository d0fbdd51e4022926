import { DateTime } from 'luxon';
import type { ProcessingLogRecord } from '../attributes/processing-log';
import { html } from '../http/html';
import type { Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { ZONE } from '../time';
import { LOG_CODES, LOG_TEXTS } from './texts';

/** The processing log as a table for administrators: names, codes and times only — the log holds nothing else. */
export function logPage(o: { lang: Lang; branding: Branding; records: ProcessingLogRecord[]; appointmentId?: string; path: string }): string {
  const t = LOG_TEXTS[o.lang];
  const words = LOG_CODES[o.lang];
  // The code stays in the page (title, data attribute) for whoever searches the database or an export by code.
  const code = (c: string, context?: 'detail') => html`<span title="${c}" data-code="${c}">${words[context === 'detail' && c === 'expired' ? 'expired_request' : c] ?? c}</span>`;
  const when = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(ZONE).toFormat('yyyy-MM-dd HH:mm:ss');
  return renderPage({
    lang: o.lang,
    title: t.title,
    branding: o.branding,
    path: o.path,
    styles: ['identify.css'],
    main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
<p class="utrecht-paragraph">${t.intro}</p>
<form method="get" action="${o.path}" class="idv-log-filter">
  <div class="utrecht-form-field">
    <label class="utrecht-form-label" for="appointment">${t.filter}</label>
    <input class="utrecht-textbox utrecht-textbox--html-input" id="appointment" name="appointment" value="${o.appointmentId ?? ''}" maxlength="100" autocomplete="off">
  </div>
  <button type="submit" class="utrecht-button utrecht-button--secondary-action">${t.show}</button>
</form>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${o.path}/export.jsonl${o.appointmentId ? `?appointment=${encodeURIComponent(o.appointmentId)}` : ''}" download>${t.export}</a></p>
${o.records.length === 0
  ? html`<p class="utrecht-paragraph">${t.none}</p>`
  : html`<div class="idv-table-wrap" tabindex="0" role="region" aria-label="${t.title}"><table class="utrecht-table idv-log-table">
<caption class="utrecht-table__caption idv-visually-hidden">${t.title}</caption>
<thead class="utrecht-table__header"><tr class="utrecht-table__row">
  <th scope="col" class="utrecht-table__header-cell">${t.at}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.appointment}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.actor}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.action}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.purpose}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.method}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.keys}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.detail}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.status}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.trace}</th>
  <th scope="col" class="utrecht-table__header-cell">${t.activity}</th>
</tr></thead>
<tbody class="utrecht-table__body">
${o.records.map((r) => html`<tr class="utrecht-table__row">
  <td class="utrecht-table__cell">${when(r.at)}</td>
  <td class="utrecht-table__cell idv-log-id"><a class="utrecht-link" href="${o.path}?appointment=${encodeURIComponent(r.appointmentId)}">${r.appointmentId}</a></td>
  <td class="utrecht-table__cell">${r.actor === 'resident' || r.actor === 'system' ? code(r.actor) : r.actor}</td>
  <td class="utrecht-table__cell">${code(r.action)}</td>
  <td class="utrecht-table__cell">${r.purpose ?? ''}</td>
  <td class="utrecht-table__cell">${r.methodId ?? ''}</td>
  <td class="utrecht-table__cell">${r.attributeKeys.join(', ')}</td>
  <td class="utrecht-table__cell">${r.detail ? code(r.detail, 'detail') : ''}</td>
  <td class="utrecht-table__cell">${r.statusCode === null ? '' : code(`status_${r.statusCode}`)}</td>
  <td class="utrecht-table__cell idv-log-id"><span class="idv-log-trace" title="span ${r.spanId ?? ''}${r.parentSpanId ? `, parent ${r.parentSpanId}` : ''}">${r.traceId ?? ''}</span></td>
  <td class="utrecht-table__cell idv-log-id">${r.processingActivityId ?? ''}</td>
</tr>`)}
</tbody></table></div>`}`,
  });
}
