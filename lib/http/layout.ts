import { html, type SafeHtml } from './html';
import type { Lang } from './lang';

export const STATIC_PREFIX = '/idv/static';

export interface Branding {
  municipality: string;
  /** URL (https or a path of ours) of the municipality's logo. */
  logoUrl?: string;
  /** URL of a design-token stylesheet that replaces the default NL Design System theme. */
  themeCssUrl?: string;
  /** Class(es) on <html> the municipality's theme is scoped to (e.g. utrecht-theme); default DEFAULT_THEME_CLASS. */
  themeClass?: string;
}

/**
 * The neutral default theme (web/theme.css): NL Design System's token architecture (basis tokens, Utrecht component
 * tokens on top) in neutral colours. Scoped to this class so a municipality's own theme, with its own class, never
 * mixes with it.
 */
export const DEFAULT_THEME_CLASS = 'idv-theme';

export const DEFAULT_BRANDING: Branding = { municipality: 'Gemeente Voorbeeld' };

export interface PageOptions {
  lang: Lang;
  title: string;
  main: SafeHtml;
  branding?: Branding;
  /** Script files under /idv/static (no inline script: the CSP forbids it). */
  scripts?: string[];
  /** Extra stylesheets under /idv/static, after idv.css (e.g. the call page's). */
  styles?: string[];
  /** Current path, for the language switch link. */
  path?: string;
  /** Shown in the header, e.g. the signed-in employee with a logout form. */
  headerExtra?: SafeHtml;
  /** A data attribute bag for scripts (values escaped), read from document.body.dataset. */
  data?: Record<string, string>;
  /** Extra classes on <body> for a page's own layout (e.g. the full-width agent workspace). */
  bodyClass?: string;
  /**
   * Go on to this URL at once (`<meta http-equiv="refresh" content="0;url=…">`, no script needed): a page that
   * hands the browser on after a form post, where a redirect would fall under the posting page's form-action.
   */
  refreshTo?: string;
}

const SKIP = { nl: 'Naar de inhoud', en: 'Skip to content' };
const OTHER = { nl: { label: 'English', lang: 'en' }, en: { label: 'Nederlands', lang: 'nl' } } as const;

/**
 * The one page frame of all our pages: NL Design System (Utrecht components + design tokens theme), a skip link,
 * a header with the municipality and the language switch, the main landmark. A gemeente swaps the theme by URL.
 */
export function renderPage(o: PageOptions): string {
  const b = o.branding ?? DEFAULT_BRANDING;
  const other = OTHER[o.lang];
  const switchHref = `${o.path ?? ''}?lang=${other.lang}`;
  const dataAttrs = Object.entries(o.data ?? {}).map(([k, v]) => html` data-${k.replace(/[^a-z0-9-]/g, '')}="${v}"`);
  return (
    '<!DOCTYPE html>\n' +
    html`<html lang="${o.lang}" class="${b.themeClass || DEFAULT_THEME_CLASS}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${o.refreshTo}">\n` : ''}<title>${o.title} – ${b.municipality}</title>
<link rel="stylesheet" href="${STATIC_PREFIX}/theme.css">
<link rel="stylesheet" href="${STATIC_PREFIX}/vendor/utrecht.css">
${b.themeCssUrl ? html`<link rel="stylesheet" href="${b.themeCssUrl}">` : ''}
<link rel="stylesheet" href="${STATIC_PREFIX}/idv.css">
${(o.styles ?? []).map((s) => html`<link rel="stylesheet" href="${STATIC_PREFIX}/${s}">`)}
${(o.scripts ?? []).map((s) => html`<script src="${STATIC_PREFIX}/${s}" defer></script>`)}
</head>
<body class="utrecht-document utrecht-document--surface idv-body${o.bodyClass ? ` ${o.bodyClass}` : ''}"${dataAttrs}>
<a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#main">${SKIP[o.lang]}</a>
<div class="utrecht-page">
<header class="utrecht-page-header idv-header">
  <div class="idv-brand">
    ${b.logoUrl ? html`<img class="utrecht-logo-image idv-logo" src="${b.logoUrl}" alt="${b.municipality}">` : html`<span class="idv-municipality">${b.municipality}</span>`}
  </div>
  <nav class="idv-header-nav" aria-label="${o.lang === 'nl' ? 'Taal en account' : 'Language and account'}">
    <a class="utrecht-link idv-header-link" href="${switchHref}" lang="${other.lang}" hreflang="${other.lang}">${other.label}</a>
    ${o.headerExtra ?? ''}
  </nav>
</header>
<main id="main" class="utrecht-page-content idv-main" tabindex="-1">
${o.main}
</main>
<footer class="utrecht-page-footer idv-footer"><p class="utrecht-paragraph">${b.municipality} · ID Video</p></footer>
</div>
</body>
</html>`.value
  );
}
