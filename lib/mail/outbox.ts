import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type nodemailer from 'nodemailer';
import type { NewOutboxRecord, OutboxCounts, OutboxRecord, OutboxStore } from './outbox-store';
import { headerSafe, normalizeEmail } from './sanitize';
import { faultCode } from '../store/faults';
import { classifySendError, failureCode, type SendFailure } from './smtp-errors';
import type { MailTransport } from './transport';

/** A rendered mail handed to the outbox. */
export interface OutgoingMail {
  /** What this mail is (e.g. 'resident-confirmation'); shown in events and status, never personal. */
  kind: string;
  appointmentId?: string;
  /** Sender; defaults to the outbox's `from`. */
  from?: { name?: string; address: string };
  /** Exactly one recipient. */
  to: { name?: string; address: string };
  subject: string;
  text: string;
  html?: string;
  ics?: { method: 'REQUEST' | 'CANCEL'; content: string };
}

export interface BackoffOptions {
  /** Delay after the first failure (default 30 s). */
  initialMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Longest delay (default 30 min). */
  maxMs?: number;
  /** Attempts before a mail is marked failed (default 10). */
  maxAttempts?: number;
}

export interface OutboxOptions {
  store: OutboxStore;
  transport: MailTransport;
  /** Default sender. */
  from?: { name?: string; address: string };
  /** Host part of generated Message-IDs (the public host). */
  messageIdHost?: string;
  now?: () => Date;
  backoff?: BackoffOptions;
  /** How long a claimed mail may stay 'sending' before another pass may take it over (crash recovery; default 10 min). */
  leaseMs?: number;
  /** Longest sleep between passes while started (default 60 s). */
  pollMs?: number;
  /** Mails per claim (default 20). */
  batchSize?: number;
  /** How long failed mails (with their personal data) are kept for inspection or requeue (default 7 days). */
  failedRetentionMs?: number;
  /**
   * This instance's id (lib/runtime/instance.ts). Claims are marked with it, and the first pass ends the leases of
   * this instance's earlier run, so mails interrupted by a crash go out at once instead of after leaseMs.
   */
  instanceId?: string;
  /** Waiting after a pass failed because the store did (default 1 s, doubling to 60 s); kick() cuts it short. */
  faultBackoff?: { initialMs?: number; maxMs?: number };
}

/** Event payloads: identifiers and codes only, never recipient, subject or content. */
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
  /** True when the server refused the message or recipient (5xx); false when the attempts ran out. */
  permanent: boolean;
}

export interface OutboxEvents {
  sent: [SentEvent];
  retrying: [RetryingEvent];
  failed: [FailedEvent];
  /** The store or scheduler itself failed (not a send); the worker backs off. One event per failed pass. */
  workerError: [Error];
  /** A pass succeeded after `failedPasses` failed ones; what was held in memory is recorded. */
  recovered: [{ failedPasses: number }];
}

/**
 * What the worker still has to write about a mail it handled while the store could not be written: the outcome of
 * the send (so an accepted mail is never sent again) or the return of a claimed but unattempted mail.
 */
type Settlement =
  | { op: 'complete' }
  | { op: 'reschedule'; next: string; code: string }
  | { op: 'fail'; code: string }
  | { op: 'release' };

const KIND = /^[a-z][a-z0-9-]{0,49}$/;
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

