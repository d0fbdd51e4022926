import express, { type Request, type Response, type Router } from 'express';
import type { Appointment } from '../appointments/store';
import { GUEST_KINDS, type Guest, type GuestKind } from '../call/guest-store';
import { isUserError } from '../errors';
import type { Csrf } from '../http/csrf';
import { CSRF_FIELD } from '../http/csrf';
import { dataList } from '../http/components';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { asyncRoute, bodyParsers } from '../http/security';
import { normalizeEmail } from '../mail/sanitize';
import { describedBy, errorSummary, fieldError, type SummaryItem } from './form-pages';

/** What the KCC pages need of lib/call/guests.ts GuestService (the same invite the agent uses). */
export interface GuestInvites {
  get(appointmentId: string): Promise<Guest | undefined>;
  invite(appointment: Appointment, by: string, kind: unknown, email: unknown, lang: unknown): Promise<Guest>;
}

export interface GuestInviteRoutesOptions {
  /** The KCC node's GuestService (configured with its idv-settings). */
  guests: GuestInvites;
  appointment(id: string): Promise<Appointment | null>;
  /** Ends a guest's live connection on this instance when a new invitation replaces them (the link dies in the store). */
  removeLive?(appointmentId: string): void;
  csrf: Csrf;
  secure: boolean;
  /** Counts one invitation against the KCC employee's booking budget; false (and the 429 sent) when over it. */
  allowed(req: Request, res: Response, lang: Lang): Promise<boolean>;
  /** Renders a page in the booking pages' layout. */
  page(req: Request, res: Response, status: number, lang: Lang, title: string, main: SafeHtml): void;
  /** An error page with one sentence. */
  errorPage(req: Request, res: Response, status: number, message: string): void;
  /** The appointment's time and topic in words. */
  when(a: Appointment, lang: Lang): { when: string; topic: string };
}

const TEXTS = {
  nl: {
    title: 'Derde deelnemer uitnodigen',
    intro: 'Nodig een tolk, gebarentolk of familielid uit voor dit gesprek. Diegene krijgt een eigen link per e-mail en wacht in de wachtkamer tot de medewerker hem of haar toelaat. Een derde deelnemer ziet geen identificatiegegevens en geen documenten van de inwoner.',
    legendKind: 'Wie nodigt u uit?',
    kinds: { interpreter: 'Tolk', sign_language_interpreter: 'Gebarentolk', family_member: 'Familielid', other: 'Iemand anders' } as Record<GuestKind, string>,
    email: 'E-mailadres van de derde deelnemer',
    emailHint: 'Alleen voor deze uitnodiging en voor bericht als de afspraak verandert of vervalt.',
    legendLang: 'Taal van de uitnodiging',
    langs: { nl: 'Nederlands', en: 'Engels (English)' },
    submit: 'Uitnodiging versturen',
    when: 'Afspraak',
    topic: 'Onderwerp',
    resident: 'Inwoner',
    current: (kind: string) => `Er is al een ${kind} uitgenodigd. Een nieuwe uitnodiging vervangt die: de eerdere link werkt dan niet meer.`,
    back: 'Terug naar de geplande afspraken',
    kindRequired: 'Kies wie u uitnodigt.',
    emailInvalid: 'Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.',
    over: 'Deze afspraak is voorbij of geannuleerd; uitnodigen kan niet meer.',
    unavailable: 'Uitnodigen kan nu niet: er is geen afzender ingesteld. Neem contact op met de beheerder.',
    notFound: 'Deze afspraak bestaat niet (meer).',
    csrf: 'De pagina is verlopen. Laad de pagina opnieuw en probeer het nog eens.',
    lower: { interpreter: 'tolk', sign_language_interpreter: 'gebarentolk', family_member: 'familielid', other: 'derde deelnemer' } as Record<GuestKind, string>,
  },
  en: {
    title: 'Invite a third participant',
    intro: 'Invite an interpreter, sign-language interpreter or family member to this call. They get their own link by e-mail and wait in the waiting room until the employee lets them in. A third participant sees no identification data and no documents of the resident.',
    legendKind: 'Whom do you invite?',
    kinds: { interpreter: 'Interpreter', sign_language_interpreter: 'Sign-language interpreter', family_member: 'Family member', other: 'Someone else' } as Record<GuestKind, string>,
    email: "Third participant's e-mail address",
    emailHint: 'Only for this invitation and for a message if the appointment changes or is cancelled.',
    legendLang: 'Language of the invitation',
    langs: { nl: 'Dutch (Nederlands)', en: 'English' },
    submit: 'Send invitation',
    when: 'Appointment',
    topic: 'Topic',
    resident: 'Resident',
    current: (kind: string) => `A ${kind} has already been invited. A new invitation replaces them: the earlier link then stops working.`,
    back: 'Back to upcoming appointments',
    kindRequired: 'Choose whom you invite.',
    emailInvalid: 'Enter a valid e-mail address, for example name@example.com.',
    over: 'This appointment is over or cancelled; inviting is no longer possible.',
    unavailable: 'Inviting is not possible now: no sender is set up. Contact the administrator.',
    notFound: 'This appointment does not exist (any more).',
    csrf: 'The page has expired. Reload the page and try again.',
    lower: { interpreter: 'interpreter', sign_language_interpreter: 'sign-language interpreter', family_member: 'family member', other: 'third participant' } as Record<GuestKind, string>,
  },
};

