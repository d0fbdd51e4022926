import { CSRF_FIELD } from '../http/csrf';
import { dataList } from '../http/components';
import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import type { BookingMode, PhoneField } from './options';
import { texts } from './texts';

/** One entry of the error summary: the message and the id of the field it belongs to. */
export interface SummaryItem {
  href: string;
  message: string;
}

export interface DayOption {
  date: string;
  label: string;
  free: number;
}

export interface DayChoiceView {
  lang: Lang;
  mode: BookingMode;
  action: string;
  topics: readonly string[];
  topic: string;
  days: DayOption[];
  day?: string;
  earlierHref?: string;
  laterHref?: string;
  summary: SummaryItem[];
}

export interface TimeOption {
  value: string;
  /** "dinsdag 1 december 2026, " – read out before the clock time, visually hidden. */
  datePrefix: string;
  clock: string;
}

export interface TimeFormView {
  lang: Lang;
  mode: BookingMode;
  action: string;
  csrf: string;
  topic: string;
  showTopic: boolean;
  day: string;
  dayLabel: string;
  changeHref: string;
  times: TimeOption[];
  values: Partial<Record<'time' | 'name' | 'email' | 'phone' | 'remarks' | 'sms', string>>;
  phone: PhoneField;
  /** An SMS gateway is configured: offer the SMS box (and the number field even when `phone` is off). */
  sms: boolean;
  privacyUrl?: string;
  errors: Partial<Record<string, string>>;
  summary: SummaryItem[];
}

export function errorSummary(lang: Lang, items: SummaryItem[]): SafeHtml | '' {
  if (!items.length) return '';
  // role=alert plus focus (web/form-errors.ts) so screen readers hear the errors first; each links to its field.
  return html`<div class="utrecht-alert utrecht-alert--error idv-error-summary" role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title">
<h2 class="utrecht-heading-2" id="error-summary-title">${texts(lang).errorsTitle}</h2>
<ul class="utrecht-unordered-list">${items.map((i) => html`<li><a class="utrecht-link" href="#${i.href}">${i.message}</a></li>`)}</ul>
</div>`;
}

export function dayChoiceMain(v: DayChoiceView): SafeHtml {
  const t = texts(v.lang);
  const kcc = v.mode === 'kcc';
  const topicField =
    v.topics.length > 1
      ? html`<fieldset class="utrecht-form-fieldset idv-fieldset">
<legend class="utrecht-form-fieldset__legend">${kcc ? t.topicLegendKcc : t.topicLegend}</legend>
${v.topics.map((topic, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="topic-${i}" name="topic" value="${topic}"${topic === v.topic ? html` checked` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="topic-${i}">${topic}</label></div>`)}
</fieldset>`
      : v.topics.length === 1
        ? html`<input type="hidden" name="topic" value="${v.topics[0]}">`
        : '';
  // Utrecht's pagination with only the relative links: the pages are periods of days, not numbered pages.
  const paging = html`<nav class="utrecht-pagination idv-paging" aria-label="${t.pagingLabel}">
${v.earlierHref ? html`<a class="utrecht-pagination__relative-link utrecht-pagination__relative-link--prev" rel="prev" href="${v.earlierHref}">${t.earlier}</a>` : ''}
${v.laterHref ? html`<a class="utrecht-pagination__relative-link utrecht-pagination__relative-link--next" rel="next" href="${v.laterHref}">${t.later}</a>` : ''}
</nav>`;
  const days = v.days.length
    ? html`<fieldset class="utrecht-form-fieldset idv-fieldset">
