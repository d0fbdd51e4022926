import express, { type Response, type Router } from 'express';
import type { Csrf } from '../http/csrf';
import { CSRF_FIELD } from '../http/csrf';
import { errorHandler } from '../http/errors';
import { html, type SafeHtml } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { clientKey, type RateLimiter } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, sameOrigin } from '../http/security';
import { safeNext, type StaffAuth } from './auth';
import type { StaffSso } from './sso';
import { signingOutPage, ssoButton } from './sso-pages';
import { addSsoRoutes, homeFor } from './sso-routes';

const T = {
  nl: {
    title: 'Aanmelden voor medewerkers',
    intro: 'Meld u aan met uw medewerkersaccount.',
    username: 'Gebruikersnaam',
    password: 'Wachtwoord',
    submit: 'Aanmelden',
    errorsTitle: 'Aanmelden is niet gelukt',
    invalid: 'De gebruikersnaam of het wachtwoord klopt niet.',
    locked: 'Na te veel mislukte pogingen is aanmelden tijdelijk geblokkeerd. Probeert u het over een paar minuten opnieuw.',
    csrf: 'Het formulier is verlopen. Probeert u het opnieuw.',
    missing: 'Vul uw gebruikersnaam en wachtwoord in.',
    loggedOut: 'U bent afgemeld.',
    logout: 'Afmelden',
    signedInAs: 'Aangemeld als',
    orLocal: 'Of met een account van ID Video',
    localOff: 'Aanmelden met een gebruikersnaam en wachtwoord van ID Video is uitgeschakeld. Meld u aan met uw gemeenteaccount.',
    startTitle: 'Uw pagina\'s',
    startIntro: 'U bent aangemeld. Dit zijn de pagina\'s van uw rollen:',
    startNone: 'Voor uw rol zijn er nog geen pagina\'s in ID Video.',
    pages: { agent: 'Afsprakenoverzicht en videogesprekken', kcc: 'Afspraak maken voor een beller', admin: 'Flow-editor', adminLog: 'Verwerkingenlogging' },
  },
  en: {
    title: 'Staff sign-in',
    intro: 'Sign in with your staff account.',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    errorsTitle: 'Sign-in failed',
    invalid: 'The username or password is not correct.',
    locked: 'Signing in is blocked for a while after too many failed attempts. Please try again in a few minutes.',
    csrf: 'The form has expired. Please try again.',
    missing: 'Enter your username and password.',
    loggedOut: 'You have signed out.',
    logout: 'Sign out',
    signedInAs: 'Signed in as',
    orLocal: 'Or with an ID Video account',
    localOff: 'Signing in with an ID Video username and password is switched off. Sign in with your municipality account.',
    startTitle: 'Your pages',
    startIntro: 'You are signed in. These are the pages of your roles:',
    startNone: 'There are no pages in ID Video for your role yet.',
    pages: { agent: 'Appointments and video calls', kcc: 'Book an appointment for a caller', admin: 'Flow editor', adminLog: 'Processing log' },
  },
} as const;

/** The sign-out button for page headers (a form: sign-out changes state, so it is a POST with a CSRF token). */
export function logoutForm(lang: Lang, csrfToken: string, displayName: string, basePath = '') {
  const t = T[lang];
  return html`<span class="idv-signed-in">${t.signedInAs} ${displayName}</span>
<form method="post" action="${basePath}/logout" class="idv-inline-form"><input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<button type="submit" class="utrecht-button utrecht-button--subtle idv-logout">${t.logout}</button></form>`;
}

interface LoginView {
  lang: Lang;
  csrf: string;
  next: string;
  path: string;
  branding: Branding | undefined;
  /** The gemeente's provider is offered (its button first). */
  sso: boolean;
  /** The password form is offered. */
  local: boolean;
  error?: string;
  username?: string;
  notice?: string;
}

