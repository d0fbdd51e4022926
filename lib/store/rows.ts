import type { ContactRegistration } from '../openklant/store';
import type { Outcome, OutcomeCode } from '../outcomes/types';
import { MAX_SLOT_MINUTES } from '../appointments/schedule';
import type { Appointment, Channel, ClaimRequest, NewAppointment } from '../appointments/store';
import type { ProcessingLogRecord } from '../attributes/processing-log';
import type { Guest, GuestKind } from '../call/guest-store';
import type { PendingAttempt } from '../identification/pending-store';
import type { AppointmentEvent, EventFacts } from '../events/types';
import type { LinkRole, StoredCallSession, StoredLink } from '../links/types';
import type { OutboxRecord } from '../mail/outbox-store';
import type { QueuedRecord } from '../outbox/queue-store';
import type { SmsDelivery, SmsRecord } from '../sms/outbox-store';
import { parseRoles, type StaffAccount, type StaffUser } from '../staff/types';

export { parseRoles } from '../staff/types';

/**
 * The rows both engines store (the same columns on SQLite and PostgreSQL, see the twin migrations) and their mapping
 * to the domain's shapes, so the two implementations of each repository cannot drift apart in what they return.
 */

export interface AppointmentRow {
  id: string;
  start_utc: string;
  end_utc: string;
  topic: string;
  agent: string;
  channel: Channel;
  booked_by: string | null;
  resident_name: string;
  resident_email: string;
  resident_phone: string | null;
  remarks: string | null;
  /** 1: the resident asked for SMS (migration 013). */
  sms_opt_in: number;
  status: 'booked' | 'cancelled';
  created_at: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
  /** Migration 012; a row from a statement that does not select it (PostgreSQL's idv_book) is at revision 0. */
  sequence?: number | null;
}

/** Stored times are compared as strings, which is only sound for one fixed format. */
export const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/**
 * Appointments last at most one slot (MAX_SLOT_MINUTES); range queries look back this far on the start_utc index
 * instead of reading a whole day of bookings for every new one.
 */
export const MAX_APPOINTMENT_MS = MAX_SLOT_MINUTES * 60_000;

export function utc(value: string, what: string): string {
  if (!UTC_RE.test(value)) throw new Error(`${what} must be a UTC ISO string with milliseconds`);
  return value;
}

export function shift(isoUtc: string, ms: number): string {
  return new Date(Date.parse(isoUtc) + ms).toISOString();
}

export function toAppointment(r: AppointmentRow): Appointment {
  return {
    id: r.id,
    startUtc: r.start_utc,
    endUtc: r.end_utc,
    topic: r.topic,
    agent: r.agent,
    channel: r.channel,
    bookedBy: r.booked_by,
    resident: { name: r.resident_name, email: r.resident_email, phone: r.resident_phone, remarks: r.remarks, ...(r.sms_opt_in === 1 ? { sms: true } : {}) },
    status: r.status,
    createdAt: r.created_at,
    cancelledAt: r.cancelled_at,
    cancelledBy: r.cancelled_by,
    sequence: r.sequence ?? 0,
  };
}

export interface LinkRow {
  token_hash: string;
  appointment_id: string;
  role: LinkRole;
  agent_username: string | null;
  valid_from: string;
  valid_until: string;
  created_at: string;
}

export interface SessionRow {
  id_hash: string;
  appointment_id: string;
  role: LinkRole;
  agent_username: string | null;
  created_at: string;
  expires_at: string;
}

export function toLink(row: LinkRow | undefined): StoredLink | undefined {
  if (!row) return undefined;
  return {
    tokenHash: row.token_hash,
    appointmentId: row.appointment_id,
    role: row.role,
    ...(row.agent_username !== null ? { agentUsername: row.agent_username } : {}),
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    createdAt: row.created_at,
  };
}

