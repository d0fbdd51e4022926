import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { faultCode } from '../store/faults';
import type { QueueCounts, QueuedRecord, QueueStore } from './queue-store';

export interface BackoffOptions {
  /** Delay after the first failure (default 30 s). */
  initialMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Longest delay (default 30 min). */
  maxMs?: number;
  /** Attempts before a message is marked failed (default 10). */
  maxAttempts?: number;
}

export interface WorkerOptions<R extends QueuedRecord> {
  store: QueueStore<R>;
  now?: () => Date;
  backoff?: BackoffOptions;
  /** How long a claimed message may stay 'sending' before another pass may take it over (crash recovery; default 10 min). */
  leaseMs?: number;
  /** Longest sleep between passes while started (default 60 s). */
  pollMs?: number;
  /** Messages per claim (default 20). */
  batchSize?: number;
  /** How long failed messages (with their personal data) are kept for inspection or requeue (default 7 days). */
  failedRetentionMs?: number;
  /**
   * This instance's id (lib/runtime/instance.ts). Claims are marked with it, and the first pass ends the leases of
   * this instance's earlier run, so messages interrupted by a crash go out at once instead of after leaseMs.
   */
  instanceId?: string;
  /** Waiting after a pass failed because the store did (default 1 s, doubling to 60 s); kick() cuts it short. */
  faultBackoff?: { initialMs?: number; maxMs?: number };
}

/** Why one send did not succeed: a code for the record and the events, never a server's text. */
export interface SendFailure {
  /** E.g. ETIMEDOUT, ECONNREFUSED, EENVELOPE:550, EHTTP:503. */
  code: string;
  /** True when retrying cannot help (the recipient or message was refused). */
  permanent: boolean;
}

/** Event payloads: identifiers and codes only, never recipient or content. */
export interface SentEvent {
  id: string;
  kind: string;
  appointmentId?: string;
  attempt: number;
}
export interface RetryingEvent extends SentEvent {
  errorCode: string;
  nextAttemptAt: string;
}
export interface FailedEvent extends SentEvent {
  errorCode: string;
  /** True when the receiving server refused the message or recipient; false when the attempts ran out. */
  permanent: boolean;
}

export interface WorkerEvents {
  sent: [SentEvent];
  /** A scheduled message whose notAfter passed before it could go out (runtime down, clock jump): deleted unsent. */
  expired: [{ id: string; kind: string; appointmentId?: string }];
  retrying: [RetryingEvent];
  failed: [FailedEvent];
  /** The store or scheduler itself failed (not a send); the worker backs off. One event per failed pass. */
  workerError: [Error];
  /** A pass succeeded after `failedPasses` failed ones; what was held in memory is recorded. */
  recovered: [{ failedPasses: number }];
}

/**
 * What the worker still has to write about a message it handled while the store could not be written: the outcome
 * of the send (so an accepted message is never sent again) or the return of a claimed but unattempted message.
 */
type Settlement =
  | { op: 'complete' }
  | { op: 'reschedule'; next: string; code: string }
  | { op: 'fail'; code: string }
  | { op: 'release' };

/** A whole number from 1 to max, or the fallback; throws naming the option otherwise. */
export function positiveInt(value: number | undefined, fallback: number, name: string, max = 2 ** 31): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
  return v;
}

/** Bounded exponential backoff: initial * factor^(attempt-1), at most maxMs. */
export function backoffDelay(attempt: number, options: Required<Omit<BackoffOptions, 'maxAttempts'>>): number {
  const exp = options.initialMs * Math.pow(options.factor, Math.max(0, attempt - 1));
  return Math.min(options.maxMs, Math.round(exp));
}

/**
 * The worker of a persistent outbox (mail: lib/mail/outbox.ts, SMS: lib/sms/outbox.ts). State lives in the store,
 * so a restart (a new worker on the same database) continues where the old one stopped. A message is claimed
 * ('sending', attempt counted, marked with the instance id) in a transaction before it is handed to `send`, and
 * deleted once the receiving server accepted it.
 * - If the process dies in between, the restarted instance ends its own old leases at once (other instances' leases
 *   run out) and the message is sent again: neither SMTP nor an HTTP gateway has a two-phase commit, so a crash in
 *   the instant between the server's acceptance and the local commit can still send one message twice; nothing else can.
 * - If the store cannot be written, the outcome of every message in hand is kept in memory and recorded before the
 *   next claim once the store recovers, so an accepted message is not sent again; the worker backs off exponentially.
 */
