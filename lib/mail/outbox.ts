import { randomUUID } from 'node:crypto';
import type nodemailer from 'nodemailer';
import type { NewOutboxRecord, OutboxRecord, OutboxStore } from './outbox-store';
import { headerSafe, normalizeEmail } from './sanitize';
import { scheduleOf } from '../outbox/schedule';
import { OutboxWorker, type SendFailure, type WorkerOptions } from '../outbox/worker';
import { classifySendError, failureCode } from './smtp-errors';
import type { MailTransport } from './transport';

export { backoffDelay, type BackoffOptions, type FailedEvent, type RetryingEvent, type SentEvent } from '../outbox/worker';
export type { WorkerEvents as OutboxEvents } from '../outbox/worker';

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
  /** A scheduled mail (a reminder): not sent before this instant (ISO 8601); default now. Needs `notAfter`. */
  sendAt?: string;
  /** Deleted unsent once this instant (ISO 8601) has passed, and with the appointment's cancellation or move. */
  notAfter?: string;
}

/** The worker's options (lib/outbox/worker.ts) and what mail adds. */
export interface OutboxOptions extends WorkerOptions<OutboxRecord> {
  store: OutboxStore;
  transport: MailTransport;
  /** Default sender. */
  from?: { name?: string; address: string };
  /** Host part of generated Message-IDs (the public host). */
  messageIdHost?: string;
}

const KIND = /^[a-z][a-z0-9-]{0,49}$/;
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * The persistent mail outbox: the shared outbox worker (lib/outbox/worker.ts: claims under a lease, retries with
 * backoff, outcomes kept in memory while the store cannot be written) with SMTP as the receiver. A mail keeps its
 * Message-ID across attempts, so a re-send after a crash between the server's 250 and the local commit is
 * recognisable.
 */
export class Outbox extends OutboxWorker<OutboxRecord> {
  protected readonly noun = 'mail';
  protected declare readonly store: OutboxStore;
  private readonly transport: MailTransport;
  private readonly host: string;
  private readonly defaultFrom?: { name?: string; address: string };

  constructor(options: OutboxOptions) {
    super(options);
    this.transport = options.transport;
    this.host = options.messageIdHost ?? 'idvideo.invalid';
    if (!HOST.test(this.host)) throw new Error('messageIdHost must be a DNS name');
    if (options.from) this.defaultFrom = this.checkFrom(options.from);
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
    if (this.isStarted()) void this.kick();
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
    const schedule = scheduleOf(now, mail.sendAt, mail.notAfter);
    const nextAttemptAt = schedule?.nextAttemptAt ?? now;
    const notAfter = schedule?.notAfter;
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
      nextAttemptAt,
      ...(notAfter ? { notAfter } : {}),
      createdAt: now,
    };
    return record;
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

  /** SMTP as the receiver: a 5xx to the envelope or message is permanent, everything else is retried. */
  protected async send(record: OutboxRecord): Promise<SendFailure | undefined> {
    try {
      const info = await this.transport.sendMail(this.message(record));
      // One recipient per mail: a rejected list that is not empty means this recipient was refused.
      if (Array.isArray(info?.rejected) && info.rejected.length > 0) return { code: 'EENVELOPE', permanent: true };
      return undefined;
    } catch (e) {
      const failure = classifySendError(e);
      return { code: failureCode(failure), permanent: failure.permanent };
    }
  }
}

export function createOutbox(options: OutboxOptions): Outbox {
  return new Outbox(options);
}
