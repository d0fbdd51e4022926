import { UserError } from '../errors';
import { processingActivityProblem } from '../openklant/config';
import { newSpanId, newTraceId, SPAN_ID, TRACE_ID } from '../trace/context';

/**
 * 'booking_viewed' (migration 006): the assigned agent opened the booking's contact details (field names logged).
 * Migration 009 (issue 13): a chat message was sent (who, never the text); a document was shared, viewed, fetched by a
 * flow or deleted (its kind, never its bytes); the agent shared the screen; a third participant was invited, admitted,
 * removed; someone joined or left the call (who was present).
 * Migration 011 (issue 15): 'contact_registered' (the contact was registered in Open Klant, or that failed for good),
 * 'partij_looked_up' (the verified BSN went to Open Klant's partij search: found, not_found or an error code), and
 * the fields of the Logboek Dataverwerkingen standard (Logius) on every record: trace id, span id, parent span id,
 * status code, end time and the processing activity id (lib/trace/logboek.ts maps a record to the standard).
 * Migration 012 (issue 14): retention erased the resident's name, e-mail, phone and remarks ('resident_data_erased').
 */
export const PROCESSING_ACTIONS = [
  'requested', 'method_chosen', 'verified', 'failed', 'shown', 'deleted', 'expired', 'booking_viewed',
  'chat_message', 'chat_deleted', 'document_shared', 'document_viewed', 'document_fetched', 'document_deleted', 'screen_shared',
  'guest_invited', 'guest_admitted', 'guest_removed', 'participant_joined', 'participant_left', 'contact_registered',
  'partij_looked_up', 'resident_data_erased',
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
  /** W3C Trace Context ids (lib/trace/context.ts): 32 and 16 lower-case hex. A new trace is made when absent. */
  traceId?: string;
  spanId?: string;
  /** The span of the processing this one is part of (e.g. the identification request a verification answers). */
  parentSpanId?: string;
  /** Logboek status_code: 0 unset, 1 ok, 2 error. Default: 2 for 'failed', else 1. */
  statusCode?: 0 | 1 | 2;
  /** When the processing ended (UTC ISO); defaults to `at` (an instant). */
  endedAt?: string;
  /** The processing activity's URI in the gemeente's register (configured per purpose: idv-request-auth, idv-openklant). */
  processingActivityId?: string;
  /**
   * Logboek `dpl.core.data_subject_id`: who the processing was about, pseudonymised — the HMAC-SHA256 (64 lower-case
   * hex) of the verified BSN under a key of this installation (lib/trace/data-subject.ts), never the BSN itself.
   * Absent when the person is not (yet) known by a BSN. Migration 016.
   */
  dataSubjectId?: string;
}

export interface ProcessingLogRecord extends Required<Pick<ProcessingLogEntry, 'at' | 'appointmentId' | 'actor' | 'action'>> {
  id: number;
  purpose: string | null;
  methodId: string | null;
  attributeKeys: string[];
  detail: string | null;
  /** Null on records written before migration 011. */
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  statusCode: 0 | 1 | 2 | null;
  endedAt: string | null;
  processingActivityId: string | null;
  /** Null when unknown, and on records written before migration 016. */
  dataSubjectId: string | null;
}

export interface ProcessingLogQuery {
  appointmentId?: string;
  /** Inclusive lower bound, ISO 8601. */
  from?: string;
  /** Exclusive upper bound, ISO 8601. */
  to?: string;
  /** Only records with a larger id, in id order (paging through an export). */
  afterId?: number;
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
  if (e.traceId !== undefined && (typeof e.traceId !== 'string' || !TRACE_ID.test(e.traceId) || /^0+$/.test(e.traceId))) bad('traceId', 'must be 32 lower-case hex characters');
  for (const f of ['spanId', 'parentSpanId'] as const) {
    const v = e[f];
    if (v !== undefined && (typeof v !== 'string' || !SPAN_ID.test(v) || /^0+$/.test(v))) bad(f, 'must be 16 lower-case hex characters');
  }
  if (e.statusCode !== undefined && e.statusCode !== 0 && e.statusCode !== 1 && e.statusCode !== 2) bad('statusCode', 'must be 0, 1 or 2');
  const activity = e.processingActivityId;
  if (processingActivityProblem('processingActivityId', activity)) bad('processingActivityId', 'must be a URI (https://… or urn:…)');
  if (e.dataSubjectId !== undefined && (typeof e.dataSubjectId !== 'string' || !/^[0-9a-f]{64}$/.test(e.dataSubjectId))) bad('dataSubjectId', 'must be a pseudonym (64 lower-case hex characters), never an identifier itself');
  const at = e.at === undefined ? now().toISOString() : isoUtc(e.at, 'at');
  const endedAt = e.endedAt === undefined ? at : isoUtc(e.endedAt, 'endedAt');
  if (endedAt < at) bad('endedAt', 'must not be before at');
  return {
    traceId: e.traceId ?? newTraceId(),
    spanId: e.spanId ?? newSpanId(),
    parentSpanId: e.parentSpanId ?? null,
    statusCode: e.statusCode ?? (e.action === 'failed' ? 2 : 1),
    endedAt,
    processingActivityId: activity ?? null,
    dataSubjectId: e.dataSubjectId ?? null,
    at,
    appointmentId: e.appointmentId,
    actor: e.actor,
    action: e.action,
    purpose: e.purpose ?? null,
    methodId: e.methodId ?? null,
    attributeKeys: [...new Set(keys)],
    detail: e.detail ?? null,
  };
}

export function validateQuery(q: ProcessingLogQuery): { appointmentId?: string; from?: string; to?: string; afterId?: number; limit: number } {
  if (!q || !Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new UserError(400, 'invalid_query', 'limit must be 1 to 1000');
  if (q.appointmentId !== undefined && (typeof q.appointmentId !== 'string' || q.appointmentId.length > 100)) throw new UserError(400, 'invalid_query', 'appointmentId is invalid');
  return {
    limit: q.limit,
    ...(q.appointmentId !== undefined ? { appointmentId: q.appointmentId } : {}),
    ...(q.from !== undefined ? { from: isoUtc(q.from, 'from') } : {}),
    ...(q.to !== undefined ? { to: isoUtc(q.to, 'to') } : {}),
    ...(q.afterId !== undefined ? { afterId: afterIdOf(q.afterId) } : {}),
  };
}

function afterIdOf(v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new UserError(400, 'invalid_query', 'afterId must be a record id');
  return v as number;
}
