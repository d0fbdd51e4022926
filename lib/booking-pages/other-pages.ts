import type { Appointment } from '../appointments/store';
import { CSRF_FIELD } from '../http/csrf';
import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import type { BookingMode } from './options';
import { dataList } from '../http/components';
import { texts } from './texts';
import { guestInviteLabel } from './guest-invite';

export interface ShownAppointment {
  when: string;
  topic: string;
}

function details(lang: Lang, a: ShownAppointment, extra: Array<readonly [string, string]> = []): SafeHtml {
  const t = texts(lang);
  return dataList([[t.when, a.when], ...(a.topic ? [[t.topic, a.topic] as const] : []), ...extra]);
}

export function confirmationMain(lang: Lang, mode: BookingMode, a: ShownAppointment | null, again: string, resident?: Appointment['resident']): SafeHtml {
  const t = texts(lang);
  const kcc = mode === 'kcc';
  if (!a) {
    return html`<h1 class="utrecht-heading-1">${t.confirmedTitle}</h1>
<p class="utrecht-paragraph">${t.confirmExpired}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${again}">${t.another}</a></p>`;
  }
  // Staff see whom they booked for; the resident's page shows no personal data (its URL may be shared or kept).
  const who: Array<readonly [string, string]> = kcc && resident ? [[t.resident, resident.name], [t.email, resident.email]] : [];
  return html`<div class="utrecht-alert utrecht-alert--ok" role="status"><h1 class="utrecht-heading-1">${kcc ? t.confirmedTitleKcc : t.confirmedTitle}</h1></div>
${details(lang, a, who)}
<p class="utrecht-paragraph">${kcc ? t.confirmedMailKcc : t.confirmedMail}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${again}">${kcc ? t.newBooking : t.another}</a></p>`;
}

export function cancelConfirmMain(lang: Lang, a: ShownAppointment, action: string, csrf: string, home: string): SafeHtml {
  const t = texts(lang);
  return html`<h1 class="utrecht-heading-1">${t.cancelTitle}</h1>
<p class="utrecht-paragraph">${t.cancelQuestion}</p>
${details(lang, a)}
<form method="post" action="${action}" class="idv-form">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<button type="submit" class="utrecht-button utrecht-button--primary-action utrecht-button--danger">${t.cancelButton}</button>
</form>
<p class="utrecht-paragraph">${t.keepDone} <a class="utrecht-link" href="${home}">${t.keep}</a></p>`;
}

export function cancelledMain(lang: Lang, a: ShownAppointment, home: string): SafeHtml {
  const t = texts(lang);
  return html`<div class="utrecht-alert utrecht-alert--ok" role="status"><h1 class="utrecht-heading-1">${t.cancelledTitle}</h1></div>
${details(lang, a)}
<p class="utrecht-paragraph">${t.cancelledBody} <a class="utrecht-link" href="${home}">${t.another}</a></p>`;
}

export interface UpcomingRow {
  id: string;
  when: string;
  topic: string;
  agent: string;
  resident: string;
  channel: Appointment['channel'];
}

export function upcomingMain(lang: Lang, rows: UpcomingRow[], base: string, csrf: string, notice?: string, invite = false): SafeHtml {
  const t = texts(lang);
  return html`<h1 class="utrecht-heading-1" id="upcoming-title">${t.upcomingTitle}</h1>
${notice ? html`<div class="utrecht-alert utrecht-alert--ok" role="status"><p class="utrecht-paragraph">${notice}</p></div>` : ''}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${base}">${t.newBooking}</a></p>
${rows.length
  ? html`<div class="idv-table-wrap" role="region" aria-labelledby="upcoming-title" tabindex="0"><table class="utrecht-table idv-table">
<thead class="utrecht-table__header"><tr class="utrecht-table__row">
<th class="utrecht-table__header-cell" scope="col">${t.when}</th><th class="utrecht-table__header-cell" scope="col">${t.topic}</th>
<th class="utrecht-table__header-cell" scope="col">${t.resident}</th><th class="utrecht-table__header-cell" scope="col">${t.agent}</th>
<th class="utrecht-table__header-cell" scope="col">${t.channel}</th><th class="utrecht-table__header-cell" scope="col">${t.actions}</th></tr></thead>
<tbody class="utrecht-table__body">
${rows.map((r) => html`<tr class="utrecht-table__row">
<td class="utrecht-table__cell">${r.when}</td><td class="utrecht-table__cell">${r.topic}</td><td class="utrecht-table__cell">${r.resident}</td>
<td class="utrecht-table__cell">${r.agent}</td><td class="utrecht-table__cell">${r.channel === 'phone' ? t.channelPhone : t.channelWebsite}</td>
<td class="utrecht-table__cell"><form method="get" action="${base}/afspraken/${r.id}/wijzigen" class="idv-inline-form">
<button type="submit" class="utrecht-button utrecht-button--secondary-action">${t.moveFor}<span class="idv-visually-hidden">: ${r.when}, ${r.resident}</span></button>
</form>
<form method="post" action="${base}/afspraken/${r.id}/annuleren" class="idv-inline-form">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<button type="submit" class="utrecht-button utrecht-button--secondary-action">${t.cancelFor}<span class="idv-visually-hidden">: ${r.when}, ${r.resident}</span></button>
</form>${invite ? html`
<a class="utrecht-link idv-row-link" href="${base}/afspraken/${r.id}/gast">${guestInviteLabel(lang)}<span class="idv-visually-hidden">: ${r.when}, ${r.resident}</span></a>` : ''}</td></tr>`)}
</tbody></table></div>`
  : html`<p class="utrecht-paragraph">${t.upcomingNone}</p>`}`;
}