export abstract class OutboxWorker<R extends QueuedRecord> extends EventEmitter<WorkerEvents> {
  protected readonly store: QueueStore<R>;
  protected readonly clock: () => Date;
  protected readonly backoff: Required<BackoffOptions>;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly instanceId?: string;
  private readonly faultInitialMs: number;
  private readonly faultMaxMs: number;
  /** Record id -> what to record once the store can be written again; applied before anything is claimed. */
  private readonly unsettled = new Map<string, { claimId: string; settlement: Settlement }>();
  /** Passes failed in a row (store faults); 0 when healthy. */
  private faults = 0;
  private reclaimed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Set while stop() waits: the pass finishes the message in hand but claims no more. */
  private stopping = false;

  constructor(options: WorkerOptions<R>) {
    super();
    this.store = options.store;
    this.clock = options.now ?? (() => new Date());
    const b = options.backoff ?? {};
    this.backoff = {
      initialMs: positiveInt(b.initialMs, 30_000, 'backoff.initialMs'),
      factor: b.factor ?? 2,
      maxMs: positiveInt(b.maxMs, 30 * 60_000, 'backoff.maxMs'),
      maxAttempts: positiveInt(b.maxAttempts, 10, 'backoff.maxAttempts', 1000),
    };
    if (!(this.backoff.factor >= 1 && this.backoff.factor <= 10)) throw new Error('backoff.factor must be between 1 and 10');
    this.leaseMs = positiveInt(options.leaseMs, 10 * 60_000, 'leaseMs');
    this.pollMs = positiveInt(options.pollMs, 60_000, 'pollMs');
    this.batchSize = positiveInt(options.batchSize, 20, 'batchSize', 1000);
    this.retentionMs = positiveInt(options.failedRetentionMs, 7 * 24 * 3600_000, 'failedRetentionMs', 366 * 24 * 3600_000);
    this.instanceId = options.instanceId;
    this.faultInitialMs = positiveInt(options.faultBackoff?.initialMs, 1000, 'faultBackoff.initialMs');
    this.faultMaxMs = positiveInt(options.faultBackoff?.maxMs, 60_000, 'faultBackoff.maxMs');
  }

  /**
   * Hands one claimed record to its receiver. Resolves undefined when the receiver accepted it, a SendFailure when
   * it did not; never throws (an unexpected error is a failure with a code).
   */
  protected abstract send(record: R): Promise<SendFailure | undefined>;

  /** What the worker's 'what' is called in its messages (e.g. 'mail'). */
  protected abstract readonly noun: string;

  /** Starts the worker: a pass now, then whenever something is due (at least every pollMs). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.kick();
  }

  /** True between start() and stop(). */
  isStarted(): boolean {
    return this.started;
  }

