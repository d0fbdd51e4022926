import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Demo-mode mail catcher: a real SMTP server on loopback that keeps the last mails in memory so /dev/mail can show
 * them. Demo only: it accepts any sender, recipient and login, and holds what it catches (personal data) in memory.
 */

export interface CaughtMailSummary {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  date?: string;
}

export interface CaughtMail extends CaughtMailSummary {
  messageId?: string;
  text: string;
  html?: string;
  attachments: { filename?: string; contentType: string; size: number }[];
  /** The text/calendar part (invite), if the mail carried one. */
  calendar?: string;
}

export interface MailCatcher {
  readonly port: number;
  /** Newest first. */
  list(): CaughtMailSummary[];
  get(id: string): CaughtMail | undefined;
  clear(): void;
  close(): Promise<void>;
}

export interface CatcherOptions {
  /** 0 = ephemeral (tests). */
  port?: number;
  /** Loopback only, by design. */
  host?: '127.0.0.1' | '::1' | 'localhost';
  /** Mails kept (default 200). */
  max?: number;
  /** Largest mail accepted in bytes (default 10 MB). */
  maxBytes?: number;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '').filter((s) => s !== ''));
}

export async function startMailCatcher(options: CatcherOptions = {}): Promise<MailCatcher> {
  const max = options.max ?? 200;
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  if (!Number.isInteger(max) || max < 1 || max > 10_000) throw new Error('max must be 1-10000');
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new Error('the mail catcher listens on loopback only');
  const mails: CaughtMail[] = [];

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    size: maxBytes,
    logger: false,
    closeTimeout: 1000,
    banner: 'ID Video demo mail catcher',
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'demo' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (size > maxBytes || (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          const err = Object.assign(new Error('Message too big'), { responseCode: 552 });
          callback(err);
          return;
        }
        simpleParser(Buffer.concat(chunks))
          .then((parsed) => {
            const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
            const mail: CaughtMail = {
              id: randomUUID(),
              receivedAt: new Date().toISOString(),
              from: addresses(parsed.from)[0] ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
              to: envelopeTo.length > 0 ? envelopeTo : addresses(parsed.to),
              subject: parsed.subject ?? '',
              ...(parsed.date ? { date: parsed.date.toISOString() } : {}),
              ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
              text: parsed.text ?? '',
              ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
              attachments: parsed.attachments.map((a) => ({
                ...(a.filename ? { filename: a.filename } : {}),
                contentType: a.contentType,
                size: a.size,
              })),
            };
            const calendar = parsed.attachments.find((a) => a.contentType === 'text/calendar');
            if (calendar) mail.calendar = calendar.content.toString('utf8');
            mails.unshift(mail);
            if (mails.length > max) mails.length = max;
            callback();
          })
          .catch(() => callback(Object.assign(new Error('Message could not be parsed'), { responseCode: 554 })));
      });
    },
  });
  server.on('error', () => {
    // Per-connection errors (a client hanging up) are not the catcher's problem; listen errors reject below.
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  const summary = (m: CaughtMail): CaughtMailSummary => ({
    id: m.id,
    receivedAt: m.receivedAt,
    from: m.from,
    to: m.to,
    subject: m.subject,
    ...(m.date ? { date: m.date } : {}),
  });

  return {
    port,
    list: () => mails.map(summary),
    get: (id) => mails.find((m) => m.id === id),
    clear: () => {
      mails.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        mails.length = 0;
        server.close(() => resolve());
      }),
  };
}
