import * as path from 'node:path';
import express, { type RequestHandler } from 'express';

/** dist/web: bundled browser code, our stylesheet and the vendored NL Design System CSS (copied by the build). */
export const WEB_DIST = path.resolve(__dirname, '..', '..', 'web');

export function staticFiles(): RequestHandler {
  return express.static(WEB_DIST, {
    index: false,
    dotfiles: 'ignore',
    fallthrough: false,
    maxAge: '1h',
    setHeaders: (res) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    },
  });
}
