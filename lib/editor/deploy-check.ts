import express, { type RequestHandler } from 'express';
import { asyncRoute } from '../http/security';
import { bearer } from './guard';
import type { EditorSessions } from './sessions';

export interface DeployCheckOptions {
  sessions: Pick<EditorSessions, 'validate'>;
  /** The problems of a flows configuration (empty: it may run). */
  problems(flows: unknown): Promise<string[]>;
  log(line: string): void;
}

/**
 * Mounted at the editor's path before Node-RED's admin app (production only): a deploy (POST flows) whose flows still
 * hold the demo set-up is refused with 400 and the list of what to change, which the editor shows in its "Deploy
 * failed" notice; nothing is saved. Only a signed-in administrator's deploy is looked at — anyone else gets Node-RED's
 * own 401, and learns nothing about staff accounts. The body is parsed here with Node-RED's own limit (5 MB,
 * `apiMaxLength`); Node-RED's body parser then sees it parsed and uses it as it is. A reload (no body) passes.
 */
export function deployCheck(o: DeployCheckOptions): RequestHandler {
  const json = express.json({ limit: '5mb' });
  const check = asyncRoute(async (req, res, next) => {
    if (req.headers['node-red-deployment-type'] === 'reload' || !(await o.sessions.validate(bearer(req)))) return next();
    const problems = await o.problems(req.body);
    if (!problems.length) return next();
    o.log(`deploy refused: the flows still hold the demo set-up (${problems.length} problem(s))`);
    const text = `Production: the flows still hold the demo set-up. Change: ${problems.join('; ')}.`;
    res.status(400).type('text/plain; charset=utf-8').setHeader('Cache-Control', 'no-store');
    // The editor puts this text into its notice as HTML.
    res.send(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });
  // A plain middleware, not a Router: a Router would answer OPTIONS for /flows itself, before the editor guard refuses
  // cross-origin preflights.
  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/flows') return next();
    json(req, res, (err?: unknown) => (err ? next(err) : check(req, res, next)));
  };
}
