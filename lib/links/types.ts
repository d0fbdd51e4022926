/** Who an access link or call session is for. */
export type LinkRole = 'resident' | 'agent' | 'guest';

export const LINK_ROLES: readonly LinkRole[] = ['resident', 'agent', 'guest'];

/** A stored access link: only the token's hash, never the token. Times are UTC ISO strings. */
export interface StoredLink {
  tokenHash: string;
  appointmentId: string;
  role: LinkRole;
  agentUsername?: string;
  validFrom: string;
  validUntil: string;
  createdAt: string;
}

/** A stored call session (the cookie set by /v/<token>): only the id's hash. */
export interface StoredCallSession {
  idHash: string;
  appointmentId: string;
  role: LinkRole;
  agentUsername?: string;
  createdAt: string;
  expiresAt: string;
}

/** Persistence of links and call sessions (lib/store/sqlite/links.ts, lib/store/postgres/links.ts). */
export interface LinkStore {
  /** Stores the link, replacing any link for the same appointment and role, in one transaction. */
  replaceLink(link: StoredLink): Promise<void>;
  findLinkByHash(tokenHash: string): Promise<StoredLink | undefined>;
  findLink(appointmentId: string, role: LinkRole): Promise<StoredLink | undefined>;
  deleteLinksForAppointment(appointmentId: string): Promise<number>;
  insertCallSession(session: StoredCallSession): Promise<void>;
  findCallSessionByHash(idHash: string): Promise<StoredCallSession | undefined>;
  deleteCallSessionsForAppointment(appointmentId: string): Promise<number>;
  deleteCallSessionByHash(idHash: string): Promise<number>;
  /** Removes links and sessions that ended before `nowIso`; returns how many rows went. */
  purgeExpired(nowIso: string): Promise<number>;
}

/** Outcome of resolving a presented token. Every kind of bad token is the same 'invalid', on purpose. */
export type ResolveResult =
  | { status: 'ok'; appointmentId: string; role: LinkRole; agentUsername?: string; validUntil: string }
  | { status: 'too_early'; opensAt: string }
  | { status: 'invalid' };

export interface CallSession {
  appointmentId: string;
  role: LinkRole;
  agentUsername?: string;
  /** UTC ISO; the cookie's Max-Age should not outlive it. */
  expiresAt: string;
}
