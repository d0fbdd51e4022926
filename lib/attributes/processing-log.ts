import { UserError } from '../errors';

/**
 * 'booking_viewed' (migration 006): the assigned agent opened the booking's contact details (field names logged).
 * Migration 009 (issue 13): a chat message was sent (who, never the text); a document was shared, viewed, fetched by a
 * flow or deleted (its kind, never its bytes); the agent shared the screen; a third participant was invited, admitted,
 * removed; someone joined or left the call (who was present).
 */
export const PROCESSING_ACTIONS = [
  'requested', 'method_chosen', 'verified', 'failed', 'shown', 'deleted', 'expired', 'booking_viewed',
  'chat_message', 'chat_deleted', 'document_shared', 'document_viewed', 'document_fetched', 'document_deleted', 'screen_shared',
  'guest_invited', 'guest_admitted', 'guest_removed', 'participant_joined', 'participant_left',
] as const;
export type ProcessingAction = (typeof PROCESSING_ACTIONS)[number];

/** One line of the verwerkingenlogging. Names and codes only: never an attribute value. */
export interface ProcessingLogEntry {
  /** UTC ISO; defaults to now when recorded. */
  at?: string;
  appointmentId: string;
  /** Staff username, 'resident' or 'system'. */
  actor: string;
  action: ProcessingAction;
  purpose?: string;
  methodId?: string;
  /** Attribute keys (names such as "bsn", "birthdate"). */
  attributeKeys?: string[];
  /** A reason code such as 'acr_too_low' or 'call_ended'. */
  detail?: string;
}

export interface ProcessingLogRecord extends Required<Pick<ProcessingLogEntry, 'at' | 'appointmentId' | 'actor' | 'action'>> {
  id: number;
  purpose: string | null;
  methodId: string | null;
  attributeKeys: string[];
  detail: string | null;
}

export interface ProcessingLogQuery {
  appointmentId?: string;
  /** Inclusive lower bound, ISO 8601. */
  from?: string;
  /** Exclusive upper bound, ISO 8601. */
  to?: string;
  limit: number;
}

/** Store interface (lib/store/sqlite/processing-log.ts, lib/store/postgres/processing-log.ts). */
export interface ProcessingLog {
  record(entry: ProcessingLogEntry): Promise<ProcessingLogRecord>;
  /** Oldest first. */
  list(query: ProcessingLogQuery): Promise<ProcessingLogRecord[]>;
}

// Keys look like identifiers; a value (a BSN, a name with spaces, a date) does not, so a mix-up is refused loudly.
const KEY_RE = /^[a-z][a-zA-Z0-9_]{0,39}$/;
const DETAIL_RE = /^[a-z][a-z0-9_]{0,39}$/;
const ACTOR_RE = /^[A-Za-z0-9._@-]{1,64}$/;
const METHOD_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

function isoUtc(v: string, field: string): string {
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) throw new UserError(400, 'invalid_log_entry', `${field} must be an ISO 8601 time`);
  return new Date(t).toISOString();
}

/** Checks and normalises an entry; throws UserError naming the field (never echoing its content). */
export function validateEntry(e: ProcessingLogEntry, now: () => Date = () => new Date()): Omit<ProcessingLogRecord, 'id'> {
  const bad = (field: string, what: string): never => {
    throw new UserError(400, 'invalid_log_entry', `Processing log entry: ${field} ${what}`);
  };
  if (!e || typeof e !== 'object') bad('entry', 'is missing');
  if (typeof e.appointmentId !== 'string' || e.appointmentId.length < 1 || e.appointmentId.length > 100 || /[\u0000-\u001f]/.test(e.appointmentId)) bad('appointmentId', 'is required (at most 100 characters)');
  if (typeof e.actor !== 'string' || !ACTOR_RE.test(e.actor)) bad('actor', "must be a staff username, 'resident' or 'system'");
  if (!(PROCESSING_ACTIONS as readonly string[]).includes(e.action)) bad('action', `must be one of ${PROCESSING_ACTIONS.join(', ')}`);
  if (e.purpose !== undefined && (typeof e.purpose !== 'string' || e.purpose.length > 200 || /[\u0000-\u001f]/.test(e.purpose))) bad('purpose', 'must be text of at most 200 characters');
  if (e.methodId !== undefined && (typeof e.methodId !== 'string' || !METHOD_RE.test(e.methodId))) bad('methodId', 'must be a method id');
  const keys = e.attributeKeys ?? [];
  if (!Array.isArray(keys) || keys.length > 50) bad('attributeKeys', 'must be a list of at most 50 attribute names');
  for (const k of keys) if (typeof k !== 'string' || !KEY_RE.test(k)) bad('attributeKeys', 'must hold attribute names only, never values');
  if (e.detail !== undefined && (typeof e.detail !== 'string' || !DETAIL_RE.test(e.detail))) bad('detail', 'must be a reason code (lowercase letters, digits, _)');
  return {
    at: e.at === undefined ? now().toISOString() : isoUtc(e.at, 'at'),
    appointmentId: e.appointmentId,
    actor: e.actor,
    action: e.action,
    purpose: e.purpose ?? null,
    methodId: e.methodId ?? null,
    attributeKeys: [...new Set(keys)],
    detail: e.detail ?? null,
  };
}

export function validateQuery(q: ProcessingLogQuery): { appointmentId?: string; from?: string; to?: string; limit: number } {
  if (!q || !Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new UserError(400, 'invalid_query', 'limit must be 1 to 1000');
  if (q.appointmentId !== undefined && (typeof q.appointmentId !== 'string' || q.appointmentId.length > 100)) throw new UserError(400, 'invalid_query', 'appointmentId is invalid');
  return {
    limit: q.limit,
    ...(q.appointmentId !== undefined ? { appointmentId: q.appointmentId } : {}),
    ...(q.from !== undefined ? { from: isoUtc(q.from, 'from') } : {}),
    ...(q.to !== undefined ? { to: isoUtc(q.to, 'to') } : {}),
  };
}
