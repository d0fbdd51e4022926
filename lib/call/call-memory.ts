import type { Request, RequestHandler } from 'express';
import { sendJsonError } from '../http/security';
import type { Services } from '../services';

export const PINNED = Symbol('idv.owner-forward.pinned');
export const RECOGNISED = Symbol('idv.owner-forward.recognised');
export type Marked = Request & { [PINNED]?: Pick<Services['log'], 'error'>; [RECOGNISED]?: boolean };

/**
 * Marks a route as reading or changing a call's memory (chat, documents, guests, identification requests and sets):
 * put it first in the route's handler chain. With several instances, such a request must have been recognised by
 * `ownerForward` (and so be on the room's owner); one that was not is refused with 503 and an error line naming the
 * path, so a route missing from the table in lib/call/owner-forward.ts fails loudly in every two-instance test instead of answering from an
 * instance without the call. One instance: passes.
 */
export const callMemory: RequestHandler = function idvCallMemory(req, res, next) {
  const m = req as Marked;
  const log = m[PINNED];
  if (!log || m[RECOGNISED]) return next();
  log.error(`${req.method} ${req.path} reads a call's memory but lib/call/owner-forward.ts does not send it to the room's owner`);
  sendJsonError(res, 503, 'unavailable', 'This is not available right now. Please try again.');
};

