import * as path from 'node:path';
import { UserError } from './errors';

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
  smtpUrl?: string;
  demoPassword?: string;
  /** Number of reverse proxies in front of us whose X-Forwarded-* headers we trust. */
  trustProxy: number;
  /** frame-ancestors for the embeddable booking form, e.g. "'self' https://www.gemeente.nl". */
  frameAncestors: string;
  /** Strict-Transport-Security max-age in seconds, sent only behind https (0: not sent). */
  hstsMaxAge: number;
  media: {
    workers?: number;
    listenIp: string;
    announcedIp?: string;
    rtcMinPort: number;
    rtcMaxPort: number;
    iceServers: unknown[];
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

/**
 * Reads the runtime configuration. Throws a UserError with every problem listed when the mode's requirements are not
 * met: production refuses to start without a public https URL, SMTP settings and a credential secret.
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
    if (!env.SMTP_URL) problems.push('SMTP_URL must be set in production (e.g. smtp://user:pass@mail.example.nl:587)');
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
  let media: RuntimeConfig['media'] | undefined;
  let trustProxy = 0;
  let hstsMaxAge = 0;
  try {
    trustProxy = intFrom(env, 'IDV_TRUST_PROXY', 0, 0, 10);
    databasePool = intFrom(env, 'IDV_DATABASE_POOL', 10, 1, 200);
    // One year by default (the usual preload minimum); two years at most.
    hstsMaxAge = intFrom(env, 'IDV_HSTS_MAX_AGE', 31_536_000, 0, 63_072_000);
    media = {
      workers: env.IDV_MEDIA_WORKERS ? intFrom(env, 'IDV_MEDIA_WORKERS', 1, 1, 64) : undefined,
      listenIp: env.IDV_MEDIA_LISTEN_IP || '127.0.0.1',
      announcedIp: env.IDV_MEDIA_ANNOUNCED_IP || undefined,
      rtcMinPort: intFrom(env, 'IDV_RTC_MIN_PORT', 40000, 1024, 65535),
      rtcMaxPort: intFrom(env, 'IDV_RTC_MAX_PORT', 49999, 1024, 65535),
      iceServers,
    };
    if (media.rtcMinPort > media.rtcMaxPort) problems.push('IDV_RTC_MIN_PORT must not exceed IDV_RTC_MAX_PORT');
  } catch (e) {
    problems.push((e as Error).message);
  }
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
    smtpUrl: env.SMTP_URL || undefined,
    demoPassword: mode === 'demo' ? env.IDV_DEMO_PASSWORD || undefined : undefined,
    trustProxy,
    frameAncestors: env.IDV_FRAME_ANCESTORS || "'self'",
    hstsMaxAge,
    media,
  };
}

/** True when cookies must carry Secure and the __Host- prefix. */
export function usesHttps(config: Pick<RuntimeConfig, 'publicUrl'>): boolean {
  return config.publicUrl.startsWith('https://');
}
