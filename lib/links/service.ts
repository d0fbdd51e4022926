import { DateTime } from 'luxon';
import { UserError } from '../errors';
import { hashToken, looksLikeToken, newToken, safeEqual } from '../security/tokens';
import { toStoredUtc } from '../time';
import { LINK_ROLES, type CallSession, type LinkRole, type LinkStore, type ResolveResult, type StoredLink } from './types';
import { toDateTime, type TimeInput } from './window';

export interface IssueRequest {
  appointmentId: string;
  role: LinkRole;
  /** The employee the agent link belongs to (agent role only). */
  agentUsername?: string;
  validFrom: TimeInput;
  validUntil: TimeInput;
}

export interface CreateCallSessionRequest {
  appointmentId: string;
  role: LinkRole;
  agentUsername?: string;
}

export interface LinkService {
  /** A fresh token for the appointment and role; replaces (and so invalidates) the previous one. Returned once, never stored. */
  issue(request: IssueRequest): Promise<string>;
  /**
   * A fresh token and the link row to store for it, without storing anything: for a hand-off that stores the link
   * in one transaction with its mails (lib/access/handoff.ts). Same checks as issue().
   */
  prepare(request: IssueRequest): { token: string; link: StoredLink };
  /** Checks a presented token. Read-only: resolving twice (mail scanners prefetch links) changes nothing. */
  resolve(token: unknown): Promise<ResolveResult>;
  /** Cancellation: the appointment's links and its call sessions stop working. Returns the number of rows removed. */
  revokeForAppointment(appointmentId: string): Promise<number>;
  /** A call-session id for the cookie; expires when the link's window ends. Throws 404 when there is no live link. */
  createCallSession(request: CreateCallSessionRequest): Promise<string>;
  /** The session behind a cookie value, or undefined for unknown, malformed, expired or revoked ones. */
  getCallSession(id: unknown): Promise<CallSession | undefined>;
  /** Ends all call sessions of an appointment (call end, cancellation). Links stay valid. */
  revokeCallSessions(appointmentId: string): Promise<number>;
  /** Ends one call session (sign-out). */
  endCallSession(id: unknown): Promise<void>;
  /** Housekeeping: removes links and sessions whose window is over. */
  purgeExpired(): Promise<number>;
}

export interface LinkServiceOptions {
  store: LinkStore;
  /** Clock, for tests. */
  now?: () => Date;
}

const MAX_ID = 200;

function checkAppointmentId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UserError(400, 'invalid_appointment_id', 'appointmentId must be a non-empty string of at most 200 printable characters');
  }
  return value;
}

function checkRole(value: unknown): LinkRole {
  if (!LINK_ROLES.includes(value as LinkRole)) throw new UserError(400, 'invalid_role', "role must be 'resident', 'agent' or 'guest'");
  return value as LinkRole;
}

function checkAgent(role: LinkRole, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (role !== 'agent') throw new UserError(400, 'invalid_agent', 'agentUsername belongs on agent links only');
  if (typeof value !== 'string' || value.length > MAX_ID || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UserError(400, 'invalid_agent', 'agentUsername must be a printable string of at most 200 characters');
  }
  return value;
}

export function createLinkService(options: LinkServiceOptions): LinkService {
  const { store } = options;
  const nowIso = () => (options.now ? options.now() : new Date()).toISOString();

  const prepare = (request: IssueRequest): { token: string; link: StoredLink } => {
    const appointmentId = checkAppointmentId(request?.appointmentId);
    const role = checkRole(request.role);
    const agentUsername = checkAgent(role, request.agentUsername);
    let from: DateTime;
    let until: DateTime;
    try {
      from = toDateTime(request.validFrom, 'validFrom');
      until = toDateTime(request.validUntil, 'validUntil');
    } catch (e) {
      throw new UserError(400, 'invalid_window', (e as Error).message);
    }
    if (until <= from) throw new UserError(400, 'invalid_window', 'validUntil must be after validFrom');
    const token = newToken();
    const link: StoredLink = {
      tokenHash: hashToken(token),
      appointmentId,
      role,
      ...(agentUsername ? { agentUsername } : {}),
      validFrom: toStoredUtc(from),
      validUntil: toStoredUtc(until),
      createdAt: nowIso(),
    };
    return { token, link };
  };

  return {
    async issue(request) {
      const { token, link } = prepare(request);
      await store.replaceLink(link);
      return token;
    },

    prepare,

    async resolve(token) {
      // Junk never reaches the store, and every failure looks the same to the caller.
      if (!looksLikeToken(token)) return { status: 'invalid' };
      const hash = hashToken(token);
      const link = await store.findLinkByHash(hash);
      if (!link || !safeEqual(link.tokenHash, hash)) return { status: 'invalid' };
      const now = nowIso();
      if (now >= link.validUntil) return { status: 'invalid' };
      if (now < link.validFrom) return { status: 'too_early', opensAt: link.validFrom };
      return {
        status: 'ok',
        appointmentId: link.appointmentId,
        role: link.role,
        ...(link.agentUsername ? { agentUsername: link.agentUsername } : {}),
        validUntil: link.validUntil,
      };
    },

    async revokeForAppointment(appointmentId) {
      checkAppointmentId(appointmentId);
      const links = await store.deleteLinksForAppointment(appointmentId);
      const sessions = await store.deleteCallSessionsForAppointment(appointmentId);
      return links + sessions;
    },

    async createCallSession(request) {
      const appointmentId = checkAppointmentId(request?.appointmentId);
      const role = checkRole(request.role);
      const agentUsername = checkAgent(role, request.agentUsername);
      const link = await store.findLink(appointmentId, role);
      const now = nowIso();
      // The session may not outlive (or predate) the link that opened it.
      if (!link || now >= link.validUntil || now < link.validFrom) {
        throw new UserError(404, 'link_invalid', 'This link is not valid (any more).');
      }
      if ((link.agentUsername ?? undefined) !== agentUsername) {
        throw new UserError(404, 'link_invalid', 'This link is not valid (any more).');
      }
      const id = newToken();
      await store.insertCallSession({
        idHash: hashToken(id),
        appointmentId,
        role,
        agentUsername,
        createdAt: now,
        expiresAt: link.validUntil,
      });
      return id;
    },

    async getCallSession(id) {
      if (!looksLikeToken(id)) return undefined;
      const hash = hashToken(id);
      const session = await store.findCallSessionByHash(hash);
      if (!session || !safeEqual(session.idHash, hash)) return undefined;
      if (nowIso() >= session.expiresAt) return undefined;
      return {
        appointmentId: session.appointmentId,
        role: session.role,
        ...(session.agentUsername ? { agentUsername: session.agentUsername } : {}),
        expiresAt: session.expiresAt,
      };
    },

    async revokeCallSessions(appointmentId) {
      checkAppointmentId(appointmentId);
      return store.deleteCallSessionsForAppointment(appointmentId);
    },

    async endCallSession(id) {
      if (!looksLikeToken(id)) return;
      await store.deleteCallSessionByHash(hashToken(id));
    },

    async purgeExpired() {
      return store.purgeExpired(nowIso());
    },
  };
}
