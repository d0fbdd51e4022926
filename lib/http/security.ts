import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

export interface SecurityOptions {
  /** CSP frame-ancestors sources, e.g. "'self' https://www.gemeente.nl" for the embeddable booking form. */
  frameAncestors?: string;
  /** Extra origins forms may post to / be redirected to (OIDC providers for the identification start). */
  formAction?: string[];
}

/**
 * Origins the configured branding loads from (idv-settings): the theme stylesheet (with the fonts and images it
 * refers to) and the logo. The CSP allows these and no other outside origin. Process-wide like the branding itself;
 * set by services.setBranding.
 */
let brandingOrigins: { theme?: string; logo?: string } = {};

/** The origin of an absolute http(s) URL; undefined for a path of ours or anything else. */
function originOf(url: string | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Lets the pages load the theme stylesheet and logo of this branding (absolute URLs only; paths are 'self'). */
export function allowBrandingOrigins(b: { themeCssUrl?: string; logoUrl?: string }): void {
  brandingOrigins = { theme: originOf(b.themeCssUrl), logo: originOf(b.logoUrl) };
}

/** The CSP and companion headers of one page kind (see securityHeaders), with the branding origins of now. */
function headerSet(opts: SecurityOptions = {}): [string, string][] {
  const frameAncestors = opts.frameAncestors?.trim() || "'none'";
  const formAction = ["'self'", ...(opts.formAction ?? [])].join(' ');
  const { theme, logo } = brandingOrigins;
  const sources = (...extra: (string | undefined)[]) => ["'self'", ...new Set(extra.filter((o): o is string => !!o))].join(' ');
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    `style-src ${sources(theme)}`,
    `img-src ${sources(theme, logo)} data: blob:`,
    "media-src 'self' blob:",
    "connect-src 'self'",
    `font-src ${sources(theme)}`,
    "object-src 'none'",
    "base-uri 'none'",
    `form-action ${formAction}`,
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
  const xfo = frameAncestors === "'none'" ? 'DENY' : frameAncestors === "'self'" ? 'SAMEORIGIN' : undefined;
  const headers: [string, string][] = [
    ['Content-Security-Policy', csp],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(self), microphone=(self), geolocation=(), payment=()'],
  ];
  if (xfo) headers.push(['X-Frame-Options', xfo]);
  return headers;
}

/**
 * The headers of one page kind, made again only when the branding origins changed (a redeploy of idv-settings), so
 * a response costs a comparison, not a string build.
 */
function cachedHeaders(opts: SecurityOptions = {}): () => [string, string][] {
  let cache: { theme?: string; logo?: string; headers: [string, string][] } | undefined;
  return () => {
    const { theme, logo } = brandingOrigins;
    if (!cache || cache.theme !== theme || cache.logo !== logo) cache = { theme, logo, headers: headerSet(opts) };
    return cache.headers;
  };
}

const defaultHeaders = cachedHeaders();

/** Sets the baseline headers on one response (error pages answered outside a page router). */
export function applySecurityHeaders(res: Response, opts?: SecurityOptions): void {
  for (const [name, value] of opts ? headerSet(opts) : defaultHeaders()) res.setHeader(name, value);
}

/**
 * Baseline headers for every page and API of ours. The CSP allows no inline script or style at all: pages load
 * their code from /idv/static only, which is what makes an escaped-but-missed value harmless.
 */
export function securityHeaders(opts: SecurityOptions = {}): RequestHandler {
  const headers = cachedHeaders(opts);
  return (_req, res, next) => {
    for (const [name, value] of headers()) res.setHeader(name, value);
    next();
  };
}

/**
 * Strict-Transport-Security (RFC 6797) for an installation residents reach over https (IDV_PUBLIC_URL), on every
 * response, max-age from IDV_HSTS_MAX_AGE. Never over plain http (RFC 6797 7.2): with IDV_TRUST_PROXY set, the
 * proxy's X-Forwarded-Proto tells; without it we cannot see the scheme and go by the configured https public URL
 * (TLS ends at the proxy). An http public URL (demo, loopback) never sends it.
 */
export function strictTransportSecurity(config: { publicUrl: string; hstsMaxAge: number; trustProxy: number }): RequestHandler {
  const on = config.publicUrl.startsWith('https://') && config.hstsMaxAge > 0;
  const value = `max-age=${config.hstsMaxAge}`;
  return (req, res, next) => {
    if (on && (config.trustProxy === 0 || req.secure)) res.setHeader('Strict-Transport-Security', value);
    next();
  };
}

/** Personal pages and API answers must not be kept by browsers or proxies. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
};

/** Body parsers with small limits; anything larger is a 413 before it is read into memory. */
export function bodyParsers(limit = '16kb'): RequestHandler[] {
  return [
    express.urlencoded({ extended: false, limit, parameterLimit: 50 }),
    express.json({ limit, strict: true }),
  ];
}

export function wantsJson(req: Request): boolean {
  const type = req.headers['content-type'] || '';
  if (type.includes('application/json')) return true;
  const accept = req.headers.accept || '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

export function sendJsonError(res: Response, status: number, error: string, message: string, fields?: Record<string, string>): void {
  if (res.headersSent) return;
  res.status(status).type('application/json').setHeader('Cache-Control', 'no-store');
  res.send(JSON.stringify(fields ? { error, message, fields } : { error, message }));
}

/** Same-origin check for state-changing requests: a foreign Origin is refused outright. */
export function sameOrigin(req: Request, publicUrl?: string): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // non-browser clients and old browsers; CSRF tokens still apply to forms
  // Under our Referrer-Policy no-referrer, Chromium sends "Origin: null" even for same-origin form posts; the
  // browser-set (unforgeable by pages) Sec-Fetch-Site then tells a same-origin post from a sandboxed or foreign one.
  if (origin === 'null') return req.headers['sec-fetch-site'] === 'same-origin';
  const host = req.headers.host;
  try {
    const o = new URL(origin);
    if (publicUrl && o.origin === new URL(publicUrl).origin) return true;
    return o.host === host;
  } catch {
    return false;
  }
}

export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<unknown> | unknown;

/** Lets route handlers be async: a rejection goes to the error handler instead of becoming an unhandled rejection. */
export function asyncRoute(fn: AsyncHandler): RequestHandler {
  return (req, res, next) => {
    Promise.resolve()
      .then(() => fn(req, res, next))
      .catch(next);
  };
}