function loginPage(v: LoginView) {
  const t = T[v.lang];
  const { error } = v;
  const form = html`<form method="post" action="${v.path}" class="idv-form" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">
<input type="hidden" name="next" value="${v.next}">
<div class="utrecht-form-field utrecht-form-field--text${error ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="username">${t.username}</label>
<input class="utrecht-textbox utrecht-textbox--html-input${error ? ' utrecht-textbox--invalid' : ''}" id="username" name="username" autocomplete="username" required maxlength="64" value="${v.username ?? ''}" ${error ? html`aria-describedby="error-summary" aria-invalid="true"` : ''}>
</div>
<div class="utrecht-form-field utrecht-form-field--text${error ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="password">${t.password}</label>
<input class="utrecht-textbox utrecht-textbox--html-input${error ? ' utrecht-textbox--invalid' : ''}" id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${error ? html` aria-describedby="error-summary" aria-invalid="true"` : ''}>
</div>
<button type="submit" class="utrecht-button utrecht-button--${v.sso ? 'secondary' : 'primary'}-action">${t.submit}</button>
</form>`;
  return renderPage({
    lang: v.lang,
    title: t.title,
    branding: v.branding,
    path: v.path,
    scripts: ['form-errors.js'],
    main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
${v.notice ? html`<div class="utrecht-alert utrecht-alert--ok" role="status"><p class="utrecht-paragraph">${v.notice}</p></div>` : ''}
${error
  ? html`<div class="utrecht-alert utrecht-alert--error idv-error-summary" role="alert" tabindex="-1" id="error-summary">
<h2 class="utrecht-heading-2">${t.errorsTitle}</h2><p class="utrecht-paragraph">${v.local ? html`<a class="utrecht-link" href="#username">${error}</a>` : error}</p></div>`
  : ''}
${v.sso ? ssoButton(v.lang, v.next) : ''}
${v.local ? html`${v.sso ? html`<h2 class="utrecht-heading-2">${t.orLocal}</h2>` : html`<p class="utrecht-paragraph">${t.intro}</p>`}
${form}` : ''}`,
  });
}

/** The signed-in employee's start page: links to the pages of their roles (a manager has none yet). */
function startPage(lang: Lang, roles: readonly string[], branding: Branding | undefined, header: SafeHtml) {
  const t = T[lang];
  const links: [string, string][] = [];
  if (roles.includes('agent')) links.push(['/agent', t.pages.agent]);
  if (roles.includes('kcc')) links.push(['/kcc/afspraak', t.pages.kcc]);
  if (roles.includes('admin')) links.push(['/admin/', t.pages.admin], ['/admin-log', t.pages.adminLog]);
  return renderPage({
    lang,
    title: t.startTitle,
    branding,
    path: '/staff',
    headerExtra: header,
    main: html`<h1 class="utrecht-heading-1">${t.startTitle}</h1>
${links.length
  ? html`<p class="utrecht-paragraph">${t.startIntro}</p><ul class="utrecht-unordered-list">${links.map(([href, label]) => html`<li class="utrecht-unordered-list__item"><a class="utrecht-link" href="${href}">${label}</a></li>`)}</ul>`
  : html`<p class="utrecht-paragraph">${t.startNone}</p>`}`,
  });
}

/**
 * GET/POST /login and POST /logout. Sign-in attempts are limited per client network (one limit shared with the flow
 * editor's sign-in) as well as per account, so neither password guessing on one account nor spraying over many
 * accounts gets far.
 */
/** The doors of this request (set by the router's first middleware). */
function doors(res: Response): { sso: boolean; local: boolean; defaultNext: string } {
  const sso = !!res.locals.idvSso;
  // Without a password form there is nothing to do on /login but go to the provider; `next` defaults by role then.
  return { sso, local: res.locals.idvLocal === true, defaultNext: sso ? '' : '/agent' };
}

export function staffLoginRouter(opts: {
  auth: StaffAuth;
  csrf: Csrf;
  secure: boolean;
  /** The sign-in limit per client network, shared with every other sign-in door. */
  limiter: RateLimiter;
  branding?: () => Branding | undefined;
  log?: (m: string) => void;
  /**
   * The sign-in through the gemeente's provider, when configured: fixed (the environment) or read per request (an
   * idv-staff-sso node may come and go with a deploy).
   */
  sso?: StaffSso | (() => StaffSso | undefined);
}): Router {
  const r = express.Router();
  r.use(noStore);
  const ssoNow = typeof opts.sso === 'function' ? opts.sso : () => opts.sso as StaffSso | undefined;
  r.use((req, res, next) => {
    // What this request sees: the sign-in doors as configured now.
    res.locals.idvSso = ssoNow();
    res.locals.idvLocal = opts.auth.pagesLocalAccounts();
    next();
  });
  r.get('/login', (req, res) => {
    const { sso, local, defaultNext } = doors(res);
    const lang = pickLang(req, res, opts.secure);
    const notice = req.query.out === '1' ? T[lang].loggedOut : undefined;
    const view = { lang, csrf: opts.csrf.issue(req, res), next: safeNext(req.query.next, defaultNext), path: req.baseUrl + '/login', branding: opts.branding?.(), sso, local, notice };
    res.type('html').send(loginPage(view));
  });
  r.post(
    '/login',
    ...bodyParsers('4kb'),
    asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      const { sso, local, defaultNext } = doors(res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next, defaultNext);
      const username = typeof body.username === 'string' ? body.username.slice(0, 64) : '';
      const again = (status: number, msg: string) =>
        res
          .status(status)
          .type('html')
          .send(loginPage({ lang, csrf: opts.csrf.issue(req, res), next, path: req.baseUrl + '/login', branding: opts.branding?.(), sso, local, error: msg, username }));
      // A door that is shut changes nothing, whoever knocks: no CSRF check needed to say so.
      if (!local) {
        opts.log?.('staff sign-in with a password refused: local accounts are switched off');
        return again(403, T[lang].localOff);
      }
      if (!sameOrigin(req) || !opts.csrf.verify(req)) return again(403, T[lang].csrf);
      const limit = await opts.limiter.hit(clientKey(req));
      if (!limit.ok) {
        res.setHeader('Retry-After', String(limit.retryAfterSec));
        return again(429, T[lang].locked);
      }
      if (!username || typeof body.password !== 'string' || !body.password) return again(400, T[lang].missing);
      const result = await opts.auth.login(username, body.password);
      if (!result.ok) {
        opts.log?.(`staff sign-in failed (${result.reason})`);
        return again(result.reason === 'locked' ? 429 : 401, result.reason === 'locked' ? T[lang].locked : T[lang].invalid);
      }
      opts.auth.startSession(res, result.sessionId);
      res.redirect(303, next || homeFor(result.user.roles));
    }),
  );
  r.post(
    '/logout',
    ...bodyParsers('4kb'),
    asyncRoute(async (req, res) => {
      if (!sameOrigin(req) || !opts.csrf.verify(req)) {
        const lang = pickLang(req);
        return res.status(403).type('text/plain').send(T[lang].csrf);
      }
      const { idToken } = await opts.auth.logout(req, res);
      // Signed in through the gemeente's provider: end the session there too, where it offers that.
      const provider = res.locals.idvSso as StaffSso | undefined;
      const providerUrl = idToken && provider ? await provider.endSessionUrl(idToken) : undefined;
      if (providerUrl) return res.type('html').send(signingOutPage(pickLang(req), providerUrl, opts.branding?.()));
      res.redirect(303, `${req.baseUrl}/login?out=1`);
    }),
  );
  r.get('/staff', opts.auth.requireStaff(), (req, res) => {
    const lang = pickLang(req, res, opts.secure);
    const who = req.staff!;
    res.type('html').send(startPage(lang, who.roles, opts.branding?.(), logoutForm(lang, opts.csrf.issue(req, res), who.displayName)));
  });
  if (opts.sso) addSsoRoutes(r, { sso: ssoNow, auth: opts.auth, secure: opts.secure, limiter: opts.limiter, branding: opts.branding, log: opts.log });
  r.use(errorHandler({ log: opts.log, branding: opts.branding }));
  return r;
}
