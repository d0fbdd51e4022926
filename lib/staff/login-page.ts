import express, { type Router } from 'express';
import type { Csrf } from '../http/csrf';
import { CSRF_FIELD } from '../http/csrf';
import { errorHandler } from '../http/errors';
import { html } from '../http/html';
import { pickLang, type Lang } from '../http/lang';
import { renderPage, type Branding } from '../http/layout';
import { clientKey, type RateLimiter } from '../http/rate-limit';
import { asyncRoute, bodyParsers, noStore, sameOrigin } from '../http/security';
import { safeNext, type StaffAuth } from './auth';

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
  },
} as const;

/** The sign-out button for page headers (a form: sign-out changes state, so it is a POST with a CSRF token). */
export function logoutForm(lang: Lang, csrfToken: string, displayName: string, basePath = '') {
  const t = T[lang];
  return html`<span class="idv-signed-in">${t.signedInAs} ${displayName}</span>
<form method="post" action="${basePath}/logout" class="idv-inline-form"><input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<button type="submit" class="utrecht-button utrecht-button--subtle idv-logout">${t.logout}</button></form>`;
}

function loginPage(lang: Lang, csrf: string, next: string, path: string, branding: Branding | undefined, error?: string, username = '', notice?: string) {
  const t = T[lang];
  return renderPage({
    lang,
    title: t.title,
    branding,
    path,
    scripts: ['form-errors.js'],
    main: html`<h1 class="utrecht-heading-1">${t.title}</h1>
${notice ? html`<div class="utrecht-alert utrecht-alert--ok" role="status"><p class="utrecht-paragraph">${notice}</p></div>` : ''}
${error
  ? html`<div class="utrecht-alert utrecht-alert--error idv-error-summary" role="alert" tabindex="-1" id="error-summary">
<h2 class="utrecht-heading-2">${t.errorsTitle}</h2><p class="utrecht-paragraph"><a class="utrecht-link" href="#username">${error}</a></p></div>`
  : ''}
<p class="utrecht-paragraph">${t.intro}</p>
<form method="post" action="${path}" class="idv-form" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<input type="hidden" name="next" value="${next}">
<div class="utrecht-form-field utrecht-form-field--text${error ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="username">${t.username}</label>
<input class="utrecht-textbox utrecht-textbox--html-input${error ? ' utrecht-textbox--invalid' : ''}" id="username" name="username" autocomplete="username" required maxlength="64" value="${username}" ${error ? html`aria-describedby="error-summary" aria-invalid="true"` : ''}>
</div>
<div class="utrecht-form-field utrecht-form-field--text${error ? ' utrecht-form-field--invalid' : ''}">
<label class="utrecht-form-label" for="password">${t.password}</label>
<input class="utrecht-textbox utrecht-textbox--html-input${error ? ' utrecht-textbox--invalid' : ''}" id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${error ? html` aria-describedby="error-summary" aria-invalid="true"` : ''}>
</div>
<button type="submit" class="utrecht-button utrecht-button--primary-action">${t.submit}</button>
</form>`,
  });
}

/**
 * GET/POST /login and POST /logout. Sign-in attempts are limited per client network (one limit shared with the flow
 * editor's sign-in) as well as per account, so neither password guessing on one account nor spraying over many
 * accounts gets far.
 */
export function staffLoginRouter(opts: {
  auth: StaffAuth;
  csrf: Csrf;
  secure: boolean;
  /** The sign-in limit per client network, shared with every other sign-in door. */
  limiter: RateLimiter;
  branding?: () => Branding | undefined;
  log?: (m: string) => void;
}): Router {
  const r = express.Router();
  r.use(noStore);
  r.get('/login', (req, res) => {
    const lang = pickLang(req, res, opts.secure);
    const notice = req.query.out === '1' ? T[lang].loggedOut : undefined;
    res.type('html').send(loginPage(lang, opts.csrf.issue(req, res), safeNext(req.query.next, '/agent'), req.baseUrl + '/login', opts.branding?.(), undefined, '', notice));
  });
  r.post(
    '/login',
    ...bodyParsers('4kb'),
    asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next, '/agent');
      const username = typeof body.username === 'string' ? body.username.slice(0, 64) : '';
      const again = (status: number, msg: string) =>
        res.status(status).type('html').send(loginPage(lang, opts.csrf.issue(req, res), next, req.baseUrl + '/login', opts.branding?.(), msg, username));
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
      res.redirect(303, next);
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
      await opts.auth.logout(req, res);
      res.redirect(303, `${req.baseUrl}/login?out=1`);
    }),
  );
  r.use(errorHandler({ log: opts.log, branding: opts.branding }));
  return r;
}
