import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { isUserError } from '../errors';
import { html } from './html';
import { pickLang, type Lang } from './lang';
import { renderPage, type Branding } from './layout';
import { requestLogBudget, type LogThrottle } from './log-throttle';
import { applySecurityHeaders, sendJsonError, wantsJson } from './security';

const GENERIC = {
  nl: { title: 'Er ging iets mis', body: 'Er ging aan onze kant iets mis. Probeert u het later opnieuw.' },
  en: { title: 'Something went wrong', body: 'Something went wrong on our side. Please try again later.' },
};

/** What a person reads for a client error a library raised; never the library's own message. */
const CLIENT: Record<number, { code: string; nl: [string, string]; en: [string, string] }> = {
  400: {
    code: 'malformed',
    nl: ['Dit adres klopt niet', 'Het adres of wat u verstuurde kon niet worden gelezen. Controleer de link of begin opnieuw.'],
    en: ['This address is not valid', 'The address or what you sent could not be read. Check the link or start again.'],
  },
  404: {
    code: 'not_found',
    nl: ['Pagina niet gevonden', 'Deze pagina bestaat niet.'],
    en: ['Page not found', 'This page does not exist.'],
  },
  405: {
    code: 'method_not_allowed',
    nl: ['Dit kan hier niet', 'Deze pagina kan dit verzoek niet verwerken.'],
    en: ['Not possible here', 'This page cannot handle this request.'],
  },
  413: {
    code: 'too_large',
    nl: ['Te groot', 'Wat u verstuurde is te groot.'],
    en: ['Too large', 'What you sent is too large.'],
  },
  414: {
    code: 'too_long',
    nl: ['Adres te lang', 'Het adres is te lang.'],
    en: ['Address too long', 'The address is too long.'],
  },
};

/**
 * The status a library's error asks for when it is the client's fault: http-errors style `status`/`statusCode`
 * (express's URIError for a malformed parameter, body-parser, send/serve-static). 401/403 from a library (e.g. send's
 * "path outside root") answer as 404: there is nothing there for the client. Undefined for everything else.
 */
export function clientErrorStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown };
  if (typeof e.type === 'string') {
    if (e.type === 'entity.too.large' || e.type === 'parameters.too.many') return 413;
    if (e.type === 'entity.parse.failed' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return 400;
  }
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  return status === 401 || status === 403 ? 404 : status;
}

/**
 * The request path as it may appear in a log line: at most 120 characters, long token-like runs (access and cancel
 * links carry secrets in the path) replaced by "[redacted]", anything outside printable ASCII as "?".
 */
export function loggablePath(req: Request): string {
  const p = (req.originalUrl || req.url || '').split('?')[0] ?? '';
  const clean = p.replace(/[A-Za-z0-9_-]{24,}/g, '[redacted]').replace(/[^\x21-\x7e]/g, '?');
  return clean.length > 120 ? `${clean.slice(0, 117)}...` : clean;
}

/** A path fit for the language link of an error page: the request's own when short and well-formed, else "/". */
function pagePath(req: Request): string {
  const p = req.baseUrl + req.path;
  if (p.length > 512) return '/';
  try {
    decodeURIComponent(p);
    return p;
  } catch {
    return '/';
  }
}

export function sendErrorPage(req: Request, res: Response, status: number, title: string, message: string, branding?: Branding): void {
  if (res.headersSent) return;
  const lang = pickLang(req);
  if (!res.getHeader('Content-Security-Policy')) applySecurityHeaders(res);
  res.status(status).type('html').setHeader('Cache-Control', 'no-store');
  res.send(
    renderPage({
      lang,
      title,
      branding,
      path: pagePath(req),
      main: html`<h1 class="utrecht-heading-1">${title}</h1>${message ? html`<p class="utrecht-paragraph">${message}</p>` : ''}`,
    }),
  );
}

/** The plain "not found" page (unknown paths, the runtime's last handler). */
export function sendNotFound(req: Request, res: Response, branding?: Branding): void {
  const t = CLIENT[404][pickLang(req)];
  if (wantsJson(req)) return sendJsonError(res, 404, 'not_found', t[1]);
  sendErrorPage(req, res, 404, t[0], t[1], branding);
}

function clientText(status: number, lang: Lang): { code: string; title: string; body: string } {
  const entry = CLIENT[status] ?? CLIENT[400];
  return { code: entry.code, title: entry[lang][0], body: entry[lang][1] };
}

/**
 * First handler of the runtime, before any route: a path whose percent-encoding is malformed (`%E0`, `%E0%A4%A`) or
 * that decodes to a NUL is a 400 at once, whichever route it aims at, instead of depending on whether some route
 * decodes it; a path that decodes to `..` anywhere (`/../`, `%2e%2e%2f`) is a 404 — no address of ours has one, and
 * libraries behind us (Node-RED's icon lookup) answer it by writing a stack trace to the log.
 */
export function rejectHostilePath(opts: ErrorHandlerOptions = {}): RequestHandler {
  const handler = errorHandler(opts);
  return (req, res, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(req.path);
    } catch {
      decoded = '\u0000';
    }
    if (decoded.includes('\u0000')) return handler(Object.assign(new URIError('malformed path'), { status: 400 }), req, res, next);
    if (decoded.includes('..')) return handler(Object.assign(new Error('dot-dot path'), { status: 404 }), req, res, next);
    next();
  };
}

export interface ErrorHandlerOptions {
  log?: (msg: string) => void;
  branding?: () => Branding | undefined;
  /** The log budget (default: the process-wide one). */
  budget?: LogThrottle;
}

/**
 * Last handler of every router of ours (lib/http/mount.ts puts it behind each mounted router; the runtime puts it
 * last). A UserError's message is meant for the user; a library's client error (malformed percent-encoding, a bad
 * body, a missing file) keeps its 4xx status with our own text; everything else is a generic 500. A library's message,
 * a stack or a file path never reaches the response. One short line per request goes to the log, within a budget.
 */
export function errorHandler(opts: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const budget = opts.budget ?? requestLogBudget;
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const lang = pickLang(req);
    if (isUserError(err)) {
      if (wantsJson(req) || req.path.endsWith('.json')) return sendJsonError(res, err.status, err.code, err.message, err.fields);
      return sendErrorPage(req, res, err.status, err.message, '', opts.branding?.());
    }
    const client = clientErrorStatus(err);
    const status = client ?? 500;
    const e = err as { name?: unknown; message?: unknown } | undefined;
    if (opts.log) {
      const what = client ? `refused (${status})` : `internal error (${String(e?.name ?? 'Error')}: ${String(e?.message ?? '').split('\n')[0]?.slice(0, 160)})`;
      budget(`${what} on ${req.method} ${loggablePath(req)}`, opts.log);
    }
    const text = client ? clientText(status, lang) : { code: 'internal', title: GENERIC[lang].title, body: GENERIC[lang].body };
    if (wantsJson(req) || req.path.endsWith('.json')) return sendJsonError(res, status, text.code, text.body);
    sendErrorPage(req, res, status, text.title, text.body, opts.branding?.());
  };
}