export interface GuestFormValues {
  kind?: string;
  email?: string;
  lang?: string;
}

/**
 * The invitation form (NL Design System fieldsets, an error per field, the summary above it): on its own page and
 * under the KCC's booking confirmation. `errors` keys: `kind`, `email`.
 */
export function guestInviteForm(
  lang: Lang,
  action: string,
  csrf: string,
  values: GuestFormValues = {},
  errors: Partial<Record<'kind' | 'email', string>> = {},
  headingLevel: 1 | 2 = 2,
  /** Shown between the introduction and the form (the appointment on the page of its own). */
  context: SafeHtml | '' = '',
): SafeHtml {
  const t = TEXTS[lang];
  const invalidKind = errors.kind !== undefined;
  const invalidEmail = errors.email !== undefined;
  const mailLang = values.lang === 'en' ? 'en' : 'nl';
  const heading = headingLevel === 1 ? html`<h1 class="utrecht-heading-1" id="guest-title">${t.title}</h1>` : html`<h2 class="utrecht-heading-2" id="guest-title">${t.title}</h2>`;
  return html`<section class="idv-guest-invite" aria-labelledby="guest-title">
${heading}
<p class="utrecht-paragraph">${t.intro}</p>
${context}
<form method="post" action="${action}" class="idv-form" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<fieldset class="utrecht-form-fieldset idv-fieldset${invalidKind ? ' utrecht-form-fieldset--invalid' : ''}"${describedBy(invalidKind && 'guest-kind-error')}>
<legend class="utrecht-form-fieldset__legend">${t.legendKind}</legend>
${fieldError('guest-kind', errors.kind)}
${GUEST_KINDS.map((k, i) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input${invalidKind ? ' utrecht-radio-button--invalid' : ''}" type="radio" id="guest-kind-${i}" name="kind" value="${k}"${values.kind === k ? html` checked` : ''}${invalidKind ? html` aria-invalid="true"` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="guest-kind-${i}">${t.kinds[k]}</label></div>`)}
</fieldset>
<div class="utrecht-form-field utrecht-form-field--text${invalidEmail ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="guest-email">${t.email}</label>
<p class="utrecht-form-field-description" id="guest-email-hint">${t.emailHint}</p>
${fieldError('guest-email', errors.email)}
<input class="utrecht-textbox utrecht-textbox--html-input${invalidEmail ? ' utrecht-textbox--invalid' : ''}" id="guest-email" name="email" type="email" autocomplete="off" maxlength="254" value="${values.email ?? ''}" required aria-required="true"${invalidEmail ? html` aria-invalid="true"` : ''}${describedBy('guest-email-hint', invalidEmail && 'guest-email-error')}>
</div>
<fieldset class="utrecht-form-fieldset idv-fieldset">
<legend class="utrecht-form-fieldset__legend">${t.legendLang}</legend>
${(['nl', 'en'] as const).map((l) => html`<div class="utrecht-form-field utrecht-form-field--radio idv-choice">
<input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="guest-lang-${l}" name="lang" value="${l}"${mailLang === l ? html` checked` : ''}>
<label class="utrecht-form-label utrecht-form-label--radio" for="guest-lang-${l}">${t.langs[l]}</label></div>`)}
</fieldset>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.submit}</button>
</form>
</section>`;
}

/** True when `email` is not an address the invitation can go to (the rule of lib/mail/sanitize.ts). */
function emailProblem(email: string | undefined): boolean {
  try {
    normalizeEmail((email ?? '').trim(), 'guest');
    return false;
  } catch {
    return true;
  }
}

/** The link text for the KCC list's rows. */
export function guestInviteLabel(lang: Lang): string {
  return TEXTS[lang].title;
}

/** The list's notice after an invitation. */
export function guestInvitedNotice(lang: Lang): string {
  return lang === 'en' ? 'The invitation has been sent to the third participant.' : 'De uitnodiging is naar de derde deelnemer verstuurd.';
}

/**
 * The KCC's invitation of a third participant (issue 13.4) for a booked appointment: `GET /afspraken/:id/gast` shows
 * the form, `POST` invites with GuestService.invite (one transaction: guest row, link, mail) and returns to the list.
 * The guest's address goes into the store and the mail only: never into a redirect, a message or a log line.
 */
export function guestInviteRoutes(o: GuestInviteRoutesOptions): Router {
  const r = express.Router();
  const action = (req: Request, id: string) => `${req.baseUrl}/afspraken/${id}/gast`;

  const render = async (req: Request, res: Response, lang: Lang, a: Appointment, status: number, values: GuestFormValues, errors: Partial<Record<'kind' | 'email', string>>) => {
    const t = TEXTS[lang];
    const guest = await o.guests.get(a.id);
    const shown = o.when(a, lang);
    const summary: SummaryItem[] = [
      ...(errors.kind ? [{ href: 'guest-kind-0', message: errors.kind }] : []),
      ...(errors.email ? [{ href: 'guest-email', message: errors.email }] : []),
    ];
    const context = html`${dataList([[t.when, shown.when], ...(shown.topic ? [[t.topic, shown.topic] as const] : []), [t.resident, a.resident.name]])}