function positiveInt(value: number | undefined, fallback: number, name: string, max = 2 ** 31): number {
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
 * The persistent mail outbox and its worker. State lives in the store, so a restart (a new Outbox on the same
 * database) continues where the old one stopped. A mail is claimed ('sending', attempt counted, marked with the
 * instance id) in a transaction before it is handed to SMTP, and deleted once the server accepted it.
 * - If the process dies in between, the restarted instance ends its own old leases at once (other instances' leases
 *   run out) and the mail is sent again with the same Message-ID: SMTP has no two-phase commit, so a crash in the
 *   instant between the server's 250 and the local commit can still send one mail twice; nothing else can.
 * - If the store cannot be written, the outcome of every mail in hand is kept in memory and recorded before the next
 *   claim once the store recovers, so an accepted mail is not sent again; the worker backs off exponentially.
 */
export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly store: OutboxStore;
  private readonly transport: MailTransport;
  private readonly clock: () => Date;
  private readonly backoff: Required<BackoffOptions>;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly host: string;
  private readonly defaultFrom?: { name?: string; address: string };
  private readonly instanceId?: string;
  private readonly faultInitialMs: number;
  private readonly faultMaxMs: number;
  /** Mail id -> what to record once the store can be written again; applied before anything is claimed. */
  private readonly unsettled = new Map<string, { record: OutboxRecord; claimId: string; settlement: Settlement }>();
  /** Passes failed in a row (store faults); 0 when healthy. */
  private faults = 0;
  private reclaimed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Set while stop() waits: the pass finishes the mail in hand but claims no more. */
  private stopping = false;

  constructor(options: OutboxOptions) {
    super();
    this.store = options.store;
    this.transport = options.transport;
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
    this.host = options.messageIdHost ?? 'idvideo.invalid';
    if (!HOST.test(this.host)) throw new Error('messageIdHost must be a DNS name');
    if (options.from) this.defaultFrom = this.checkFrom(options.from);
    this.instanceId = options.instanceId;
    this.faultInitialMs = positiveInt(options.faultBackoff?.initialMs, 1000, 'faultBackoff.initialMs');
    this.faultMaxMs = positiveInt(options.faultBackoff?.maxMs, 60_000, 'faultBackoff.maxMs');
  }

  private checkFrom(from: { name?: string; address: string }): { name?: string; address: string } {
    const address = normalizeEmail(from?.address, 'from address');
    const name = headerSafe(from.name, 120);
    return name ? { name, address } : { address };
  }

  /** Validates and stores a mail; it is sent by the next pass (kicked right away when started). */
  async enqueue(mail: OutgoingMail): Promise<{ id: string; messageId: string }> {
    const record = this.prepare(mail);
    await this.store.insert(record);
    if (this.started) void this.kick();
    return { id: record.id, messageId: record.messageId };
  }

  /**
   * Validates a mail and builds its outbox row (id, Message-ID) without storing it: for callers that store it in
   * one transaction with other changes (lib/store/sqlite/events.ts, lib/store/postgres/events.ts), then call kick(). Throws on a bad mail.
   */
  prepare(mail: OutgoingMail): NewOutboxRecord {
    if (typeof mail?.kind !== 'string' || !KIND.test(mail.kind)) throw new Error('kind must be lower-case letters, digits and dashes');
    if (mail.appointmentId !== undefined && (typeof mail.appointmentId !== 'string' || mail.appointmentId.length === 0 || mail.appointmentId.length > 200)) {
      throw new Error('appointmentId must be a non-empty string of at most 200 characters');
    }
    const from = mail.from ? this.checkFrom(mail.from) : this.defaultFrom;
    if (!from) throw new Error('no sender: pass mail.from or the outbox option from');
    const toAddress = normalizeEmail(mail.to?.address, 'recipient');
    const toName = headerSafe(mail.to.name, 120);
    const subject = headerSafe(mail.subject, 250);
    if (!subject) throw new Error('subject is empty');
    if (typeof mail.text !== 'string' || mail.text.trim() === '' || mail.text.length > 200_000) throw new Error('text must be a non-empty string of at most 200000 characters');
    if (mail.html !== undefined && (typeof mail.html !== 'string' || mail.html.length > 500_000)) throw new Error('html must be a string of at most 500000 characters');
    if (mail.ics !== undefined) {
      if (mail.ics.method !== 'REQUEST' && mail.ics.method !== 'CANCEL') throw new Error("ics.method must be 'REQUEST' or 'CANCEL'");
      if (typeof mail.ics.content !== 'string' || !mail.ics.content.startsWith('BEGIN:VCALENDAR') || mail.ics.content.length > 100_000) {
        throw new Error('ics.content must be an iCalendar text');
      }
    }
    const id = randomUUID();
    const now = this.clock().toISOString();
    const record: NewOutboxRecord = {
      id,
      kind: mail.kind,
      ...(mail.appointmentId !== undefined ? { appointmentId: mail.appointmentId } : {}),
      messageId: `<${id}@${this.host}>`,
      ...(from.name ? { fromName: from.name } : {}),
      fromAddress: from.address,
      toAddress,
      ...(toName ? { toName } : {}),
      subject,
      text: mail.text,
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.ics !== undefined ? { ics: { method: mail.ics.method, content: mail.ics.content } } : {}),
      maxAttempts: this.backoff.maxAttempts,
      nextAttemptAt: now,
      createdAt: now,
    };
    return record;
  }

  /** Starts the worker: a pass now, then whenever something is due (at least every pollMs). */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.kick();
  }

  /**
   * Stops scheduling and waits for a pass in progress to finish, then tries once more to record what is held in
   * memory. What still cannot be recorded is lost with the process: those mails may go out once more after a restart.
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
          this.emit('workerError', new Error(`${held} mail outcome(s) could not be recorded before stopping (${faultCode(e)}); they may be sent again after a restart`));
        });
      }
    } finally {
      this.stopping = false;
    }
  }

  /** Mails whose outcome is known but not yet recorded because the store could not be written. */
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

  counts(): Promise<OutboxCounts> {
    return this.store.counts();
  }

  /** Puts a failed mail back in the queue (an administrator fixed the cause). */
  async requeue(id: string): Promise<boolean> {
    const ok = await this.store.requeue(id, this.clock().toISOString());
    if (ok && this.started) void this.kick();
    return ok;
  }

  /** Drops unsent mails of an appointment, e.g. a pending confirmation once the appointment is cancelled. */
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
      // Only this instance's earlier run can hold these leases: that process is gone, its mails are due now.
      await this.store.reclaimInstance(this.instanceId, now.toISOString());
      this.reclaimed = true;
    }
    // Outcomes held in memory first: a mail the server accepted must be recorded before anything could claim it.
    await this.flush();
    await this.store.purgeFailed(new Date(now.getTime() - this.retentionMs).toISOString());
    while (!this.stopping) {
      const at = this.clock();
      const claimId = randomUUID();
      const { claimed, exhausted } = await this.store.claimDue(
        at.toISOString(),
        new Date(at.getTime() + this.leaseMs).toISOString(),
        claimId,
        this.batchSize,
        this.instanceId,
      );
      for (const r of exhausted) this.emit('failed', { ...this.ids(r), errorCode: 'EINTERRUPTED', permanent: false });
      if (claimed.length === 0) return;
      let fault: unknown;
      for (const record of claimed) {
        // Mails claimed but not attempted go back to the queue at once instead of waiting for their lease; after a
        // store fault they are handed back in memory, recorded when the store recovers.
        if (this.stopping || fault !== undefined) fault = await this.settle(record, claimId, { op: 'release' }, fault);
        else fault = await this.deliver(record, claimId);
      }
      if (fault !== undefined) throw fault;
      if (claimed.length < this.batchSize) return;
    }
  }

  /**
   * Records a mail's outcome. When the store cannot be written (or already failed in this pass: `fault`), the outcome
   * is kept in memory and the fault returned, so the pass stops and backs off; flush() records it later.
   */
  private async settle(record: OutboxRecord, claimId: string, settlement: Settlement, fault?: unknown): Promise<unknown> {
    if (fault === undefined) {
      try {
        await this.apply(record.id, claimId, settlement);
        return undefined;
      } catch (e) {
        fault = e;
      }
    }
    this.unsettled.set(record.id, { record, claimId, settlement });
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

  private ids(r: OutboxRecord): SentEvent {
    return { id: r.id, kind: r.kind, ...(r.appointmentId !== undefined ? { appointmentId: r.appointmentId } : {}), attempt: r.attempts };
  }

  private message(r: OutboxRecord): nodemailer.SendMailOptions {
    return {
      messageId: r.messageId,
      from: r.fromName ? { name: r.fromName, address: r.fromAddress } : r.fromAddress,
      to: r.toName ? { name: r.toName, address: r.toAddress } : r.toAddress,
      subject: r.subject,
      text: r.text,
      ...(r.html !== undefined ? { html: r.html } : {}),
      ...(r.ics
        ? { icalEvent: { method: r.ics.method, filename: r.ics.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics', content: r.ics.content } }
        : {}),
      headers: { 'Auto-Submitted': 'auto-generated' },
      disableFileAccess: true,
      disableUrlAccess: true,
    };
  }

  /** Sends one claimed mail and records the outcome; returns a store fault instead of throwing it (see settle). */
  private async deliver(record: OutboxRecord, claimId: string): Promise<unknown> {
    let failure: SendFailure | undefined;
    try {
      const info = await this.transport.sendMail(this.message(record));
      // One recipient per mail: a rejected list that is not empty means this recipient was refused.
      if (Array.isArray(info?.rejected) && info.rejected.length > 0) failure = { code: 'EENVELOPE', permanent: true };
    } catch (e) {
      failure = classifySendError(e);
    }
    const now = this.clock();
    if (!failure) {
      // Accepted by the server: from here on the mail must never be sent again, whatever the store does.
      const fault = await this.settle(record, claimId, { op: 'complete' });
      this.emit('sent', this.ids(record));
      return fault;
    }
    const code = failureCode(failure);
    if (failure.permanent || record.attempts >= record.maxAttempts) {
      const fault = await this.settle(record, claimId, { op: 'fail', code });
      this.emit('failed', { ...this.ids(record), errorCode: code, permanent: failure.permanent });
      return fault;
    }
    const next = new Date(now.getTime() + backoffDelay(record.attempts, this.backoff)).toISOString();
    const fault = await this.settle(record, claimId, { op: 'reschedule', next, code });
    this.emit('retrying', { ...this.ids(record), errorCode: code, nextAttemptAt: next });
    return fault;
  }
}

export function createOutbox(options: OutboxOptions): Outbox {
  return new Outbox(options);
}
