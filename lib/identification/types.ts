import type { SpanContext } from '../trace/context';
/** The shapes the identification service hands to nodes, routes and the agent's dashboard: references and names only. */

import type { Attribute } from '../auth/claims';
import type { FinishFailure } from '../auth/oidc';
import type { AuthMethod, ClaimMapping } from '../auth/method';
import type { IdContactCore } from '../idcontact/config';
import type { IdContactFailure } from '../idcontact/flows';
import type { AgentNotice } from './texts';

/** What idv-receive-attributes sends on: references and names only. */
export interface VerifiedEvent {
  attributeSetId: string;
  appointmentId: string;
  requestId: string;
  purpose: string;
  methodId: string;
  attributeKeys: string[];
  acr?: string;
}

/**
 * Why an identification ended without data: a reason code of the OIDC flow (lib/auth) or of the ID Contact path
 * (lib/idcontact), 'attributes_missing' (none of the asked attributes came), 'declined' (Annuleren in the pop-up)
 * or 'internal'. The processing log and idv-receive-attributes' second output carry it; people read plain words.
 */
export type FailureReason = FinishFailure | IdContactFailure | 'attributes_missing' | 'declined' | 'internal';

/**
 * One method in the resident's pop-up: an OpenID Connect provider (idv-auth-method) or an auth method an ID Contact
 * core offers for its purpose (GET /session_options). `claims` maps what it delivers to our keys and labels.
 */
export type OfferedMethod =
  | { kind: 'oidc'; id: string; displayName: string; logoUrl: string; claims: readonly ClaimMapping[]; oidc: AuthMethod }
  | { kind: 'idcontact'; id: string; displayName: string; logoUrl: string; claims: readonly ClaimMapping[]; core: IdContactCore; tag: string };

/** What a method's flow hands back to the service, whichever kind it is: verified attributes or a reason. */
export type VerificationResult =
  | { ok: true; appointmentId: string; requestId: string; purpose: string; methodId: string; acr?: string; attributes: Attribute[]; /** A reason code kept with 'verified' (e.g. attributes dropped). */ detail?: string; /** The verification's span (Logboek), when the flow had one. */ span?: SpanContext }
  | { ok: false; reason: FailureReason; appointmentId?: string; requestId?: string; purpose?: string; methodId?: string; span?: SpanContext };

export interface FailedEvent {
  reason: FailureReason;
  appointmentId?: string;
  requestId?: string;
  methodId?: string;
}

export interface NewRequest {
  appointmentId: unknown;
  agent: unknown;
  purpose: unknown;
  /** The OIDC methods the node offers (validated config); with idContact also the core's; narrowed by msg.methods. */
  methods: readonly AuthMethod[];
  /** An ID Contact core whose auth methods for its purpose are offered too (asked at request time). */
  idContact?: IdContactCore;
  /** Ids from msg.methods; undefined offers all. */
  onlyMethodIds?: unknown;
  /** Keys to ask; empty asks every key the offered methods map. */
  attributeKeys?: readonly string[];
  /**
   * An incoming W3C `traceparent` (from the agent's HTTP request or msg.traceparent): the identification continues
   * that trace with a new span (Logboek Dataverwerkingen); an invalid one is ignored and a new trace started.
   */
  traceparent?: unknown;
}

/** The pop-up's content: method names and logos, which data and why. No issuer, client or secret. */
export interface PopupView {
  requestId: string;
  purpose: string;
  methods: { id: string; displayName: string; logoUrl: string }[];
  attributes: { key: string; labelNl: string; labelEn: string }[];
  startPath: string;
}

/** One thing the agent's panel should know, as pushed on the hub and kept briefly for a panel that polls. */
export interface AgentNoticeMessage {
  type: 'identification';
  seq: number;
  at: string;
  appointmentId: string;
  state: AgentNotice;
  text: { nl: string; en: string };
  requestId?: string;
  attributeSetId?: string;
  methodId?: string;
  methodName?: string;
  acr?: string;
  attributeKeys?: string[];
  expiresAt?: string;
  reason?: string;
}

/** The agent pressed "Vraag identificatie" on the dashboard's panel. */
export interface AskedEvent {
  appointmentId: string;
  agent: string;
  purpose: string;
  /** The `traceparent` the agent's request came with, when valid (W3C Trace Context): the request continues it. */
  traceparent?: string;
}
