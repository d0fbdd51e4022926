import type nodemailer from 'nodemailer';
import type { MailCatcher } from './mail/catcher';
import { metricsOf } from './runtime/metrics';
import { createOutbox, type BackoffOptions, type Outbox } from './mail/outbox';
import { createMailTransport, describeSmtp, parseSmtpUrl, type MailTransport, type SentInfo, type SmtpSettings, type TransportTimeouts } from './mail/transport';
import { runOutboxWorker } from './outbox/runtime';
import { instanceIdOf } from './runtime/instance';
import type { Services } from './services';

/**
 * The process-wide mail service: one persistent outbox and its worker for the whole runtime (several nodes may
 * enqueue, one worker sends), and the choice of where mail goes:
 *   1. SMTP_URL from the environment (wins, in demo mode too, so operators keep secrets out of flows);
 *   2. the SMTP server of the idv-settings node;
 *   3. in demo mode only: the built-in mail catcher on loopback, shown at /dev/mail.
 * With none of these a send fails with ENOSMTP and is retried, so configuring SMTP later still delivers the queue.
 */
export interface MailService {
  readonly outbox: Outbox;
  /** Gives the SMTP server of an idv-settings node (undefined: none configured there). The latest call wins. */
  configure(smtp: SmtpSettings | undefined): void;
  /** The demo catcher, started on first use; undefined outside demo mode or when real SMTP is configured. */
  catcher(): Promise<MailCatcher | undefined>;
  /** Where mail goes, for logs and status: never a user or password. */
  destination(): string;
}

export interface MailServiceOptions {
  backoff?: BackoffOptions;
  timeouts?: TransportTimeouts;
  pollMs?: number;
  /** Pause after a pass the store made fail (default 1 s doubling to 60 s); a recovered store wakes it at once. */
  faultBackoff?: { initialMs?: number; maxMs?: number };
  leaseMs?: number;
}

const KEY = 'idv.mail-service';
const FALLBACK_HOST = 'idvideo.invalid';
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** The public host as a DNS-name-like string for Message-IDs and invite UIDs. */
export function mailHost(publicUrl: string): string {
  try {
    const host = new URL(publicUrl).hostname;
    return HOST.test(host) ? host.toLowerCase() : FALLBACK_HOST;
  } catch {
    return FALLBACK_HOST;
  }
}

function noSmtp(): Error {
  return Object.assign(new Error('no mail server configured (set SMTP_URL or the SMTP fields of idv-settings)'), { code: 'ENOSMTP' });
}

/**
 * The mail service of this process. The options count only for the first call (tests pass short timeouts and
 * backoff); later calls get the same instance.
 */
export function mailServiceOf(services: Services, options: MailServiceOptions = {}): MailService {
  return services.memo(KEY, () => {
    const mail = createMailService(services, options);
    metricsOf(services).watchOutbox(mail.outbox);
    return mail;
  });
}

function createMailService(services: Services, options: MailServiceOptions): MailService {
  const { config } = services;
  const envSettings = config.smtpUrl ? parseSmtpUrl(config.smtpUrl) : undefined;
  let configured: SmtpSettings | undefined;
  let current: { key: string; transport: MailTransport } | undefined;
  let catcherStart: Promise<MailCatcher> | undefined;
  let closed = false;

  const startCatcher = (): Promise<MailCatcher> => {
    if (!catcherStart) {
      // Loaded here, in demo mode only: production never loads an SMTP server or a MIME parser it does not use.
      catcherStart = import('./mail/catcher.js').then((m) => m.startMailCatcher({ host: '127.0.0.1', port: 0 }));
      catcherStart.then(
        (c) => services.log.info(`demo mode: mails are caught on smtp://127.0.0.1:${c.port} and shown at /dev/mail`),
        (e: Error) => {
          // Forget the failed start so the next send tries again (the outbox retries the mail meanwhile).
          catcherStart = undefined;
          services.log.error(`demo mail catcher did not start: ${e.message}`);
        },
      );
    }
    return catcherStart;
  };

  /** The settings mail goes to now, or undefined when there are none. */
  const target = async (): Promise<SmtpSettings | undefined> => {
    if (envSettings) return envSettings;
    if (configured) return configured;
    if (config.mode === 'demo') {
      const c = await startCatcher();
      return { host: '127.0.0.1', port: c.port, secure: false };
    }
    return undefined;
  };

  const transportFor = async (): Promise<MailTransport> => {
    const settings = await target();
    if (!settings) throw noSmtp();
    // The key holds the password only in memory, to notice a changed credential; it is never logged.
    const key = JSON.stringify(settings);
    if (current?.key !== key) {
      current?.transport.close?.();
      // The catcher offers no STARTTLS; everything else gets nodemailer's normal opportunistic TLS.
      const transport = createMailTransport(settings, { env: {}, timeouts: options.timeouts });
      current = { key, transport };
    }
    return current.transport;
  };

  // The outbox holds one transport for its lifetime; this one follows configuration changes.
  const delegating: MailTransport = {
    async sendMail(message: nodemailer.SendMailOptions): Promise<SentInfo> {
      if (closed) throw Object.assign(new Error('mail service closed'), { code: 'ECLOSED' });
      const transport = await transportFor();
      return transport.sendMail(message);
    },
  };

  const outbox = createOutbox({
    store: services.store.outbox,
    transport: delegating,
    messageIdHost: mailHost(config.publicUrl),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.faultBackoff ? { faultBackoff: options.faultBackoff } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    instanceId: instanceIdOf(services),
  });
  runOutboxWorker(services, outbox, {
    name: 'mail outbox',
    health: 'mail',
    beforeStop: () => {
      closed = true;
    },
    onClose: async () => {
      current?.transport.close?.();
      current = undefined;
      if (catcherStart) await (await catcherStart.catch(() => undefined))?.close();
    },
  });
  return {
    outbox,
    configure(smtp) {
      configured = smtp;
    },
    async catcher() {
      if (config.mode !== 'demo' || envSettings || configured) return undefined;
      return startCatcher();
    },
    destination() {
      if (envSettings) return `${describeSmtp(envSettings)} (SMTP_URL)`;
      if (configured) return describeSmtp(configured);
      return config.mode === 'demo' ? 'demo mail catcher (/dev/mail)' : 'none';
    },
  };
}
