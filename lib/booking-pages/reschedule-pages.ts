import { CSRF_FIELD } from '../http/csrf';
import { dataList } from '../http/components';
import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import { errorSummary, type DayOption, type SummaryItem, type TimeOption } from './form-pages';
import { texts } from './texts';

/** Texts of the move pages ("Afspraak wijzigen"), Dutch with the formal "u" first, English second. */
const TEXT = {
  nl: {
    title: 'Afspraak wijzigen',
    titleKcc: 'Afspraak verplaatsen',
    intro: 'Kies een ander moment voor uw video-afspraak. Uw huidige afspraak blijft staan tot u een nieuw tijdstip bevestigt.',
    introKcc: 'Kies een ander moment voor deze afspraak. De inwoner krijgt een e-mail met de nieuwe link.',
    current: 'Huidige afspraak',
    chooseDay: 'Kies een dag',
    toTimes: 'Volgende: kies een tijd',
    chooseTime: 'Kies een nieuwe tijd',
    otherDay: 'Andere dag kiezen',
    submit: 'Verplaats de afspraak',
    noDays: 'Er zijn in deze periode geen tijden vrij.',
    noTimes: 'Op deze dag zijn geen tijden meer vrij. Kies een andere dag.',
    movedTitle: 'Uw afspraak is verplaatst',
    movedTitleKcc: 'De afspraak is verplaatst',
    movedBody: 'U ontvangt een e-mail met de nieuwe link voor het videogesprek. De links uit eerdere e-mails werken niet meer.',
    movedBodyKcc: 'De inwoner ontvangt een e-mail met de nieuwe link. De medewerker is ingelicht.',
    newTime: 'Nieuwe afspraak',
    back: 'Terug naar de geplande afspraken',
    keep: 'De afspraak niet wijzigen',
  },
  en: {
    title: 'Change appointment',
    titleKcc: 'Move appointment',
    intro: 'Choose another time for your video appointment. Your current appointment stands until you confirm a new time.',
    introKcc: 'Choose another time for this appointment. The resident receives an e-mail with the new link.',
    current: 'Current appointment',
    chooseDay: 'Choose a day',
    toTimes: 'Next: choose a time',
    chooseTime: 'Choose a new time',
    otherDay: 'Choose another day',
    submit: 'Move the appointment',
    noDays: 'No times are free in this period.',
    noTimes: 'No times are free on this day any more. Please choose another day.',
    movedTitle: 'Your appointment has been moved',
    movedTitleKcc: 'The appointment has been moved',
    movedBody: 'You will receive an e-mail with the new link for the video call. The links in earlier e-mails no longer work.',
    movedBodyKcc: 'The resident receives an e-mail with the new link. The employee has been told.',
    newTime: 'New appointment',
    back: 'Back to the planned appointments',
    keep: 'Do not change the appointment',
  },
} as const;

export function rescheduleTexts(lang: Lang): (typeof TEXT)['nl'] | (typeof TEXT)['en'] {
  return TEXT[lang];
}

export interface RescheduleView {
  lang: Lang;
  kcc: boolean;
  /** The page's own path (GET for days, POST to move). */
  action: string;
  csrf: string;
  current: { when: string; topic: string };
  /** Days with free times (no day chosen yet), or the chosen day's times. */
  days?: DayOption[];
  day?: { date: string; label: string; times: TimeOption[] };
  chosenTime?: string;
  summary: SummaryItem[];
  /** Where "keep" leads: the booking page (resident) or the list (KCC). */
  home: string;
}

/** The move page: the current appointment, then a day (GET form), then a time (POST form). Works without JavaScript. */
export function rescheduleMain(v: RescheduleView): SafeHtml {
  const t = TEXT[v.lang];
  const b = texts(v.lang);
  const current = html`<h2 class="utrecht-heading-2">${t.current}</h2>
${dataList([[b.when, v.current.when], ...(v.current.topic ? [[b.topic, v.current.topic] as const] : [])])}`;
  let step: SafeHtml;
  if (v.day) {
    const timeError = v.summary.find((s) => s.href === 'time-0')?.message;
    step = v.day.times.length
      ? html`<form method="post" action="${v.action}" class="idv-form" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">
<input type="hidden" name="date" value="${v.day.date}">
<fieldset class="utrecht-form-fieldset idv-fieldset${timeError ? ' utrecht-form-fieldset--invalid' : ''}"${timeError ? html` aria-describedby="time-error"` : ''}>
<legend class="utrecht-form-fieldset__legend">${t.chooseTime}: ${v.day.label}</legend>
${timeError ? html`<p class="utrecht-form-field-error-message" id="time-error">${timeError}</p>` : ''}
${v.day.times.map((o, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="time-${i}" name="time" value="${o.value}"${o.value === v.chosenTime ? html` checked` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="time-${i}"><span class="idv-visually-hidden">${o.datePrefix}</span>${o.clock}</label></div>`)}
</fieldset>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.submit}</button>
</form>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${v.action}">${t.otherDay}</a></p>`
      : html`<p class="utrecht-paragraph" id="time-0">${t.noTimes} <a class="utrecht-link" href="${v.action}">${t.otherDay}</a></p>`;
  } else {
    const days = v.days ?? [];
    step = days.length
      ? html`<form method="get" action="${v.action}" class="idv-form" novalidate>
<fieldset class="utrecht-form-fieldset idv-fieldset">
<legend class="utrecht-form-fieldset__legend">${t.chooseDay}</legend>
${days.map((d, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="day-${i}" name="day" value="${d.date}"${i === 0 ? html` checked` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="day-${i}">${d.label} <span class="idv-free">(${b.dayFree(d.free)})</span></label></div>`)}
</fieldset>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.toTimes}</button>
</form>`
      : html`<p class="utrecht-paragraph" id="day-0">${t.noDays}</p>`;
  }
  return html`<h1 class="utrecht-heading-1">${v.kcc ? t.titleKcc : t.title}</h1>
${errorSummary(v.lang, v.summary)}
<p class="utrecht-paragraph">${v.kcc ? t.introKcc : t.intro}</p>
${current}
${step}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${v.home}">${v.kcc ? t.back : t.keep}</a></p>`;
}

/** The page after a move: the new time and what happens next. */
export function movedMain(lang: Lang, kcc: boolean, a: { when: string; topic: string }, home: string): SafeHtml {
  const t = TEXT[lang];
  const b = texts(lang);
  return html`<div class="utrecht-alert utrecht-alert--ok" role="status"><h1 class="utrecht-heading-1">${kcc ? t.movedTitleKcc : t.movedTitle}</h1></div>
<h2 class="utrecht-heading-2">${t.newTime}</h2>
${dataList([[b.when, a.when], ...(a.topic ? [[b.topic, a.topic] as const] : [])])}
<p class="utrecht-paragraph">${kcc ? t.movedBodyKcc : t.movedBody}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${home}">${kcc ? t.back : b.another}</a></p>`;
}
