/** A mail as the outbox keeps it until it is sent. Holds personal data: recipient and rendered content. */
export interface OutboxRecord {
  id: string;
  kind: string;
  appointmentId?: string;
  /** Message-ID header value (with angle brackets), fixed at enqueue so a re-send after a crash is recognisable. */
  messageId: string;
  fromName?: string;
  fromAddress: string;
  toAddress: string;
  toName?: string;
  subject: string;
  text: string;
  html?: string;
  ics?: { method: 'REQUEST' | 'CANCEL'; content: string };
  status: 'pending' | 'sending' | 'failed';
  /** Attempts started so far (counted when claimed, so a crash mid-send also counts). */
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string;
  /** Last error code (e.g. ETIMEDOUT, EENVELOPE:550), never a server message (those can quote the address). */
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

export type NewOutboxRecord = Omit<OutboxRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>;

export interface ClaimResult {
  /** Mails now 'sending' under this claim. */
  claimed: OutboxRecord[];
  /** Mails whose earlier send was interrupted (lease ran out) on their last allowed attempt: now 'failed'. */
  exhausted: OutboxRecord[];
}

export interface OutboxCounts {
  pending: number;
  sending: number;
  failed: number;
}

/** Persistence of the outbox (lib/store/sqlite/outbox.ts, lib/store/postgres/outbox.ts). */
export interface OutboxStore {
  insert(record: NewOutboxRecord): Promise<void>;
  /**
   * In one transaction: takes up to `limit` mails that are due (pending and next_attempt_at <= now, or sending with
   * an expired lease), marks them 'sending' with `claimId`, `leaseUntil` and the claimer's `instance` id, and counts
   * the attempt.
   */
  claimDue(nowIso: string, leaseUntilIso: string, claimId: string, limit: number, instance?: string): Promise<ClaimResult>;
  /**
   * Ends the leases of mails this instance was sending in an earlier run (the process died mid-send), so they are
   * due at once instead of after the lease. Call at start, before this run claims anything. Returns how many.
   */
  reclaimInstance(instance: string, nowIso: string): Promise<number>;
  /** Sent: the row (and its personal data) is deleted. False when the claim was lost. */
  complete(id: string, claimId: string): Promise<boolean>;
  reschedule(id: string, claimId: string, nextAttemptAtIso: string, errorCode: string, nowIso: string): Promise<boolean>;
  fail(id: string, claimId: string, errorCode: string, nowIso: string): Promise<boolean>;
  /** Gives a claimed but unattempted mail back (shutdown): pending again, the attempt uncounted. */
  release(id: string, claimId: string, nowIso: string): Promise<boolean>;
  /** Earliest time something may become due (pending due time or sending lease end), if any. */
  nextDueAt(): Promise<string | undefined>;
  /** Deletes failed mails last touched before `beforeIso` (retention of personal data). */
  purgeFailed(beforeIso: string): Promise<number>;
  /** Puts a failed mail back in the queue with a fresh attempt budget. */
  requeue(id: string, nowIso: string): Promise<boolean>;
  /** Deletes not-yet-sent mails of an appointment (optionally of some kinds), e.g. a confirmation after cancellation. */
  discard(appointmentId: string, kinds?: readonly string[]): Promise<number>;
  counts(): Promise<OutboxCounts>;
  get(id: string): Promise<OutboxRecord | undefined>;
}
