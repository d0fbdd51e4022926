import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Appointment, AppointmentStore } from '../appointments/store';
import { UserError } from '../errors';
import type { EventStore } from '../events/types';
import type { IdentificationService } from '../identification/service';
import type { FailureReason } from '../identification/types';
import type { LinkService } from '../links';
import { validityWindow } from '../links/window';
import { hashToken, newToken } from '../security/tokens';
import { toStoredUtc, ZONE } from '../time';
import type { IdContactCore } from './config';

/**
 * ID Video started by an ID Contact core (id-contact/docs docs/openapi/comm_plugin.openapi.yml, `POST
 * /start_communication {purpose, auth_result?}` -> `{client_url, attr_url?}`; the core's side in id-contact/core
 * src/methods/comm.rs). A resident chose "video" in the core's widget: ID Video makes an unplanned appointment that
 * starts now, for the configured topic, with the least busy free agent of the configured group, and answers the
 * address that brings the resident to the device check and the waiting room, where that agent sees them waiting.
 *
 * The appointment and its 'started' event are one transaction (lib/appointments, lib/events); the resident's access
 * link is then stored with the event's 'done' in one further transaction. No mail goes out: the resident gave no
 * address, and the agent sees the session on the dashboard as it arrives. With an auth_result the attributes are
 * verified as for authentication during the call and shown to the agent; without one, an attr_url is answered so
 * the core's auth plugin can deliver them there.
 */

export interface UnplannedSettings {
  /** The appointment's topic as the agent reads it. */
  topic: string;
  /** Usernames of the agents who take these sessions (least busy free one first). */
  agents: string[];
  /** How long the appointment is planned for (and so how long the links work, plus an hour). */
  durationMinutes: number;
  /** The Node-RED node that starts these sessions (event source). */
  source: string;
}

export interface UnplannedDeps {
  appointments: AppointmentStore;
  events: EventStore;
  links: Pick<LinkService, 'prepare'>;
  identification: IdentificationService;
  instanceId: string;
  /** Public base URL without trailing slash. */
  publicBase(): string;
  now?: () => Date;
}

export interface StartedSession {
  appointment: Appointment;
  eventId: string;
  clientUrl: string;
  attrUrl?: string;
  /** With auth_result: the verified set for the agent (a reference), or why it was not kept. */
  identification?: { outcome: 'ok' | FailureReason; attributeSetId?: string; attributeKeys?: string[] };
}

export const STARTED_METHOD_SUFFIX = 'core';
const MAX_AUTH_RESULT = 64 * 1024;

/**
 * Handles one POST /start_communication body (already authenticated as the core, JSON-parsed). Throws UserError:
 * 400 for a malformed body or an auth_result that fails the checks (nothing is created; the reason is in the
 * processing log), 404 for another purpose, 503 when no agent of the group is free now.
 */
