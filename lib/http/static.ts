import * as path from 'node:path';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { clientErrorStatus, loggablePath } from './errors';
import { requestLogBudget } from './log-throttle';

/** dist/web: bundled browser code, our stylesheet and the vendored NL Design System CSS (copied by the build). */
export const WEB_DIST = path.resolve(__dirname, '..', '..', 'web');

const setHeaders = (res: express.Response) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
};

/**
 * The static files under /idv/static. Whatever is not a file here — missing, a directory, a dot file, a path that
 * climbs out (`..`, `%2e%2e%2f`) — is a plain 404; a malformed percent-encoding a plain 400. The answer is a short
 * text, never the library's error page (which names the file system path and prints a stack outside production).
 */
export function staticFiles(log?: (msg: string) => void): Router {
  const r = express.Router();
  r.use(express.static(WEB_DIST, { index: false, dotfiles: 'ignore', fallthrough: false, redirect: false, maxAge: '1h', setHeaders }));
  const notAFile: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = clientErrorStatus(err) === 400 ? 400 : 404;
    if (log) requestLogBudget(`static file refused (${status}) on ${req.method} ${loggablePath(req)}`, log);
    setHeaders(res);
    res.status(status).type('text/plain; charset=utf-8').setHeader('Cache-Control', 'no-store');
    res.send(status === 400 ? 'Ongeldig adres. / Bad request.' : 'Niet gevonden. / Not found.');
  };
  r.use(notAFile);
  return r;
}