export function toSession(row: SessionRow | undefined): StoredCallSession | undefined {
  if (!row) return undefined;
  return {
    idHash: row.id_hash,
    appointmentId: row.appointment_id,
    role: row.role,
    ...(row.agent_username !== null ? { agentUsername: row.agent_username } : {}),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** The columns every outbox table has (lib/outbox/queue-store.ts): mail_outbox, sms_outbox. */
export interface QueueRow {
  id: string;
  kind: string;
  appointment_id: string | null;
  status: QueuedRecord['status'];
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  claim_id: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** The queue fields of a record, from the columns every outbox table has. */
function queueFields(row: QueueRow): QueuedRecord {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.appointment_id !== null ? { appointmentId: row.appointment_id } : {}),
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.next_attempt_at,
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface OutboxRow extends QueueRow {
  /** Migration 012: a scheduled mail (reminder) is deleted unsent after this instant. */
  not_after?: string | null;
  message_id: string;
  from_name: string | null;
  from_address: string;
  to_address: string;
  to_name: string | null;
  subject: string;
  text_body: string;
  html_body: string | null;
  ics_method: 'REQUEST' | 'CANCEL' | null;
  ics_content: string | null;
}

export function toOutboxRecord(row: OutboxRow): OutboxRecord {
  return {
    ...queueFields(row),
    ...(row.not_after !== null && row.not_after !== undefined ? { notAfter: row.not_after } : {}),
    messageId: row.message_id,
    ...(row.from_name !== null ? { fromName: row.from_name } : {}),
    fromAddress: row.from_address,
    toAddress: row.to_address,
    ...(row.to_name !== null ? { toName: row.to_name } : {}),
    subject: row.subject,
    text: row.text_body,
    ...(row.html_body !== null ? { html: row.html_body } : {}),
    ...(row.ics_method !== null && row.ics_content !== null ? { ics: { method: row.ics_method, content: row.ics_content } } : {}),
  };
}

/** A row of sms_outbox (migration 013; not_after since 015). */
export interface SmsRow extends QueueRow {
  not_after?: string | null;
  gateway: string;
  to_number: string;
  text_body: string;
}

export function toSmsRecord(row: SmsRow): SmsRecord {
  return {
    ...queueFields(row),
    ...(row.not_after !== null && row.not_after !== undefined ? { notAfter: row.not_after } : {}),
    gateway: row.gateway,
    to: row.to_number,
    text: row.text_body,
  };
}

/** A row of sms_deliveries (migration 015). */
export interface SmsDeliveryRow {
  reference: string;
  gateway: string;
  kind: string;
  appointment_id: string | null;
  status: SmsDelivery['status'];
  code: string | null;
  accepted_at: string;
  reported_at: string | null;
}

export function toSmsDelivery(row: SmsDeliveryRow): SmsDelivery {
  return {
    reference: row.reference,
    gateway: row.gateway,
    kind: row.kind,
    ...(row.appointment_id !== null ? { appointmentId: row.appointment_id } : {}),
    status: row.status,
    ...(row.code !== null ? { code: row.code } : {}),
    acceptedAt: row.accepted_at,
    ...(row.reported_at !== null ? { reportedAt: row.reported_at } : {}),
  };
}

export interface EventRow {
  id: string;
  appointment_id: string;
  kind: string;
  source: string | null;
  facts: string;
  state: 'pending' | 'done';
  outcome: string | null;
  attempts: number;
  next_attempt_at: string;
  lease_token: string | null;
  lease_instance: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
}

export const KIND = /^[a-z][a-z0-9-]{0,39}$/;
export const MAX_FACTS = 2000;

export function parseFacts(text: string): EventFacts {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as EventFacts) : {};
  } catch {
    return {};
  }
}

export function toEvent(r: EventRow): AppointmentEvent {
  return {
    id: r.id,
    appointmentId: r.appointment_id,
    kind: r.kind,
    source: r.source,
    facts: parseFacts(r.facts),
    state: r.state,
    ...(r.outcome !== null ? { outcome: r.outcome } : {}),
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    createdAt: r.created_at,
    ...(r.done_at !== null ? { doneAt: r.done_at } : {}),
  };
}


/** staff_users.roles (a JSON array) as roles; anything else is no role at all. */
/** The times of a new booking and its claim must be stored-format UTC strings; a caller's bug, not a user's input. */
export function checkNewAppointment(a: NewAppointment, claim: ClaimRequest): void {
  utc(a.startUtc, 'startUtc');
  utc(a.endUtc, 'endUtc');
  utc(a.createdAt, 'createdAt');
  utc(claim.dayStartUtc, 'dayStartUtc');
  utc(claim.dayEndUtc, 'dayEndUtc');
  utc(claim.idempotentSinceUtc, 'idempotentSinceUtc');
  if (!Number.isInteger(claim.bufferMinutes) || claim.bufferMinutes < 0) throw new Error('bad bufferMinutes');
}

export interface StaffUserRow {
  username: string;
  display_name: string;
  roles: string;
  password_hash: string;
  failed_logins: number;
  locked_until: string | null;
  /** 0/1 on SQLite, a boolean on PostgreSQL. */
  disabled: number | boolean;
  /** Migration 010 (staff SSO): the address from the ID token, and the provider's subject of a linked account. */
  email?: string | null;
  sso_subject?: string | null;
}

export function toStaffUser(r: StaffUserRow): StaffUser {
  return {
    username: r.username,
    displayName: r.display_name,
    roles: parseRoles(r.roles),
    passwordHash: r.password_hash,
    failedLogins: r.failed_logins,
    lockedUntil: r.locked_until ?? undefined,
    disabled: r.disabled === 1 || r.disabled === true,
    ...(r.email ? { email: r.email } : {}),
    ...(r.sso_subject != null ? { sso: true } : {}),
  };
}

export function toStaffAccount(r: StaffUserRow): StaffAccount {
  return {
    username: r.username,
    displayName: r.display_name,
    roles: parseRoles(r.roles),
    disabled: r.disabled === 1 || r.disabled === true,
    ...(r.sso_subject != null ? { sso: true } : {}),
  };
}

export interface ProcessingLogRow {
  id: number | string;
  at: string;
  appointment_id: string;
  actor: string;
  action: ProcessingLogRecord['action'];
  purpose: string | null;
  method_id: string | null;
  /** JSON text on SQLite, already parsed (jsonb) on PostgreSQL. */
  attribute_keys: string | string[];
  detail: string | null;
  /** Logboek Dataverwerkingen fields (migration 011); undefined before it ran. */
  trace_id?: string | null;
  span_id?: string | null;
  parent_span_id?: string | null;
  status_code?: number | string | null;
  ended_at?: string | null;
  processing_activity_id?: string | null;
  /** Migration 016. */
  data_subject_id?: string | null;
}

export function toProcessingLogRecord(r: ProcessingLogRow): ProcessingLogRecord {
  return {
    id: Number(r.id),
    at: r.at,
    appointmentId: r.appointment_id,
    actor: r.actor,
    action: r.action,
    purpose: r.purpose,
    methodId: r.method_id,
    attributeKeys: typeof r.attribute_keys === 'string' ? (JSON.parse(r.attribute_keys) as string[]) : r.attribute_keys,
    detail: r.detail,
    traceId: r.trace_id ?? null,
    spanId: r.span_id ?? null,
    parentSpanId: r.parent_span_id ?? null,
    statusCode: r.status_code === null || r.status_code === undefined ? null : (Number(r.status_code) as 0 | 1 | 2),
    endedAt: r.ended_at ?? null,
    processingActivityId: r.processing_activity_id ?? null,
    dataSubjectId: r.data_subject_id ?? null,
  };
}

export interface PendingRow {
  kind: PendingAttempt['kind'];
  key_hash: string;
  session_hash: string;
  payload: string;
  /** Epoch ms: a number on SQLite, a bigint as text on PostgreSQL. */
  created_at: number | string;
  expires_at: number | string;
}

export function toPendingAttempt(r: PendingRow): PendingAttempt {
  return {
    kind: r.kind,
    keyHash: r.key_hash,
    sessionHash: r.session_hash,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

export interface GuestRow {
  appointment_id: string;
  kind: GuestKind;
  invited_by: string;
  invited_at: string;
  removed_at: string | null;
}

export function toGuest(r: GuestRow | undefined): Guest | undefined {
  return r ? { appointmentId: r.appointment_id, kind: r.kind, invitedBy: r.invited_by, invitedAt: r.invited_at, removedAt: r.removed_at } : undefined;
}

/** A contact_registrations row (migration 011) on either engine. */
export interface ContactRegistrationRow {
  id: string;
  appointment_id: string;
  source: string;
  contact_made: number;
  identified: number;
  partij_uuid: string | null;
  /** Migration 016. */
  data_subject_id?: string | null;
  klantcontact_uuid: string | null;
  actor_linked: number;
  /** JSON text on SQLite, already parsed (jsonb) on PostgreSQL. */
  codes: string | string[];
  state: ContactRegistration['state'];
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  trace_id: string;
  span_id: string;
  created_at: string;
  done_at: string | null;
}

export function toContactRegistration(r: ContactRegistrationRow): ContactRegistration {
  return {
    id: r.id,
    appointmentId: r.appointment_id,
    source: r.source,
    contactMade: Number(r.contact_made) === 1,
    identified: Number(r.identified) === 1,
    ...(r.partij_uuid !== null ? { partijUuid: r.partij_uuid } : {}),
    ...(r.data_subject_id ? { dataSubjectId: r.data_subject_id } : {}),
    ...(r.klantcontact_uuid !== null ? { klantcontactUuid: r.klantcontact_uuid } : {}),
    actorLinked: Number(r.actor_linked) === 1,
    codes: typeof r.codes === 'string' ? (JSON.parse(r.codes) as string[]) : r.codes,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    nextAttemptAt: r.next_attempt_at,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    traceId: r.trace_id,
    spanId: r.span_id,
    createdAt: r.created_at,
    ...(r.done_at !== null ? { doneAt: r.done_at } : {}),
  };
}

/** A row of appointment_outcomes (migration 012), the same on both engines. */
export interface OutcomeRow {
  appointment_id: string;
  outcome: OutcomeCode;
  duration_seconds: number | null;
  cancelled_by: 'resident' | 'staff' | null;
  decided_at: string;
}

export const toOutcome = (r: OutcomeRow): Outcome => ({
  appointmentId: r.appointment_id,
  outcome: r.outcome,
  durationSeconds: r.duration_seconds,
  cancelledBy: r.cancelled_by,
  decidedAt: r.decided_at,
});
