import type { ErrorRequestHandler, Request, Response } from 'express';
import { isUserError } from '../errors';
import { html } from './html';
import { pickLang } from './lang';
import { renderPage, type Branding } from './layout';
import { sendJsonError, wantsJson } from './security';

const GENERIC = {
  nl: { title: 'Er ging iets mis', body: 'Er ging aan onze kant iets mis. Probeert u het later opnieuw.' },
  en: { title: 'Something went wrong', body: 'Something went wrong on our side. Please try again later.' },
};

export function sendErrorPage(req: Request, res: Response, status: number, title: string, message: string, branding?: Branding): void {
  if (res.headersSent) return;
  const lang = pickLang(req);
  res.status(status).type('html').setHeader('Cache-Control', 'no-store');
  res.send(
    renderPage({
      lang,
      title,
      branding,
      path: req.baseUrl + req.path,
      main: html`<h1 class="utrecht-heading-1">${title}</h1><p class="utrecht-paragraph">${message}</p>`,
    }),
  );
}

/**
 * Last handler of every router of ours. A UserError's message is meant for the user; body-parser errors become
 * 400/413; everything else is a generic 500 and only its name and message (never a request body) go to the log.
 */
export function errorHandler(opts: { log?: (msg: string) => void; branding?: () => Branding | undefined } = {}): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let code = 'internal';
    let message = '';
    let fields: Record<string, string> | undefined;
    const lang = pickLang(req);
    if (isUserError(err)) {
      status = err.status;
      code = err.code;
      message = err.message;
      fields = err.fields;
    } else if (err && typeof err === 'object' && 'type' in err && typeof (err as { type: unknown }).type === 'string') {
      const type = (err as { type: string }).type;
      if (type === 'entity.too.large') {
        status = 413;
        code = 'too_large';
        message = lang === 'nl' ? 'Wat u verstuurde is te groot.' : 'What you sent is too large.';
      } else if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
        status = 400;
        code = 'malformed';
        message = lang === 'nl' ? 'Wat u verstuurde kon niet worden gelezen.' : 'What you sent could not be read.';
      } else if (type === 'parameters.too.many') {
        status = 413;
        code = 'too_large';
        message = lang === 'nl' ? 'Te veel velden.' : 'Too many fields.';
      }
    }
    if (status === 500) {
      opts.log?.(`internal error on ${req.method} ${req.baseUrl}${req.path}: ${(err as Error)?.name}: ${(err as Error)?.message}`);
      message = GENERIC[lang].body;
    }
    if (wantsJson(req) || req.path.endsWith('.json')) return sendJsonError(res, status, code, message, fields);
    sendErrorPage(req, res, status, status === 500 ? GENERIC[lang].title : message, status === 500 ? message : '', opts.branding?.());
  };
}