${guest && !guest.removedAt ? html`<div class="utrecht-alert utrecht-alert--info" role="status"><p class="utrecht-paragraph">${t.current(t.lower[guest.kind])}</p></div>` : ''}`;
    o.page(req, res, status, lang, t.title, html`${errorSummary(lang, summary)}
${guestInviteForm(lang, action(req, a.id), o.csrf.issue(req, res), values, errors, 1, context)}
<p class="utrecht-paragraph"><a class="utrecht-link" href="${req.baseUrl}/afspraken">${t.back}</a></p>`);
  };

  const found = async (req: Request, res: Response, lang: Lang): Promise<Appointment | undefined> => {
    const a = await o.appointment(String(req.params.id));
    if (a && a.status === 'booked') return a;
    o.errorPage(req, res, a ? 409 : 404, a ? TEXTS[lang].over : TEXTS[lang].notFound);
    return undefined;
  };

  r.get('/afspraken/:id/gast', asyncRoute(async (req, res) => {
    const lang = pickLang(req, res, o.secure);
    const a = await found(req, res, lang);
    if (a) await render(req, res, lang, a, 200, {}, {});
  }));

  r.post('/afspraken/:id/gast', ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
    const lang = pickLang(req);
    const t = TEXTS[lang];
    if (!o.csrf.verify(req)) return o.errorPage(req, res, 403, t.csrf);
    if (!(await o.allowed(req, res, lang))) return;
    const a = await found(req, res, lang);
    if (!a) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: GuestFormValues = {
      kind: typeof body.kind === 'string' ? body.kind.slice(0, 40) : undefined,
      email: typeof body.email === 'string' ? body.email.slice(0, 300) : undefined,
      lang: body.lang === 'en' ? 'en' : 'nl',
    };
    try {
      await o.guests.invite(a, req.staff?.username ?? 'kcc', values.kind, values.email, values.lang);
      // The replaced guest's link and sessions died with the invitation; a live connection here goes now.
      o.removeLive?.(a.id);
    } catch (e) {
      if (!isUserError(e)) throw e;
      if (e.code === 'guest_kind') {
        // Both fields at once: the service stops at the first problem, the employee should see every one.
        return render(req, res, lang, a, 400, values, { kind: t.kindRequired, ...(emailProblem(values.email) ? { email: t.emailInvalid } : {}) });
      }
      if (e.code === 'guest_email') return render(req, res, lang, a, 400, values, { email: t.emailInvalid });
      return o.errorPage(req, res, e.status, e.code === 'appointment_over' ? t.over : e.code === 'guest_unavailable' ? t.unavailable : e.message);
    }
    res.redirect(303, `${req.baseUrl}/afspraken?uitgenodigd=1`);
  }));
  return r;
}