<legend class="utrecht-form-fieldset__legend">${t.dayLegend}</legend>
${v.days.map((d, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="day-${i}" name="day" value="${d.date}"${d.date === v.day || (!v.day && i === 0) ? html` checked` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="day-${i}">${d.label} <span class="idv-free">(${t.dayFree(d.free)})</span></label></div>`)}
</fieldset>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.toTimes}</button>`
    : html`<p class="utrecht-paragraph" id="day-0">${t.noDays}</p>`;
  return html`<h1 class="utrecht-heading-1">${kcc ? t.titleKcc : t.title}</h1>
${errorSummary(v.lang, v.summary)}
<p class="utrecht-paragraph">${kcc ? t.introKcc : t.intro}</p>
<form method="get" action="${v.action}" class="idv-form idv-booking-days" novalidate>
${topicField}
${days}
</form>
${paging}`;
}

export function fieldError(id: string, message: string | undefined): SafeHtml | '' {
  return message ? html`<p class="utrecht-form-field-error-message" id="${id}-error">${message}</p>` : '';
}

export function describedBy(...ids: (string | false | undefined)[]): SafeHtml | '' {
  const list = ids.filter(Boolean).join(' ');
  return list ? html` aria-describedby="${list}"` : '';
}

function textField(o: {
  id: 'name' | 'email' | 'phone';
  label: string;
  type: string;
  autocomplete: string;
  value?: string;
  error?: string;
  hint?: string;
  required: boolean;
  optionalText: string;
  maxlength: number;
}): SafeHtml {
  return html`<div class="utrecht-form-field utrecht-form-field--text${o.error ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="${o.id}">${o.label}${o.required ? '' : html` <span class="idv-optional">${o.optionalText}</span>`}</label>
${o.hint ? html`<p class="utrecht-form-field-description" id="${o.id}-hint">${o.hint}</p>` : ''}
${fieldError(o.id, o.error)}
<input class="utrecht-textbox utrecht-textbox--html-input${o.error ? ' utrecht-textbox--invalid' : ''}" id="${o.id}" name="${o.id}" type="${o.type}" autocomplete="${o.autocomplete}" maxlength="${o.maxlength}" value="${o.value ?? ''}"${o.required ? html` required aria-required="true"` : ''}${o.error ? html` aria-invalid="true"` : ''}${describedBy(o.hint && `${o.id}-hint`, o.error && `${o.id}-error`)}>
</div>`;
}

/** The SMS opt-in: one checkbox (unticked unless the resident ticked it), Utrecht's checkbox with its HTML modifier. */
function smsField(t: ReturnType<typeof texts>, kcc: boolean, value: string | undefined, error: string | undefined): SafeHtml {
  const checked = value !== undefined && ['ja', 'yes', 'on', 'true', '1'].includes(value.trim().toLowerCase());
  return html`<div class="utrecht-form-field utrecht-form-field--checkbox idv-choice${error ? ' utrecht-form-field--invalid' : ''}">
${fieldError('sms', error)}
<input class="utrecht-checkbox utrecht-checkbox--html-input${error ? ' utrecht-checkbox--invalid' : ''}" type="checkbox" id="sms" name="sms" value="ja"${checked ? html` checked` : ''}${error ? html` aria-invalid="true"` : ''}${describedBy(error && 'sms-error')}>
<label class="utrecht-form-label utrecht-form-label--checkbox" for="sms">${kcc ? t.smsLabelKcc : t.smsLabel}</label>
</div>`;
}

export function timeFormMain(v: TimeFormView): SafeHtml {
  const t = texts(v.lang);
  const kcc = v.mode === 'kcc';
  const e = v.errors;
  const timeError = e.time;
  const times = v.times.length
    ? html`<fieldset class="utrecht-form-fieldset idv-fieldset${timeError ? ' utrecht-form-fieldset--invalid' : ''}"${timeError ? html` aria-describedby="time-error"` : ''}>
<legend class="utrecht-form-fieldset__legend">${t.timeLegend}</legend>
${fieldError('time', timeError)}
<div class="idv-times">
${v.times.map((o, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input${timeError ? ' utrecht-radio-button--invalid' : ''}" type="radio" id="time-${i}" name="time" value="${o.value}"${o.value === v.values.time ? html` checked` : ''}${timeError ? html` aria-invalid="true"` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="time-${i}"><span class="idv-visually-hidden">${o.datePrefix}</span>${o.clock}</label></div>`)}
</div>
</fieldset>`
    : html`<p class="utrecht-paragraph" id="time-0">${t.noTimes} <a class="utrecht-link" href="${v.changeHref}">${t.change}</a></p>`;
  return html`<h1 class="utrecht-heading-1">${kcc ? t.titleKcc : t.title}</h1>
${errorSummary(v.lang, v.summary)}
${dataList([...(v.showTopic ? [[t.topic, v.topic] as const] : []), [t.day, v.dayLabel] as const])}
<p class="utrecht-paragraph"><a class="utrecht-link" id="change" href="${v.changeHref}">${t.change}</a></p>
${v.times.length
  ? html`<form method="post" action="${v.action}" class="idv-form idv-booking-form" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">
<input type="hidden" name="topic" value="${v.topic}">
<input type="hidden" name="date" value="${v.day}">
${times}
<fieldset class="utrecht-form-fieldset idv-fieldset">
<legend class="utrecht-form-fieldset__legend">${kcc ? t.contactLegendKcc : t.contactLegend}</legend>
${textField({ id: 'name', label: t.name, type: 'text', autocomplete: kcc ? 'off' : 'name', value: v.values.name, error: e.name, required: true, optionalText: t.optional, maxlength: 100 })}
${textField({ id: 'email', label: t.email, type: 'email', autocomplete: kcc ? 'off' : 'email', value: v.values.email, error: e.email, hint: kcc ? undefined : t.emailHint, required: true, optionalText: t.optional, maxlength: 254 })}
${v.phone !== 'off' || v.sms
  ? textField({ id: 'phone', label: v.phone === 'off' ? t.mobile : t.phone, type: 'tel', autocomplete: kcc ? 'off' : 'tel', value: v.values.phone, error: e.phone, hint: v.phone === 'off' ? t.mobileHint : undefined, required: v.phone === 'required', optionalText: t.optional, maxlength: 25 })
  : ''}
${v.sms ? smsField(t, kcc, v.values.sms, e.sms) : ''}
<div class="utrecht-form-field utrecht-form-field--textarea${e.remarks ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="remarks">${t.remarks} <span class="idv-optional">${t.optional}</span></label>
<p class="utrecht-form-field-description" id="remarks-hint">${t.remarksHint}</p>
${fieldError('remarks', e.remarks)}
<textarea class="utrecht-textarea utrecht-textarea--html-textarea${e.remarks ? ' utrecht-textarea--invalid' : ''}" id="remarks" name="remarks" rows="4" maxlength="1000"${e.remarks ? html` aria-invalid="true"` : ''}${describedBy('remarks-hint', e.remarks && 'remarks-error')}>${v.values.remarks ?? ''}</textarea>
</div>
</fieldset>
${v.privacyUrl && !kcc ? html`<p class="utrecht-paragraph">${t.privacy} <a class="utrecht-link" href="${v.privacyUrl}" rel="noopener">${t.privacyLink}</a>.</p>` : ''}
<button type="submit" class="utrecht-button utrecht-button--primary-action">${kcc ? t.toReviewKcc : t.toReview}</button>
</form>`
  : times}`;
}

export interface ReviewView {
  lang: Lang;
  mode: BookingMode;
  action: string;
  csrf: string;
  showTopic: boolean;
  /** "dinsdag 1 december 2026 om 10:30", Amsterdam time. */
  when: string;
  /** What the form carries on: the fields exactly as they were checked. */
  values: { topic: string; date: string; time: string; name: string; email: string; phone?: string; remarks?: string };
  phone: PhoneField;
  /** SMS offered; `smsTo` is the checked number in the resident's own notation when they asked for it. */
  sms: boolean;
  smsTo?: string;
}

/**
 * "Controleer uw afspraak": what will be booked, before anything is booked. One form with the checked values in hidden
 * fields and two buttons: confirm (books; the idempotency key is the content, so a double click books once) or change
 * (back to the form with everything kept). Works without JavaScript.
 */
export function reviewMain(v: ReviewView): SafeHtml {
  const t = texts(v.lang);
  const kcc = v.mode === 'kcc';
  const x = v.values;
  const rows: Array<readonly [string, string, boolean?]> = [];
  if (v.showTopic) rows.push([t.topic, x.topic]);
  rows.push([t.whenLabel, v.when], [t.name, x.name], [t.email, x.email]);
  if (v.phone !== 'off') rows.push([t.phone, (v.smsTo ?? x.phone) || t.notGiven]);
  if (v.sms) rows.push([t.smsRow, v.smsTo ? t.smsYes(v.smsTo) : t.smsNo]);
  rows.push([t.remarks, x.remarks || t.notGiven, true]);
  const hidden = (name: string, value: string | undefined) => html`<input type="hidden" name="${name}" value="${value ?? ''}">`;
  return html`<h1 class="utrecht-heading-1">${kcc ? t.reviewTitleKcc : t.reviewTitle}</h1>
<p class="utrecht-paragraph">${kcc ? t.reviewIntroKcc : t.reviewIntro}</p>
${dataList(rows, 'idv-review')}
<form method="post" action="${v.action}" class="idv-form idv-booking-form idv-review-form" novalidate>
${hidden(CSRF_FIELD, v.csrf)}${hidden('topic', x.topic)}${hidden('date', x.date)}${hidden('time', x.time)}
${hidden('name', x.name)}${hidden('email', x.email)}${v.phone !== 'off' || v.smsTo ? hidden('phone', x.phone) : ''}${v.smsTo ? hidden('sms', 'ja') : ''}${hidden('remarks', x.remarks)}
<div class="idv-button-row">
<button type="submit" name="step" value="confirm" class="utrecht-button utrecht-button--primary-action">${t.submit}</button>
<button type="submit" name="step" value="edit" class="utrecht-button utrecht-button--secondary-action">${t.edit}</button>
</div>
</form>`;
}
