import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { callMemory } from '../call/call-memory';
import type { Appointment } from '../appointments/store';
import type { ProcessingLogEntry } from '../attributes/processing-log';
import type { CallChat } from '../call/chat';
import type { GuestService } from '../call/guests';
import type { DocumentService } from '../documents/service';
import { isUserError } from '../errors';
import type { Csrf } from '../http/csrf';
import { pickLang } from '../http/lang';
import { asyncRoute, bodyParsers, sameOrigin, sendJsonError } from '../http/security';
import { AGENT } from './texts';

/** What the agent's chat, document, screen and guest routes need of the running call service. */
export interface CallExtras {
  chat: CallChat;
  documents: DocumentService;
  guests: GuestService;
  media: { admitGuest(appointmentId: string): number; removeGuest(appointmentId: string): number; guestWaiting(appointmentId: string): boolean; publish(appointmentId: string, role: 'resident' | 'agent' | 'guest', n: { method: string; data?: unknown }): number };
  presence: { get(appointmentId: string): { guest?: boolean } };
  record(entry: ProcessingLogEntry): Promise<void>;
}

export interface CallExtrasRoutesOptions {
  /** The agent's own booked appointment of the request (`:id`), or undefined. */
  own(req: Request): Promise<Appointment | undefined>;
  extras: () => CallExtras | undefined;
  guard: RequestHandler[];
  csrf: Csrf;
  publicUrl?: () => string | undefined;
}

const DOC_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The agent's side of issue 13, for the agent's own appointments only (anything else is a 404 that looks like an
 * unknown one): the chat (history, "Verwijder nu"), the resident's shared documents (list, view, "Verwijder nu") and
 * the third participant (invite, let in, remove). State-changing requests need the CSRF token and the same origin.
 */
export function callExtrasRouter(o: CallExtrasRoutesOptions): Router {
  const r = express.Router();
  const notFound = (req: Request, res: Response) => sendJsonError(res, 404, 'not_found', AGENT[pickLang(req)].notFoundText);

  /** The guarded handler: own appointment, running call service; `change` also checks origin and CSRF. */
  const handle = (change: boolean, fn: (req: Request, res: Response, a: Appointment, x: CallExtras) => Promise<unknown>) =>
    asyncRoute(async (req, res) => {
      const lang = pickLang(req);
      if (change && (!sameOrigin(req, o.publicUrl?.()) || !o.csrf.verify(req))) return sendJsonError(res, 403, 'csrf', AGENT[lang].reload);
      const a = await o.own(req);
      if (!a) return notFound(req, res);
      const x = o.extras();
      if (!x) return sendJsonError(res, 503, 'unavailable', AGENT[lang].messageUnavailable);
      try {
        await fn(req, res, a, x);
      } catch (e) {
        if (!isUserError(e)) throw e;
        if (e.status === 429) res.setHeader('Retry-After', '60');
        sendJsonError(res, e.status, e.code, e.message);
      }
    });
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

  r.get('/agent/appointments/:id/chat.json', callMemory, ...o.guard, handle(false, async (req, res, a, x) => {
    const after = Number(req.query.after ?? 0);
    res.json({ messages: x.chat.history(a.id, 'agent', Number.isInteger(after) && after > 0 ? after : 0) });
  }));

  // "Verwijder nu" for the chat: every message goes from memory, the resident's (and guest's) page empties its log.
  r.post('/agent/appointments/:id/chat/delete', callMemory, ...o.guard, ...bodyParsers('2kb'), handle(true, async (req, res, a, x) => {
    const had = x.chat.forget(a.id);
    for (const role of ['resident', 'guest'] as const) x.media.publish(a.id, role, { method: 'chatDeleted', data: {} });
    if (had) await x.record({ appointmentId: a.id, actor: req.staff!.username, action: 'chat_deleted', detail: 'agent_deleted' });
    res.json({ deleted: had });
  }));

  r.get('/agent/appointments/:id/documents.json', callMemory, ...o.guard, handle(false, async (_req, res, a, x) => {
    res.json({ documents: x.documents.forAppointment(a.id) });
  }));

  // The document itself: never run, never sniffed. An image shows inline in a sandbox; a PDF is a download.
  r.get('/agent/appointments/:id/documents/:documentId', callMemory, ...o.guard, handle(false, async (req, res, a, x) => {
    const id = String(req.params.documentId);
    const doc = DOC_ID.test(id) ? x.documents.view(id, a.id, req.staff!.username) : undefined;
    if (!doc) return sendJsonError(res, 404, 'gone', AGENT[pickLang(req)].documentGone);
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', `${doc.kind === 'pdf' ? 'attachment' : 'inline'}; filename="document.${doc.kind === 'jpeg' ? 'jpg' : doc.kind}"`);
    res.type(doc.mime).send(doc.bytes);
  }));

  r.post('/agent/appointments/:id/documents/:documentId/delete', callMemory, ...o.guard, ...bodyParsers('2kb'), handle(true, async (req, res, a, x) => {
    const deleted = x.documents.delete(String(req.params.documentId), a.id, 'agent_deleted');
    if (!deleted) return sendJsonError(res, 404, 'gone', AGENT[pickLang(req)].documentGone);
    res.json({ deleted: true });
  }));

  r.get('/agent/appointments/:id/guest.json', callMemory, ...o.guard, handle(false, async (_req, res, a, x) => {
    const g = await x.guests.get(a.id);
    res.json({ guest: g && !g.removedAt ? { kind: g.kind, invitedAt: g.invitedAt, waiting: x.media.guestWaiting(a.id), present: x.presence.get(a.id).guest === true } : null });
  }));

  r.post('/agent/appointments/:id/guest', callMemory, ...o.guard, ...bodyParsers('2kb'), handle(true, async (req, res, a, x) => {
    const b = body(req);
    // A new invitation replaces an earlier guest: whoever is in the call with the old link goes.
    x.media.removeGuest(a.id);
    const g = await x.guests.invite(a, req.staff!.username, b.kind, b.email, b.lang);
    res.status(201).json({ guest: { kind: g.kind, invitedAt: g.invitedAt, waiting: false, present: false } });
  }));

  r.post('/agent/appointments/:id/guest/admit', callMemory, ...o.guard, ...bodyParsers('2kb'), handle(true, async (req, res, a, x) => {
    const g = await x.guests.get(a.id);
    if (!g || g.removedAt) return sendJsonError(res, 404, 'no_guest', AGENT[pickLang(req)].guestNone);
    x.chat.guestAdmitted(a.id);
    const admitted = x.media.admitGuest(a.id);
    if (admitted === 0) return sendJsonError(res, 409, 'guest_not_waiting', AGENT[pickLang(req)].guestNotWaiting);
    await x.record({ appointmentId: a.id, actor: req.staff!.username, action: 'guest_admitted', detail: g.kind });
    res.json({ admitted });
  }));

  r.post('/agent/appointments/:id/guest/remove', callMemory, ...o.guard, ...bodyParsers('2kb'), handle(true, async (req, res, a, x) => {
    const removed = await x.guests.remove(a.id, req.staff!.username);
    x.media.removeGuest(a.id);
    if (!removed) return sendJsonError(res, 404, 'no_guest', AGENT[pickLang(req)].guestNone);
    res.json({ removed: true });
  }));

  return r;
}