export async function startUnplannedSession(deps: UnplannedDeps, core: IdContactCore, settings: UnplannedSettings, body: unknown): Promise<StartedSession> {
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (typeof b.purpose !== 'string' || b.purpose.length > 200) throw new UserError(400, 'invalid_request', 'purpose is required');
  if (b.purpose !== core.purpose) throw new UserError(404, 'unknown_purpose', 'This communication plugin does not serve that purpose');
  if (b.auth_result !== undefined && b.auth_result !== null && (typeof b.auth_result !== 'string' || b.auth_result.length > MAX_AUTH_RESULT)) {
    throw new UserError(400, 'invalid_request', 'auth_result must be a JWT');
  }
  const id = deps.identification;
  const methodId = `${core.methodPrefix}-${STARTED_METHOD_SUFFIX}`;

  // The result first: a session whose auth_result fails is not created at all (the core tells the resident).
  let verified: Awaited<ReturnType<ReturnType<IdentificationService['idContact']>['acceptDirect']>> | undefined;
  if (typeof b.auth_result === 'string') {
    verified = await id.idContact().acceptDirect(core, b.auth_result);
    if (!verified.ok) {
      await id.recordRefusedStart(core.purpose, methodId, verified.reason);
      throw new UserError(400, verified.reason, 'The auth_result was not accepted');
    }
  }

  const now = DateTime.fromJSDate((deps.now ?? (() => new Date()))()).toUTC().startOf('second');
  const startUtc = toStoredUtc(now);
  const endUtc = toStoredUtc(now.plus({ minutes: settings.durationMinutes }));
  const day = now.setZone(ZONE);
  let created;
  try {
    created = await deps.appointments.create(
      {
        startUtc,
        endUtc,
        topic: settings.topic,
        channel: 'website',
        bookedBy: null,
        // The core tells nothing about the resident but what the auth_result holds (attribute cache only).
        resident: { name: '', email: '', phone: null, remarks: null },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: `idcontact:${newToken(16)}`,
        createdAt: startUtc,
      },
      {
        candidates: settings.agents,
        dayStartUtc: toStoredUtc(day.startOf('day')),
        dayEndUtc: toStoredUtc(day.startOf('day').plus({ days: 1 })),
        bufferMinutes: 0,
        idempotentSinceUtc: startUtc,
      },
      { kind: 'started', source: settings.source, facts: { lang: 'nl' } },
    );
  } catch (e) {
    if (e instanceof UserError && e.code === 'slot_taken') throw new UserError(503, 'no_agent_available', 'No agent is free right now; try again in a few minutes');
    throw e;
  }
  if (created.duplicate) throw new Error('an unplanned session met an idempotency key it cannot have');
  const { appointment, eventId } = created;

  // The resident's link, stored with the event's done in one transaction: once we answer, the link works.
  const window = validityWindow(startUtc, endUtc, { beforeMinutes: 5, afterMinutes: 60 });
  const resident = deps.links.prepare({ appointmentId: appointment.id, role: 'resident', ...window });
  const nowIso = new Date().toISOString();
  const lease = { token: randomUUID(), instance: deps.instanceId, nowIso, untilIso: new Date(Date.now() + 120_000).toISOString() };
  const claim = await deps.events.claim(eventId, lease);
  if (claim.status !== 'claimed') throw new Error(`the started event could not be claimed (${claim.status})`);
  const finished = await deps.events.finish(eventId, lease.token, { appointmentId: appointment.id, requireBooked: true, links: [resident.link] }, new Date().toISOString());
  if (finished !== 'done') throw new Error(`the started event could not be finished (${finished})`);
  const session: StartedSession = { appointment, eventId, clientUrl: `${deps.publicBase()}/v/${resident.token}` };

  if (verified?.ok) {
    session.identification = await id.storeStarted({ appointmentId: appointment.id, purpose: core.purpose, methodId, methodName: 'ID Contact', attributes: verified.attributes, extraDropped: verified.extraDropped });
  } else {
    session.attrUrl = await id.idContact().sessionAttrUrl({ core, appointmentId: appointment.id, methodId, purpose: core.purpose });
  }
  return session;
}

/**
 * 'started' events whose answer never went out (the process stopped between the appointment and its link): nobody
 * can join them, so they are closed as 'abandoned' (the appointment stays, unjoinable, and passes). Returns how many.
 */
export async function settleAbandonedStarts(deps: Pick<UnplannedDeps, 'events' | 'instanceId'>, source: string, olderThanMs = 120_000): Promise<number> {
  const now = new Date();
  const lease = { token: randomUUID(), instance: deps.instanceId, nowIso: now.toISOString(), untilIso: new Date(now.getTime() + 60_000).toISOString() };
  const due = await deps.events.claimDue({ kinds: ['started'], sources: [source], createdBeforeIso: new Date(now.getTime() - olderThanMs).toISOString() }, lease, 50);
  let n = 0;
  for (const e of due) if (await deps.events.settle(e.id, lease.token, 'abandoned', new Date().toISOString())) n++;
  return n;
}
