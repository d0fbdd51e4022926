import type { Request, Response } from 'express';
import { readCookies, setCookie } from './cookies';

export type Lang = 'nl' | 'en';
export const LANG_COOKIE = 'idv_lang';

/**
 * Dutch first: a page is in English only when the visitor chose it (`?lang=en`, remembered in a cookie). The choice
 * is not personal data and carries no session.
 */
export function pickLang(req: Request, res?: Response, secure = false, opts: { followBrowser?: boolean } = {}): Lang {
  const q = typeof req.query.lang === 'string' ? req.query.lang : undefined;
  if (q === 'nl' || q === 'en') {
    if (res) setCookie(res, LANG_COOKIE, q, { secure, maxAgeSeconds: 365 * 24 * 3600 });
    return q;
  }
  const c = readCookies(req)[LANG_COOKIE];
  if (c === 'en' || c === 'nl') return c;
  // Staff pages (followBrowser): without a choice, English when the browser's first language is English.
  if (opts.followBrowser && /^en\b/i.test(String(req.headers['accept-language'] ?? '').trim())) return 'en';
  return 'nl';
}

/** A pair of texts, Dutch (formal "u") and English. */
export type Texts<K extends string> = Record<Lang, Record<K, string>>;

export function t<K extends string>(texts: Texts<K>, lang: Lang, key: K): string {
  return texts[lang][key] ?? texts.nl[key];
}