  /**
   * Stops scheduling and waits for a pass in progress to finish, then tries once more to record what is held in
   * memory. What still cannot be recorded is lost with the process: those messages may go out once more after a
   * restart.
   */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping = true;
    try {
      await this.running;
      if (this.unsettled.size) {
        await this.flush().catch((e: unknown) => {
          const held = this.unsettled.size;
          this.emit('workerError', new Error(`${held} ${this.noun} outcome(s) could not be recorded before stopping (${faultCode(e)}); they may be sent again after a restart`));
        });
      }
    } finally {
      this.stopping = false;
    }
  }

  /** Messages whose outcome is known but not yet recorded because the store could not be written. */
  heldInMemory(): number {
    return this.unsettled.size;
  }

  /** Runs a pass now (or once more after the current one); resolves when done. Never rejects. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.stopping);
        if (this.faults > 0) {
          const failedPasses = this.faults;
          this.faults = 0;
          this.emit('recovered', { failedPasses });
        }
      } catch (e) {
        this.faults++;
        this.emit('workerError', e instanceof Error ? e : new Error(String(e)));
      } finally {
        this.running = undefined;
        await this.schedule();
      }
    })();
    this.running = run;
    return run;
  }

  counts(): Promise<QueueCounts> {
    return this.store.counts(this.clock().toISOString());
  }

  /** Puts a failed message back in the queue (an administrator fixed the cause). */
  async requeue(id: string): Promise<boolean> {
    const ok = await this.store.requeue(id, this.clock().toISOString());
    if (ok && this.started) void this.kick();
    return ok;
  }

  /** Drops unsent messages of an appointment, e.g. a pending confirmation once the appointment is cancelled. */
  discard(appointmentId: string, kinds?: string[]): Promise<number> {
    return this.store.discard(appointmentId, kinds);
  }

  private async schedule(): Promise<void> {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    let delay = this.pollMs;
    if (this.faults > 0) {
      // The store failed: wait longer after each failed pass instead of retrying what is due every few ms.
      delay = Math.min(this.faultMaxMs, this.faultInitialMs * 2 ** Math.min(this.faults - 1, 20));
    } else {
      try {
        const next = await this.store.nextDueAt();
        if (next) delay = Math.min(delay, Math.max(0, Date.parse(next) - this.clock().getTime()));
      } catch (e) {
        this.faults++;
        this.emit('workerError', e instanceof Error ? e : new Error(String(e)));
        delay = this.faultInitialMs;
      }
    }
    if (!this.started) return;
    // At least a few ms between passes, so a clock mismatch can never turn into a busy loop.
    this.timer = setTimeout(() => void this.kick(), Math.max(delay, 5));
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const now = this.clock();
    if (this.instanceId && !this.reclaimed) {
      // Only this instance's earlier run can hold these leases: that process is gone, its messages are due now.
      await this.store.reclaimInstance(this.instanceId, now.toISOString());
      this.reclaimed = true;
    }
    // Outcomes held in memory first: a message the server accepted must be recorded before anything could claim it.
    await this.flush();
    await this.store.purgeFailed(new Date(now.getTime() - this.retentionMs).toISOString());
    while (!this.stopping) {
      const at = this.clock();
      const claimId = randomUUID();
      const { claimed, exhausted, expired } = await this.store.claimDue(
        at.toISOString(),
        new Date(at.getTime() + this.leaseMs).toISOString(),
        claimId,
        this.batchSize,
        this.instanceId,
      );
      for (const r of exhausted) this.emit('failed', { ...this.ids(r), errorCode: 'EINTERRUPTED', permanent: false });
      for (const r of expired ?? []) this.emit('expired', r);
      if (claimed.length === 0) return;
      let fault: unknown;
      for (const record of claimed) {
        // Messages claimed but not attempted go back to the queue at once instead of waiting for their lease; after a
        // store fault they are handed back in memory, recorded when the store recovers.
        if (this.stopping || fault !== undefined) fault = await this.settle(record, claimId, { op: 'release' }, fault);
        else fault = await this.deliver(record, claimId);
      }
      if (fault !== undefined) throw fault;
      if (claimed.length < this.batchSize) return;
    }
  }

  /**
   * Records a message's outcome. When the store cannot be written (or already failed in this pass: `fault`), the
   * outcome is kept in memory and the fault returned, so the pass stops and backs off; flush() records it later.
   */
  private async settle(record: R, claimId: string, settlement: Settlement, fault?: unknown): Promise<unknown> {
    if (fault === undefined) {
      try {
        await this.apply(record.id, claimId, settlement);
        return undefined;
      } catch (e) {
        fault = e;
      }
    }
    this.unsettled.set(record.id, { claimId, settlement });
    return fault;
  }

  private async apply(id: string, claimId: string, s: Settlement): Promise<boolean> {
    const now = this.clock().toISOString();
    switch (s.op) {
      case 'complete':
        return this.store.complete(id, claimId);
      case 'reschedule':
        return this.store.reschedule(id, claimId, s.next, s.code, now);
      case 'fail':
        return this.store.fail(id, claimId, s.code, now);
      case 'release':
        return this.store.release(id, claimId, now);
    }
  }

  /** Records the outcomes held in memory, in order; throws (keeping the rest) at the first store failure. */
  private async flush(): Promise<void> {
    for (const [id, { claimId, settlement }] of this.unsettled) {
      await this.apply(id, claimId, settlement);
      this.unsettled.delete(id);
    }
  }

  private ids(r: R): SentEvent {
    return { id: r.id, kind: r.kind, ...(r.appointmentId !== undefined ? { appointmentId: r.appointmentId } : {}), attempt: r.attempts };
  }

  /** Sends one claimed message and records the outcome; returns a store fault instead of throwing it (see settle). */
  private async deliver(record: R, claimId: string): Promise<unknown> {
    let failure: SendFailure | undefined;
    try {
      failure = await this.send(record);
    } catch {
      failure = { code: 'EUNKNOWN', permanent: false };
    }
    const now = this.clock();
    if (!failure) {
      // Accepted by the server: from here on the message must never be sent again, whatever the store does.
      const fault = await this.settle(record, claimId, { op: 'complete' });
      this.emit('sent', this.ids(record));
      return fault;
    }
    if (failure.permanent || record.attempts >= record.maxAttempts) {
      const fault = await this.settle(record, claimId, { op: 'fail', code: failure.code });
      this.emit('failed', { ...this.ids(record), errorCode: failure.code, permanent: failure.permanent });
      return fault;
    }
    const next = new Date(now.getTime() + backoffDelay(record.attempts, this.backoff)).toISOString();
    const fault = await this.settle(record, claimId, { op: 'reschedule', next, code: failure.code });
    this.emit('retrying', { ...this.ids(record), errorCode: failure.code, nextAttemptAt: next });
    return fault;
  }
}
