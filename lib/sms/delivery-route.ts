import express, { type Router } from 'express';
import { clientKey, createRateLimiter } from '../http/rate-limit';
import { bodyParsers, asyncRoute, noStore, securityHeaders, sendJsonError } from '../http/security';
import type { Services } from '../services';
import { parseDeliveryReport } from './delivery-report';
import { smsServiceOf } from './service';

/** Path of the delivery-report URL; the secret follows it. Dutch, as the product's other public paths. */
export const REPORT_PATH = '/sms/afleverrapport';
/** A report secret: 32 to 128 URL-safe characters (the gateway's settings hold it; at least 192 bits when random). */
export const REPORT_TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

/**
 * Delivery reports of SMS gateways (issue 14): `GET|POST /sms/afleverrapport/<secret>` with the report as query
 * string, form or flat JSON (lib/sms/delivery-report.ts). The secret in the path is the idv-sms-gateway's credential
 * `reportToken`, compared as a SHA-256 hash in constant time with every deployed gateway's; the shipped nginx log
 * mask covers the path. Recorded per SMS by our reference: 'delivered' or 'failed' with the gateway's code, once (a
 * replayed report changes nothing). A failure goes to idv-session-link's output 2 as ids and a code.
 *
 * Answers: 200 recorded (or a state on the way, nothing written); 400 a report that cannot be read; 404 a wrong
 * secret or an SMS we do not know; 405 another method; 413 a body over 4 kB; 415 another content type; 429 a client
 * guessing secrets. Every refusal writes nothing.
 */
export function smsDeliveryRouter(services: Services): Router {
  const router = express.Router();
  const guessing = createRateLimiter({ windowMs: 60_000, max: 30 });
  const now = () => new Date();

  router.all(`${REPORT_PATH}/:token`, securityHeaders({ frameAncestors: "'none'" }), noStore, asyncRoute(async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return sendJsonError(res, 405, 'method_not_allowed', 'Use GET or POST for a delivery report.');
    }
    const key = clientKey(req);
    if (!(await guessing.peek(key)).ok) return sendJsonError(res, 429, 'too_many_requests', 'Too many wrong report addresses from this network; try again later.');
    const token = req.params.token;
    const gateway = REPORT_TOKEN.test(token) ? smsServiceOf(services).reportGateway(token) : undefined;
    if (!gateway) {
      await guessing.hit(key);
      return sendJsonError(res, 404, 'not_found', 'This report address is not known.');
    }
    if (req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') {
        return sendJsonError(res, 415, 'unsupported_media_type', 'Send the report as application/json or application/x-www-form-urlencoded.');
      }
    }
    next();
  }), ...bodyParsers('4kb'), asyncRoute(async (req, res) => {
    const service = smsServiceOf(services);
    const gateway = service.reportGateway(req.params.token)!;
    const body: unknown = req.method === 'POST' ? req.body : req.query;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return sendJsonError(res, 400, 'bad_report', 'body: one report as a flat JSON object or form fields');
    const parsed = parseDeliveryReport(gateway.preset, body as Record<string, unknown>);
    if (!parsed.ok) return sendJsonError(res, 400, 'bad_report', parsed.message);
    if (parsed.status === 'pending') return res.status(200).json({ recorded: false });
    const outcome = await service.outbox.report(parsed.reference, gateway.id, parsed.status, parsed.code, now().toISOString());
    if (outcome.result === 'unknown') return sendJsonError(res, 404, 'unknown_message', 'No SMS with this reference was sent through this gateway.');
    if (outcome.result === 'recorded' && outcome.delivery.status === 'failed') {
      const d = outcome.delivery;
      service.reports.emit('undelivered', { id: d.reference, kind: d.kind, ...(d.appointmentId ? { appointmentId: d.appointmentId } : {}), ...(d.code ? { errorCode: d.code } : {}) });
    }
    res.status(200).json({ recorded: outcome.result === 'recorded', status: outcome.delivery.status });
  }));
  return router;
}
