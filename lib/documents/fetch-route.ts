import express, { type Router } from 'express';
import { callMemory } from '../call/call-memory';
import { asyncRoute, noStore, sendJsonError } from '../http/security';
import { createRateLimiter, rateLimit } from '../http/rate-limit';
import type { DocumentService } from './service';

/** Where a flow fetches a shared document once, with the token idv-fetch-document issued. */
export const FETCH_PATH = '/idv/documents';

/**
 * `GET /idv/documents/<token>`: a flow's single-purpose, one-time fetch of a shared document (idv-fetch-document
 * issues the token; it is valid FETCH_SECONDS, within the document's lifetime, and works once). The answer is a
 * download that nothing interprets: attachment, nosniff, a CSP that allows nothing and sandboxes. Unknown, used and
 * expired tokens all get the same 404.
 */
export function documentFetchRouter(documents: () => DocumentService | undefined): Router {
  const r = express.Router();
  r.get(`${FETCH_PATH}/:token`, callMemory, noStore, rateLimit(createRateLimiter({ windowMs: 60_000, max: 60 })), asyncRoute(async (req, res) => {
    const doc = documents()?.redeemFetch(String(req.params.token));
    if (!doc) return sendJsonError(res, 404, 'not_found', 'This fetch link is unknown, used or expired.');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', `attachment; filename="${doc.documentId}.${doc.kind === 'jpeg' ? 'jpg' : doc.kind}"`);
    res.type(doc.mime).send(doc.bytes);
  }));
  return r;
}
