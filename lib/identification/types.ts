/** The shapes the identification service hands to nodes, routes and the agent's dashboard: references and names only. */

import type { FinishFailure } from '../auth/oidc';
import type { AuthMethod } from '../auth/method';
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

/** Why an identification ended without data: a reason code of lib/auth, 'declined' (Annuleren in the pop-up) or 'internal'. */
export type FailureReason = FinishFailure | 'declined' | 'internal';

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
  /** The methods the node offers (validated config), narrowed by msg.methods. */
  methods: readonly AuthMethod[];
  /** Ids from msg.methods; undefined offers all. */
  onlyMethodIds?: unknown;
  /** Keys to ask; empty asks every key the offered methods map. */
  attributeKeys?: readonly string[];
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
}
