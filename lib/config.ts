import * as path from 'node:path';
import { UserError } from './errors';
import { checkTurnSettings, DEFAULT_RTC_MAX_PORT, DEFAULT_RTC_MIN_PORT, type TurnSettings } from '../media-server';
import { staffSignInFromEnv, type StaffSignInConfig } from './staff/sso-config';

export type Mode = 'demo' | 'production';

/** Everything the runtime takes from the environment. Flows hold the rest (idv-settings, idv-schedule). */
export interface RuntimeConfig {
  mode: Mode;
  dataDir: string;
  port: number;
  host: string;
  /** Public base URL as residents reach it, without trailing slash (e.g. https://video.gemeente.nl). */
  publicUrl: string;
  /** True when IDV_PUBLIC_URL set it: then it wins over the idv-settings node's public URL. */
  publicUrlFromEnv: boolean;
  credentialSecret?: string;
  /** postgres://… (IDV_DATABASE_URL): PostgreSQL for every repository; unset: SQLite in dataDir. */
  databaseUrl?: string;
  /** PostgreSQL connections per instance (IDV_DATABASE_POOL, default 10). */
  databasePool: number;
  /** Seconds a SIGTERM'd instance keeps serving its calls, not ready, before it stops (IDV_DRAIN_SECONDS, default 0). */
  drainSeconds?: number;
  /**
   * Several instances on one PostgreSQL database: this instance's address for the other instances (IDV_INSTANCE_URL,
   * default http://<host>:<port> it listens on), the shared secret of their instance-to-instance calls
   * (IDV_INSTANCE_SECRET, ≥ 32 characters; without it each instance keeps its rooms to itself, as one instance does),
   * and how long a room's ownership outlives its owner's last heartbeat (IDV_ROOM_LEASE_SECONDS, default 10).
   */
  instances?: { url?: string; secret?: string; leaseSeconds: number };
  smtpUrl?: string;
  demoPassword?: string;
  /** Number of reverse proxies in front of us whose X-Forwarded-* headers we trust. */
  trustProxy: number;
  /** frame-ancestors for the embeddable booking form, e.g. "'self' https://www.gemeente.nl". */
  frameAncestors: string;
  /** Strict-Transport-Security max-age in seconds, sent only behind https (0: not sent). */
  hstsMaxAge: number;
  /**
   * Days after an appointment's end that the resident's name, e-mail, phone and remarks are kept (IDV_RETENTION_DAYS,
   * default 30, 0 = erased right after the appointment; lib/retention).
   */
  retentionDays: number;
  /** How staff sign in: local accounts and/or the gemeente's OpenID provider (lib/staff/sso-config.ts). */
  staff: StaffSignInConfig;
  media: {
    workers?: number;
    /** Unset: the first non-loopback interface address (media-server/listen-address.ts explains why). */
    listenIp?: string;
    announcedIp?: string;
    rtcMinPort: number;
    rtcMaxPort: number;
    iceServers: unknown[];
    /** TURN URLs and the shared secret (IDV_TURN_URLS, IDV_TURN_SECRET). */
    turn?: TurnSettings;
  };
}

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new UserError(400, 'config', `${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UserError(400, 'config', `${name} must be between ${min} and ${max}`);
  return n;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why SMTP_URL would send the relay's password and every mail (residents' names, personal links) where others can
 * read it, or undefined when it is safe: `smtps://` (TLS from the start) or `smtp://…?requireTls=true` (STARTTLS or no
 * mail), with the relay's certificate checked; plain SMTP only to a relay on this machine (loopback). Never echoes
 * the URL, which holds the password. Production refuses the rest unless IDV_SMTP_ALLOW_INSECURE=1.
 */
