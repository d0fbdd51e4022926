import express, { type ErrorRequestHandler, type Router } from 'express';
import { authenticateCall, type CallAuthDeps } from '../call/authenticate';
import { appointmentStoreOf, linkServiceOf } from '../call/deps';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import { noStore, sameOrigin, securityHeaders, sendJsonError, asyncRoute } from '../http/security';
import type { Services } from '../services';
import type { QualityReport } from './types';

/** The path the call pages report to (web/parts/quality-report.ts). */
export const QUALITY_PATH = '/call/quality';
/** One report covers at most this long (a call page left open for a working day); more is not a real measurement. */
const MAX_REPORT_MS = 12 * 3600_000;

/**
 * Reads a page's quality report: `{good, poor, none}` in whole milliseconds, each 0 or more, together more than 0
 * and at most 12 hours. Returns the report or a message naming the field.
 */
export function parseQualityReport(body: unknown): { ok: true; report: QualityReport } | { ok: false; message: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, message: 'body: a JSON object {good, poor, none} in milliseconds' };
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((k) => !['good', 'poor', 'none'].includes(k));
  if (extra) return { ok: false, message: `${extra.slice(0, 20)}: unknown field; only good, poor and none` };
  const out: number[] = [];
  for (const k of ['good', 'poor', 'none'] as const) {
    const v = b[k] ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_REPORT_MS) return { ok: false, message: `${k}: whole milliseconds from 0 to ${MAX_REPORT_MS}` };
    out.push(v);
  }
  const total = out[0] + out[1] + out[2];
  if (total === 0 || total > MAX_REPORT_MS) return { ok: false, message: `good + poor + none: more than 0 and at most ${MAX_REPORT_MS} milliseconds` };
  return { ok: true, report: { goodMs: out[0], poorMs: out[1], noneMs: out[2] } };
}

/**
 * `POST /call/quality[?appointment=<id>]` (issue 14, point 6): a call page reports how long its media was good,
 * fair-or-poor or absent. Whoever may join the call may report (the resident's call-session cookie; the agent signed
 * in, with the appointment as the agent's page joins it). Stored added up per appointment and side (call_quality,
 * migration 015) for the manager's statistics; a guest's report is taken and dropped (204). JSON only, same origin,
 * 4 kB, limited per client. 400 for a bad report, 401 for someone who may not join, 403 from another origin.
 */
export function qualityRouter(services: Services): Router {
  const r = express.Router();
  const limit = rateLimit(createRateLimiter({ windowMs: 60_000, max: 30 }));
  // The body first (a beacon sent while its page closes may lose its connection right after sending), then the
  // checks. A body that cannot be read — too large, not JSON, or a connection already gone — is the client's
  // problem: a 4xx, never an internal error.
  const body: ErrorRequestHandler = (err: { type?: unknown }, _req, res, _next) => {
    if (err?.type === 'entity.too.large') return sendJsonError(res, 413, 'too_large', 'body: at most 4 kB');
    sendJsonError(res, 400, 'bad_report', 'body: a JSON object {good, poor, none} in milliseconds');
  };
  // Who may report is who may join the call (lib/call/authenticate.ts): the resident's (or guest's) call-session
  // cookie, or the signed-in agent with `?appointment=<id>` of their own booked appointment, as the agent's page joins.
  const deps = (): CallAuthDeps => ({ links: linkServiceOf(services), appointments: appointmentStoreOf(services), staff: services.staff, secure: services.secure });
  r.post(QUALITY_PATH, securityHeaders(), noStore, express.json({ limit: '4kb', strict: true, type: () => true }), body, limit, asyncRoute(async (req, res) => {
    if (!sameOrigin(req, services.config.publicUrl || undefined)) return sendJsonError(res, 403, 'forbidden', 'Vernieuw de pagina. / Reload the page.');
    const session = await authenticateCall(req, deps());
    if (!session) return sendJsonError(res, 401, 'call_session_required', 'Open the call through your link, or sign in as its agent.');
    const parsed = parseQualityReport(req.body);
    if (!parsed.ok) return sendJsonError(res, 400, 'bad_report', parsed.message);
    if (session.role === 'resident' || session.role === 'agent') {
      await services.store.statistics.recordQuality(session.appointmentId, session.role, parsed.report, new Date().toISOString());
    }
    res.status(204).end();
  }));
  return r;
}
