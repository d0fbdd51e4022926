import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { AppointmentStore } from '../appointments/store';
import type { LinkService } from '../links';
import type { SessionInfo } from '../../media-server';
import { hashToken } from '../security/tokens';
import type { StaffAuth } from '../staff/auth';
import { callCookieName, cookieFrom } from './cookie';

export interface CallAuthDeps {
  links: LinkService;
  appointments: AppointmentStore;
  staff: StaffAuth;
  /** Behind https: the cookie carries the __Host- prefix. */
  secure: boolean;
  /** The configured public URL: its origin is accepted beside the Host the request came in on (reverse proxies). */
  publicUrl?: () => string | undefined;
}

const APPOINTMENT_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * Cross-site WebSocket hijacking guard: browsers always send Origin on a WebSocket handshake, so a missing or foreign
 * one means the request did not come from our own page.
 */
export function sameOriginUpgrade(req: IncomingMessage, publicUrl?: string): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    if (publicUrl && o.origin === new URL(publicUrl).origin) return true;
    return !!req.headers.host && o.host === req.headers.host;
  } catch {
    return false;
  }
}

export function queryOf(req: IncomingMessage): URLSearchParams {
  try {
    return new URL(req.url ?? '/', 'http://x').searchParams;
  } catch {
    return new URLSearchParams();
  }
}

/** Upgrade requests are not express requests; the staff session lookup only reads the Cookie header. */
function asRequest(req: IncomingMessage): Request {
  return req as unknown as Request;
}

/** The signed-in employee with the agent role, or undefined. */
export async function signedInAgent(req: IncomingMessage, deps: Pick<CallAuthDeps, 'staff'>): Promise<string | undefined> {
  const who = await deps.staff.identify(asRequest(req));
  return who && who.roles.includes('agent') ? who.username : undefined;
}

/**
 * Who may join which call: an agent signed in with `?appointment=<id>` of a booked appointment planned for them, or
 * the holder of a live call-session cookie (from an access link) of a booked appointment (for an agent's cookie, only
 * while signed in as that agent). Anything else is null,
 * which the media server answers with 401.
 */
export async function authenticateCall(req: IncomingMessage, deps: CallAuthDeps): Promise<SessionInfo | null> {
  const wanted = queryOf(req).get('appointment');
  if (wanted !== null) {
    if (!APPOINTMENT_ID.test(wanted)) return null;
    const username = await signedInAgent(req, deps);
    if (!username) return null;
    const appointment = await deps.appointments.get(wanted);
    if (!appointment || appointment.status !== 'booked' || appointment.agent.toLowerCase() !== username) return null;
    return { appointmentId: appointment.id, role: 'agent', sessionId: `staff:${username}`, endsAt: appointment.endUtc };
  }
  const cookie = cookieFrom(req.headers.cookie, callCookieName(deps.secure));
  if (!cookie) return null;
  const session = await deps.links.getCallSession(cookie);
  if (!session) return null;
  if (session.role === 'agent') {
    // As in lib/access: a forwarded agent link or cookie alone does not let someone else into the call.
    const username = await signedInAgent(req, deps);
    if (!username || !session.agentUsername || username !== session.agentUsername.toLowerCase()) return null;
  }
  const appointment = await deps.appointments.get(session.appointmentId);
  if (!appointment || appointment.status !== 'booked') return null;
  // Never the cookie itself: a short hash tells two sessions apart in the room without being usable.
  return { appointmentId: session.appointmentId, role: session.role, sessionId: `call:${hashToken(cookie).slice(0, 16)}`, endsAt: appointment.endUtc };
}
