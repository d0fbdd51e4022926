import { html, type SafeHtml } from '../http/html';
import type { Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import type { FlowFailure } from '../oidc/relying-party';
import type { NoAccessReason } from './sso';

/** The pages of the staff sign-in through the gemeente's provider (NL Design System, Dutch with formal "u" first). */

const T = {
  nl: {
    button: 'Aanmelden met uw gemeenteaccount',
    buttonHint: 'U gaat naar de aanmeldpagina van de gemeente en komt daarna hier terug.',
    noAccessTitle: 'Geen toegang tot ID Video',
    noAccessWho: (name: string) => `U bent bij de gemeente aangemeld als ${name}.`,
    no_role: 'Uw account hoort niet bij een groep die toegang geeft tot ID Video. Vraag uw beheerder om u aan de juiste groep toe te voegen en meld u daarna opnieuw aan.',
    groups_overage: 'Uw account hoort bij zoveel groepen dat de aanmeldservice ze niet meestuurt. Vraag uw beheerder om voor ID Video alleen de groepen van deze toepassing mee te laten sturen.',
    disabled: 'Uw account in ID Video is uitgeschakeld. Neem contact op met uw beheerder.',
    username_taken: 'Uw account kan niet aan ID Video worden gekoppeld: de gebruikersnaam is al in gebruik door een ander account. Neem contact op met uw beheerder.',
    username_invalid: 'Uw account kan niet aan ID Video worden gekoppeld: de aanmeldservice stuurt geen bruikbare gebruikersnaam mee. Neem contact op met uw beheerder.',
    otherAccount: 'Met een ander account aanmelden',
    again: 'Opnieuw aanmelden',
    failedTitle: 'Aanmelden is niet gelukt',
    cancelled: 'U heeft het aanmelden bij de gemeente afgebroken.',
    expired: 'Deze aanmelding is verlopen of onbekend. Begin opnieuw.',
    replayed: 'Deze aanmelding is al gebruikt. Begin opnieuw.',
    wrong_session: 'Deze aanmelding is in een andere browser begonnen. Begin opnieuw in deze browser.',
    provider_error: 'De aanmeldservice van de gemeente is nu niet bereikbaar of gaf een fout. Probeert u het over een paar minuten opnieuw.',
    validation_failed: 'Het antwoord van de aanmeldservice kon niet worden gecontroleerd. Begin opnieuw.',
    too_large: 'Het antwoord van de aanmeldservice was te groot. Neem contact op met uw beheerder.',
    busy: 'Te veel aanmeldpogingen vanaf uw netwerk. Probeert u het over een paar minuten opnieuw.',
    signingOutTitle: 'Afmelden',
    signingOut: 'U bent afgemeld bij ID Video. U wordt nu ook afgemeld bij de gemeente.',
    signingOutLink: 'Ga verder met afmelden bij de gemeente',
    editorTitle: 'Flow-editor openen',
    editorBody: 'U wordt aangemeld bij de flow-editor.',
    editorNoScript: 'Zet JavaScript aan: de flow-editor werkt niet zonder.',
    editorNoAccessTitle: 'Geen toegang tot de flow-editor',
    editorNoAccess: 'U bent aangemeld, maar alleen beheerders kunnen de flow-editor openen.',
  },
  en: {
    button: 'Sign in with your municipality account',
    buttonHint: "You go to the municipality's sign-in page and come back here afterwards.",
    noAccessTitle: 'No access to ID Video',
    noAccessWho: (name: string) => `You are signed in at the municipality as ${name}.`,
    no_role: 'Your account is not in a group that gives access to ID Video. Ask your administrator to add you to the right group, then sign in again.',
    groups_overage: 'Your account is in so many groups that the sign-in service leaves them out. Ask your administrator to send only this application\'s groups to ID Video.',
    disabled: 'Your account in ID Video is disabled. Please contact your administrator.',
    username_taken: 'Your account cannot be linked to ID Video: its username is already used by another account. Please contact your administrator.',
    username_invalid: 'Your account cannot be linked to ID Video: the sign-in service sends no usable username. Please contact your administrator.',
    otherAccount: 'Sign in with another account',
    again: 'Sign in again',
    failedTitle: 'Sign-in failed',
    cancelled: 'You cancelled the sign-in at the municipality.',
    expired: 'This sign-in has expired or is unknown. Please start again.',
    replayed: 'This sign-in has already been used. Please start again.',
    wrong_session: 'This sign-in was started in another browser. Please start again in this browser.',
    provider_error: "The municipality's sign-in service cannot be reached or returned an error. Please try again in a few minutes.",
    validation_failed: 'The answer of the sign-in service could not be verified. Please start again.',
    too_large: 'The answer of the sign-in service was too large. Please contact your administrator.',
    busy: 'Too many sign-in attempts from your network. Please try again in a few minutes.',
    signingOutTitle: 'Signing out',
    signingOut: 'You have signed out of ID Video. You are now also signed out at the municipality.',
    signingOutLink: 'Continue signing out at the municipality',
    editorTitle: 'Opening the flow editor',
    editorBody: 'You are being signed in to the flow editor.',
    editorNoScript: 'Turn on JavaScript: the flow editor does not work without it.',
    editorNoAccessTitle: 'No access to the flow editor',
    editorNoAccess: 'You are signed in, but only administrators can open the flow editor.',
  },
} as const;

/** The sign-in path of the provider, with where to go afterwards. */
export function ssoStartHref(next: string | undefined): string {
  return next ? `/login/sso?next=${encodeURIComponent(next)}` : '/login/sso';
}

/** The primary sign-in button of the login page (a link: starting a sign-in changes nothing here). */
export function ssoButton(lang: Lang, next: string): SafeHtml {
  const t = T[lang];
  return html`<p class="utrecht-paragraph"><a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action idv-sso-button" href="${ssoStartHref(next)}">${t.button}</a></p>
<p class="utrecht-paragraph idv-hint">${t.buttonHint}</p>`;
}

/** 403: signed in at the provider, but no access here (and why, without any group names). */
export function noAccessPage(lang: Lang, reason: NoAccessReason, displayName: string | undefined, branding: Branding | undefined): string {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.noAccessTitle,
    branding,
    path: '/login',
    main: html`<h1 class="utrecht-heading-1">${t.noAccessTitle}</h1>
<div class="utrecht-alert utrecht-alert--warning" role="alert">
${displayName ? html`<p class="utrecht-paragraph">${t.noAccessWho(displayName)}</p>` : ''}
<p class="utrecht-paragraph">${t[reason]}</p>
</div>
<p class="utrecht-paragraph"><a class="utrecht-link" href="/login/sso?prompt=login">${t.otherAccount}</a></p>`,
  });
}

