/**
 * The part every durable outbox shares (mail in lib/mail/, SMS in lib/sms/): a row per message with a status, an
 * attempt count, a due time and a lease. The worker (lib/outbox/worker.ts) only sees these fields; what is sent (a
 * mail, an SMS) is the concrete record's business.
 */
export interface QueuedRecord {
  id: string;
  /** What this message is (e.g. 'resident-confirmation'); shown in events and status, never personal. */
  kind: string;
  appointmentId?: string;
  status: 'pending' | 'sending' | 'failed';
  /** Attempts started so far (counted when claimed, so a crash mid-send also counts). */
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string;
  /** Last error code (e.g. ETIMEDOUT, EHTTP:503), never a server's text (it can quote the recipient). */
  lastError?: string;
  /**
   * A scheduled message (a reminder, issue 14): useless after this UTC instant (the appointment's start). Deleted
   * unsent once it has passed, and with the appointment's cancellation or move. Mail (migration 012) and SMS (015).
   */
  notAfter?: string;
  createdAt: string;
  updatedAt: string;
}

export interface QueueClaim<R extends QueuedRecord> {
  /** Records now 'sending' under this claim. */
  claimed: R[];
  /** Records whose earlier send was interrupted (lease ran out) on their last allowed attempt: now 'failed'. */
  exhausted: R[];
  /** Scheduled records whose notAfter passed before they could be sent: deleted unsent (ids and kinds only). */
  expired?: Pick<QueuedRecord, 'id' | 'kind' | 'appointmentId'>[];
}

export interface QueueCounts {
  /** Due now or waiting for a retry; scheduled records whose time has not come are counted under `scheduled`. */
  pending: number;
  /** Scheduled records (reminders) not due yet. */
  scheduled: number;
  sending: number;
  failed: number;
}

/** Persistence of one outbox's queue; async so PostgreSQL can replace SQLite. */
export interface QueueStore<R extends QueuedRecord> {
  /**
   * In one transaction: takes up to `limit` records that are due (pending and next_attempt_at <= now, or sending
   * with an expired lease), marks them 'sending' with `claimId`, `leaseUntil` and the claimer's `instance` id, and
   * counts the attempt.
   */
  claimDue(nowIso: string, leaseUntilIso: string, claimId: string, limit: number, instance?: string): Promise<QueueClaim<R>>;
  /**
   * Ends the leases of records this instance was sending in an earlier run (the process died mid-send), so they are
   * due at once instead of after the lease. Call at start, before this run claims anything. Returns how many.
   */
  reclaimInstance(instance: string, nowIso: string): Promise<number>;
  /** Sent: the row (and its personal data) is deleted. False when the claim was lost. */
  complete(id: string, claimId: string): Promise<boolean>;
  reschedule(id: string, claimId: string, nextAttemptAtIso: string, errorCode: string, nowIso: string): Promise<boolean>;
  fail(id: string, claimId: string, errorCode: string, nowIso: string): Promise<boolean>;
  /** Gives a claimed but unattempted record back (shutdown): pending again, the attempt uncounted. */
  release(id: string, claimId: string, nowIso: string): Promise<boolean>;
  /** Earliest time something may become due (pending due time or sending lease end), if any. */
  nextDueAt(): Promise<string | undefined>;
  /** Deletes failed records last touched before `beforeIso` (retention of personal data). */
  purgeFailed(beforeIso: string): Promise<number>;
  /** Puts a failed record back in the queue with a fresh attempt budget. */
  requeue(id: string, nowIso: string): Promise<boolean>;
  /** Deletes not-yet-sent records of an appointment (optionally of some kinds), e.g. a confirmation after cancellation. */
  discard(appointmentId: string, kinds?: readonly string[]): Promise<number>;
  /** Counts by state; `nowIso` (default: the database's clock is not used, all pending count as pending) separates
   *  scheduled records that are not due yet. */
  counts(nowIso?: string): Promise<QueueCounts>;
  get(id: string): Promise<R | undefined>;
}
