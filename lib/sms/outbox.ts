import { randomUUID } from 'node:crypto';
import { scheduleOf } from '../outbox/schedule';
import { OutboxWorker, type SendFailure, type WorkerOptions } from '../outbox/worker';
import { countSegments } from './gsm7';
import type { DeliveryStatus, NewSmsRecord, ReportOutcome, SmsOutboxStore, SmsRecord } from './outbox-store';
import { isDutchMobileE164 } from './phone';

/** An SMS handed to the outbox. */
export interface OutgoingSms {
  /** What this SMS is (e.g. 'sms-confirmation'); shown in events and status, never personal. */
  kind: string;
  appointmentId?: string;
  /** Id of the idv-sms-gateway config node that sends it. */
  gateway: string;
  /** E.164 Dutch mobile number (lib/sms/phone.ts). */
  to: string;
  text: string;
  /** A scheduled SMS (a reminder): not sent before this instant (ISO 8601); default now. Needs `notAfter`. */
  sendAt?: string;
  /** A scheduled SMS is deleted unsent once this instant (the appointment's start) has passed. */
  notAfter?: string;
}

/** What a gateway needs for one SMS. `reference` is the outbox id: a gateway can use it to spot a re-send. */
export interface SmsSend {
  to: string;
  text: string;
  reference: string;
}

/** A gateway: resolves undefined when it accepted the SMS, a failure with a code otherwise; never throws. */
export interface SmsSender {
  send(sms: SmsSend): Promise<SendFailure | undefined>;
}

export interface SmsOutboxOptions extends WorkerOptions<SmsRecord> {
  store: SmsOutboxStore;
  /** The gateway of a config node id, or undefined when that node is not deployed (the SMS waits and is retried). */
  gateway(id: string): SmsSender | undefined;
}

const KIND = /^[a-z][a-z0-9-]{0,49}$/;
const GATEWAY_ID = /^[A-Za-z0-9._-]{1,100}$/;
/** Six parts at most: a text that needs more is a template mistake, not a message for a resident's phone. */
const MAX_SEGMENTS = 6;

/**
 * The persistent SMS outbox: the shared outbox worker (lib/outbox/worker.ts: claims under a lease, retries with
 * backoff, outcomes kept in memory while the store cannot be written) with an HTTP gateway as the receiver. Events
 * carry ids and codes only: never the number or the text (it holds the access link).
 */
export class SmsOutbox extends OutboxWorker<SmsRecord> {
  protected readonly noun = 'SMS';
  protected declare readonly store: SmsOutboxStore;
  private readonly gateway: (id: string) => SmsSender | undefined;

  constructor(options: SmsOutboxOptions) {
    super(options);
    this.gateway = options.gateway;
  }

  /**
   * Validates an SMS and builds its outbox row without storing it: for callers that store it in one transaction
   * with other changes (EventStore.finish with Effects.sms). Throws on a bad SMS; the message never quotes it.
   */
  prepare(sms: OutgoingSms): NewSmsRecord {
    if (typeof sms?.kind !== 'string' || !KIND.test(sms.kind)) throw new Error('kind must be lower-case letters, digits and dashes');
    if (sms.appointmentId !== undefined && (typeof sms.appointmentId !== 'string' || sms.appointmentId.length === 0 || sms.appointmentId.length > 200)) {
      throw new Error('appointmentId must be a non-empty string of at most 200 characters');
    }
    if (typeof sms.gateway !== 'string' || !GATEWAY_ID.test(sms.gateway)) throw new Error('gateway must be a config node id');
    if (!isDutchMobileE164(sms.to)) throw new Error('recipient must be a Dutch mobile number in E.164 form');
    if (typeof sms.text !== 'string' || sms.text.trim() === '') throw new Error('text must not be empty');
    if (countSegments(sms.text).segments > MAX_SEGMENTS) throw new Error(`text needs more than ${MAX_SEGMENTS} SMS parts`);
    const now = this.clock().toISOString();
    const schedule = scheduleOf(now, sms.sendAt, sms.notAfter);
    return {
      id: randomUUID(),
      kind: sms.kind,
      ...(sms.appointmentId !== undefined ? { appointmentId: sms.appointmentId } : {}),
      gateway: sms.gateway,
      to: sms.to,
      text: sms.text,
      maxAttempts: this.backoff.maxAttempts,
      nextAttemptAt: schedule?.nextAttemptAt ?? now,
      ...(schedule ? { notAfter: schedule.notAfter } : {}),
      createdAt: now,
    };
  }

  /** Validates and stores an SMS; it is sent by the next pass (kicked right away when started). */
  async enqueue(sms: OutgoingSms): Promise<{ id: string }> {
    const record = this.prepare(sms);
    await this.store.insert(record);
    if (this.isStarted()) void this.kick();
    return { id: record.id };
  }

  /** Records a gateway's delivery report (lib/sms/delivery-route.ts); see SmsOutboxStore.report. */
  report(reference: string, gateway: string, status: DeliveryStatus, code: string | undefined, atIso: string): Promise<ReportOutcome> {
    return this.store.report(reference, gateway, status, code, atIso);
  }

  protected async send(record: SmsRecord): Promise<SendFailure | undefined> {
    const gateway = this.gateway(record.gateway);
    // The config node is not deployed (yet, or any more): wait within the attempt budget, it may come back.
    if (!gateway) return { code: 'ENOGATEWAY', permanent: false };
    const failure = await gateway.send({ to: record.to, text: record.text, reference: record.id });
    if (!failure) {
      // Kept for the gateway's delivery report (ids and kind only). A failed write costs only that report's match
      // (it is answered as unknown); it must not make the SMS go out again.
      await this.store
        .accepted({ reference: record.id, gateway: record.gateway, kind: record.kind, ...(record.appointmentId ? { appointmentId: record.appointmentId } : {}), acceptedAt: this.clock().toISOString() })
        .catch(() => undefined);
    }
    return failure;
  }
}
