import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

/** SMTP settings as the idv-settings config node holds them. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** true = TLS from the start (465); false = STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  pass?: string;
  /** Refuse servers whose certificate does not verify (default true; false only for a test relay). */
  rejectUnauthorized?: boolean;
  /** Refuse to send without STARTTLS on a non-secure connection (default false). */
  requireTls?: boolean;
}

export interface TransportTimeouts {
  /** Time to set up the TCP (and TLS) connection; default 10 s. */
  connectionTimeoutMs?: number;
  /** Time to wait for the server's greeting; default 10 s. */
  greetingTimeoutMs?: number;
  /** Inactivity on an open connection; default 20 s. */
  socketTimeoutMs?: number;
}

/** What the outbox reads of a send's result (pooled and plain nodemailer transports both give it). */
export type SentInfo = Pick<SMTPTransport.SentMessageInfo, 'messageId' | 'accepted' | 'rejected'>;

/** What the outbox needs from a transport (a nodemailer Transporter fits). */
export interface MailTransport {
  sendMail(message: nodemailer.SendMailOptions): Promise<SentInfo>;
  close?(): void;
}

function checkPort(port: unknown): number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw new Error('SMTP port must be 1-65535');
  return port as number;
}

function checkHost(host: unknown): string {
  if (typeof host !== 'string' || !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) throw new Error('SMTP host is missing or not a host name');
  return host;
}

/**
 * Parses SMTP_URL: smtp://user:pass@host:port or smtps://… (user and pass URL-encoded). Query options:
 * rejectUnauthorized=false, requireTls=true. Errors never echo the URL, which may hold a password.
 */
export function parseSmtpUrl(value: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('SMTP_URL is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const secure = url.protocol === 'smtps:';
  const host = checkHost(url.hostname);
  const port = url.port ? checkPort(Number(url.port)) : secure ? 465 : 587;
  let user: string | undefined;
  let pass: string | undefined;
  try {
    user = url.username ? decodeURIComponent(url.username) : undefined;
    pass = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    throw new Error('SMTP_URL has a badly encoded user or password');
  }
  const reject = url.searchParams.get('rejectUnauthorized');
  const requireTls = url.searchParams.get('requireTls');
  return {
    host,
    port,
    secure,
    user,
    pass,
    rejectUnauthorized: reject === null ? true : reject !== 'false',
    requireTls: requireTls === 'true',
  };
}

/** The effective settings: SMTP_URL from the environment wins over the configured settings. */
export function resolveSmtpSettings(settings: SmtpSettings | undefined, env: NodeJS.ProcessEnv = process.env): SmtpSettings {
  const fromEnv = env.SMTP_URL?.trim();
  if (fromEnv) return parseSmtpUrl(fromEnv);
  if (!settings) throw new Error('no SMTP settings and no SMTP_URL');
  return {
    host: checkHost(settings.host),
    port: checkPort(settings.port),
    secure: settings.secure === true,
    user: settings.user || undefined,
    pass: settings.pass || undefined,
    rejectUnauthorized: settings.rejectUnauthorized !== false,
    requireTls: settings.requireTls === true,
  };
}

function checkTimeout(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > 600_000) throw new Error(`${name} must be 1-600000 ms`);
  return v;
}

/**
 * Nodemailer options for the settings: no logging (mails hold personal data), short timeouts, and one pooled
 * connection reused for up to 100 mails. The outbox sends one mail at a time; reusing the connection sends a backlog
 * (after a restart, after the server was away) two to three times faster than a new connection per mail
 * (scripts/bench/outbox.ts), and it is what mail relays prefer.
 */
export function transportOptions(settings: SmtpSettings, timeouts: TransportTimeouts = {}): SMTPPool.Options {
  return {
    pool: true,
    maxConnections: 1,
    maxMessages: 100,
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTls === true,
    auth: settings.user ? { user: settings.user, pass: settings.pass ?? '' } : undefined,
    tls: { rejectUnauthorized: settings.rejectUnauthorized !== false, minVersion: 'TLSv1.2' },
    connectionTimeout: checkTimeout(timeouts.connectionTimeoutMs, 10_000, 'connectionTimeoutMs'),
    greetingTimeout: checkTimeout(timeouts.greetingTimeoutMs, 10_000, 'greetingTimeoutMs'),
    socketTimeout: checkTimeout(timeouts.socketTimeoutMs, 20_000, 'socketTimeoutMs'),
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * Defaults for every message we send. Quoted-printable also selects RFC 2047 "Q" encoded words for the headers: in
 * nodemailer 7 the "B" encoder it otherwise picks for mostly non-Latin text splits a long name between encoded words
 * inside a surrogate pair unless the character is an emoji (U+20BB7 𠮷 or 𝔄 arrive as two U+FFFD), while its Q
 * encoder splits only between whole UTF-8 sequences. test/unit/mail/header-roundtrip.test.ts sends a corpus of
 * names through the real SMTP path and compares what the server parsed.
 */
export const MESSAGE_DEFAULTS = { textEncoding: 'quoted-printable' } as const;

/** A nodemailer SMTP transport from settings or SMTP_URL. */
export function createMailTransport(
  settings: SmtpSettings | undefined,
  options: { env?: NodeJS.ProcessEnv; timeouts?: TransportTimeouts } = {},
): MailTransport {
  const resolved = resolveSmtpSettings(settings, options.env);
  const pool = nodemailer.createTransport(transportOptions(resolved, options.timeouts), MESSAGE_DEFAULTS);
  return { sendMail: (message) => pool.sendMail(message), close: () => pool.close() };
}

/** A loggable description of where mail goes, without user or password. */
export function describeSmtp(settings: SmtpSettings): string {
  return `${settings.secure ? 'smtps' : 'smtp'}://${settings.host}:${settings.port}`;
}