/** 400/429/502: the callback or the start failed; the reason in words and a way to start again. */
export function ssoFailedPage(lang: Lang, reason: FlowFailure | 'busy', branding: Branding | undefined): string {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.failedTitle,
    branding,
    path: '/login',
    main: html`<h1 class="utrecht-heading-1">${t.failedTitle}</h1>
<div class="utrecht-alert utrecht-alert--error" role="alert"><p class="utrecht-paragraph">${t[reason]}</p></div>
<p class="utrecht-paragraph"><a class="utrecht-link" href="/login">${t.again}</a></p>`,
  });
}

/** The HTTP status of a failed callback. */
export function ssoFailureStatus(reason: FlowFailure): number {
  return reason === 'provider_error' ? 502 : 400;
}

/**
 * After the sign-out form: the local session has ended; the browser goes on to the provider's sign-out at once
 * (a meta refresh — a redirect answering the form post would fall under the posting page's CSP form-action).
 */
export function signingOutPage(lang: Lang, providerUrl: string, branding: Branding | undefined): string {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.signingOutTitle,
    branding,
    path: '/login',
    refreshTo: providerUrl,
    main: html`<h1 class="utrecht-heading-1">${t.signingOutTitle}</h1>
<p class="utrecht-paragraph" role="status">${t.signingOut}</p>
<p class="utrecht-paragraph"><a class="utrecht-link" href="${providerUrl}">${t.signingOutLink}</a></p>`,
  });
}

/**
 * The flow editor's token after a sign-in: the page hands it to the editor the way the editor keeps its own tokens
 * (its localStorage), through a script of ours, and opens the editor. The token never appears in a URL, so no
 * history, log or Referer holds it.
 */
export function editorTokenPage(lang: Lang, token: string, expiresInSec: number, editorPath: string, branding: Branding | undefined): string {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.editorTitle,
    branding,
    path: `${editorPath}/auth/strategy`,
    scripts: ['editor-sign-in.js'],
    data: { token, expires: String(expiresInSec), editor: editorPath },
    main: html`<h1 class="utrecht-heading-1">${t.editorTitle}</h1>
<p class="utrecht-paragraph" role="status">${t.editorBody}</p>
<noscript><p class="utrecht-paragraph">${t.editorNoScript}</p></noscript>`,
  });
}

export function editorNoAccessPage(lang: Lang, branding: Branding | undefined): string {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.editorNoAccessTitle,
    branding,
    path: '/login',
    main: html`<h1 class="utrecht-heading-1">${t.editorNoAccessTitle}</h1><p class="utrecht-paragraph">${t.editorNoAccess}</p>`,
  });
}
