/**
 * The persistence port of contact registrations (lib/store/sqlite/contact-registrations.ts today; a PostgreSQL twin
 * implements the same). Rows hold ids and codes only — never a BSN, a name or an address. Async throughout.
 */

export interface NewContactRegistration {
  appointmentId: string;
  /** The idv-openklant config node whose Open Klant receives it. */
  source: string;
  contactMade: boolean;
  /** The resident identified with a BSN during the call. */
  identified: boolean;
  /** The partij found by that BSN while the attribute set lived. */
  partijUuid?: string;
  /** The verified person's pseudonym (lib/trace/data-subject.ts), for the Logboek record; never the BSN. */
  dataSubjectId?: string;
  maxAttempts: number;
  traceId: string;
  spanId: string;
  createdAt: string;
}

export interface ContactRegistration extends NewContactRegistration {
  id: string;
  klantcontactUuid?: string;
  actorLinked: boolean;
  codes: string[];
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  doneAt?: string;
}

/** What a registration learnt so far: written at once, so a retry continues where the last attempt stopped. */
export interface RegistrationProgress {
  partijUuid?: string;
  klantcontactUuid?: string;
  actorLinked?: boolean;
  codes?: string[];
}

export interface RegistrationLease {
  token: string;
  instance: string;
  nowIso: string;
  untilIso: string;
}

export interface ContactRegistrationStore {
  /** Adds a registration; an appointment has at most one, so a second add returns the first (created false). */
  add(r: NewContactRegistration): Promise<{ registration: ContactRegistration; created: boolean }>;
  get(id: string): Promise<ContactRegistration | undefined>;
  /** Claims due pending rows of these sources (attempt counted), oldest first. */
  claimDue(sources: readonly string[], lease: RegistrationLease, limit: number): Promise<ContactRegistration[]>;
  /** Records progress while the lease is held; false when the lease was lost. */
  progress(id: string, token: string, p: RegistrationProgress): Promise<boolean>;
  complete(id: string, token: string, codes: string[], nowIso: string): Promise<boolean>;
  reschedule(id: string, token: string, retryAtIso: string, errorCode: string): Promise<boolean>;
  fail(id: string, token: string, errorCode: string, nowIso: string): Promise<boolean>;
  /** Ends the leases of this instance's earlier run (call once at start). */
  reclaimInstance(instance: string, nowIso: string): Promise<number>;
  /** The earliest next attempt of a pending row of these sources, if any. */
  nextDueAt(sources: readonly string[]): Promise<string | undefined>;
  counts(source: string): Promise<{ pending: number; retrying: number; failed: number }>;
}