export function smtpTransportProblem(smtpUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(smtpUrl);
  } catch {
    return 'SMTP_URL is not a valid URL';
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') return 'SMTP_URL must start with smtps:// or smtp://';
  const allow = ' (or set IDV_SMTP_ALLOW_INSECURE=1 to accept the risk)';
  if (u.searchParams.get('rejectUnauthorized') === 'false') {
    return `SMTP_URL turns off the check of the relay's certificate (rejectUnauthorized=false): anyone in between can read the password and the mail; trust an internal CA with NODE_EXTRA_CA_CERTS instead${allow}`;
  }
  if (u.protocol === 'smtp:' && u.searchParams.get('requireTls') !== 'true' && !LOOPBACK_HOSTS.has(u.hostname)) {
    return `SMTP_URL sends the password and the mail without TLS when the relay offers no STARTTLS: use smtps://…:465 or add ?requireTls=true${allow}`;
  }
  return undefined;
}

/**
 * Reads the runtime configuration. Throws a UserError with every problem listed when the mode's requirements are not
 * met: production refuses to start without a public https URL, SMTP settings that use TLS and a credential secret.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): RuntimeConfig {
  const mode = (env.IDV_MODE || 'demo') as Mode;
  if (mode !== 'demo' && mode !== 'production') {
    throw new UserError(400, 'config', `IDV_MODE must be "demo" or "production", got "${env.IDV_MODE}"`);
  }
  const port = intFrom(env, 'PORT', 1880, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const publicUrl = (env.IDV_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  const problems: string[] = [];
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push('IDV_PUBLIC_URL must be an http(s) URL');
  } catch {
    problems.push(`IDV_PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  if (mode === 'production') {
    if (!env.IDV_PUBLIC_URL || !publicUrl.startsWith('https://')) {
      problems.push('IDV_PUBLIC_URL must be set to the public https:// address in production');
    }
    if (!env.SMTP_URL) problems.push('SMTP_URL must be set in production (e.g. smtps://user:pass@mail.example.nl:465)');
    else {
      const smtp = smtpTransportProblem(env.SMTP_URL);
      if (smtp && env.IDV_SMTP_ALLOW_INSECURE !== '1') problems.push(smtp);
    }
    if (!env.IDV_CREDENTIAL_SECRET || env.IDV_CREDENTIAL_SECRET.length < 32) {
      problems.push('IDV_CREDENTIAL_SECRET must be set to a random secret of at least 32 characters in production');
    }
  }
  let iceServers: unknown[] = [];
  if (env.IDV_ICE_SERVERS) {
    try {
      const parsed: unknown = JSON.parse(env.IDV_ICE_SERVERS);
      if (!Array.isArray(parsed)) throw new Error('not an array');
      iceServers = parsed;
    } catch {
      problems.push('IDV_ICE_SERVERS must be a JSON array of RTCIceServer objects');
    }
  }
  const databaseUrl = env.IDV_DATABASE_URL || undefined;
  if (databaseUrl) {
    let ok = false;
    try {
      ok = /^postgres(?:ql)?:$/.test(new URL(databaseUrl).protocol);
    } catch {
      ok = false;
    }
    // Never echo the value: it holds the database password.
    if (!ok) problems.push('IDV_DATABASE_URL must be a postgres:// or postgresql:// URL (e.g. postgres://idvideo:…@db.gemeente.nl:5432/idvideo)');
  }
  let databasePool = 10;
  let turn: TurnSettings | undefined;
  const turnUrls = (env.IDV_TURN_URLS ?? '').split(/[\s,]+/).filter(Boolean);
  if (turnUrls.length || env.IDV_TURN_SECRET) {
    if (!turnUrls.length) problems.push('IDV_TURN_SECRET is set but IDV_TURN_URLS is not (e.g. "turn:turn.gemeente.nl:3478,turns:turn.gemeente.nl:443?transport=tcp")');
    else if (!env.IDV_TURN_SECRET) problems.push('IDV_TURN_URLS is set but IDV_TURN_SECRET (coturn\'s static-auth-secret) is not');
    else {
      try {
        turn = checkTurnSettings({ urls: turnUrls, secret: env.IDV_TURN_SECRET });
      } catch (e) {
        problems.push(`IDV_TURN_URLS/IDV_TURN_SECRET: ${(e as Error).message}`);
      }
    }
  }
  let media: RuntimeConfig['media'] | undefined;
  let trustProxy = 0;
  let hstsMaxAge = 0;
  let drainSeconds = 0;
  let leaseSeconds = 10;
  const instanceUrl = env.IDV_INSTANCE_URL ? env.IDV_INSTANCE_URL.replace(/\/+$/, '') : undefined;
  if (instanceUrl && !/^https?:\/\/[^/?#]+$/.test(instanceUrl)) problems.push('IDV_INSTANCE_URL must be http(s)://host:port of this instance as the other instances reach it (no path)');
  const instanceSecret = env.IDV_INSTANCE_SECRET || undefined;
  if (instanceSecret !== undefined && instanceSecret.length < 32) problems.push('IDV_INSTANCE_SECRET must be a random secret of at least 32 characters, the same on every instance');
  if (instanceSecret && !databaseUrl) problems.push('IDV_INSTANCE_SECRET only means something with IDV_DATABASE_URL (several instances share one PostgreSQL database)');
  try {
    drainSeconds = intFrom(env, 'IDV_DRAIN_SECONDS', 0, 0, 3600);
    leaseSeconds = intFrom(env, 'IDV_ROOM_LEASE_SECONDS', 10, 2, 300);
    trustProxy = intFrom(env, 'IDV_TRUST_PROXY', 0, 0, 10);
    databasePool = intFrom(env, 'IDV_DATABASE_POOL', 10, 1, 200);
    // One year by default (the usual preload minimum); two years at most.
    hstsMaxAge = intFrom(env, 'IDV_HSTS_MAX_AGE', 31_536_000, 0, 63_072_000);
    media = {
      workers: env.IDV_MEDIA_WORKERS ? intFrom(env, 'IDV_MEDIA_WORKERS', 1, 1, 64) : undefined,
      listenIp: env.IDV_MEDIA_LISTEN_IP || undefined,
      announcedIp: env.IDV_MEDIA_ANNOUNCED_IP || undefined,
      rtcMinPort: intFrom(env, 'IDV_RTC_MIN_PORT', DEFAULT_RTC_MIN_PORT, 1024, 65535),
      rtcMaxPort: intFrom(env, 'IDV_RTC_MAX_PORT', DEFAULT_RTC_MAX_PORT, 1024, 65535),
      iceServers,
      turn,
    };
    if (media.rtcMinPort > media.rtcMaxPort) problems.push('IDV_RTC_MIN_PORT must not exceed IDV_RTC_MAX_PORT');
  } catch (e) {
    problems.push((e as Error).message);
  }
  // An http issuer only on loopback and only in demo mode (tests, a local try-out).
  const staff = staffSignInFromEnv(env, mode === 'demo');
  problems.push(...staff.problems);
  if (problems.length || !media) {
    throw new UserError(400, 'config', `ID Video cannot start (${mode} mode):\n  - ${problems.join('\n  - ')}`);
  }
  return {
    mode,
    dataDir: path.resolve(cwd, env.IDV_DATA_DIR || 'data'),
    port,
    host,
    publicUrl,
    publicUrlFromEnv: !!env.IDV_PUBLIC_URL,
    credentialSecret: env.IDV_CREDENTIAL_SECRET || undefined,
    ...(databaseUrl ? { databaseUrl } : {}),
    databasePool,
    drainSeconds,
    instances: { ...(instanceUrl ? { url: instanceUrl } : {}), ...(instanceSecret ? { secret: instanceSecret } : {}), leaseSeconds },
    smtpUrl: env.SMTP_URL || undefined,
    demoPassword: mode === 'demo' ? env.IDV_DEMO_PASSWORD || undefined : undefined,
    trustProxy,
    frameAncestors: env.IDV_FRAME_ANCESTORS || "'self'",
    hstsMaxAge,
    retentionDays: intFrom(env, 'IDV_RETENTION_DAYS', 30, 0, 3650),
    staff: staff.config,
    media,
  };
}

/** True when cookies must carry Secure and the __Host- prefix. */
export function usesHttps(config: Pick<RuntimeConfig, 'publicUrl'>): boolean {
  return config.publicUrl.startsWith('https://');
}
