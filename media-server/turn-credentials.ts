import { createHmac, randomBytes } from 'node:crypto';
import type { IceServer } from './signaling';

/**
 * TURN with time-limited credentials (the "TURN REST API" scheme coturn implements as `use-auth-secret` /
 * `static-auth-secret`; draft-uberti-behave-turn-rest-00 §2.2): the username is `<expiry>:<id>` with expiry in Unix
 * seconds, the password is base64(HMAC-SHA1(secret, username)). coturn recomputes the password from the username
 * and refuses a username whose expiry has passed, so no user database and no call to coturn is needed per call.
 */
export interface TurnSettings {
  /** turn:/turns: URLs of one coturn (pool) sharing the secret, e.g. turn:turn.gemeente.nl:3478, turns:turn.gemeente.nl:443?transport=tcp. */
  urls: string[];
  /** The shared secret (coturn `static-auth-secret`). Never logged, never sent to a browser. */
  secret: string;
  /** Longest validity of one set of credentials, in seconds (default 12 h). */
  maxTtlSeconds?: number;
  /** Shortest validity, in seconds (default 30 min), so a call that starts at its appointment's end still gets some. */
  minTtlSeconds?: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which coturn refuses these credentials. */
  expiresAt: number;
}

const DEFAULT_MAX_TTL_S = 12 * 3600;
const DEFAULT_MIN_TTL_S = 30 * 60;
/** A call may run past its planned end: credentials stay good this long after it. */
const OVERRUN_S = 2 * 3600;

/** The REST-API password for a username: base64(HMAC-SHA1(secret, username)). */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * Credentials for one participant, valid for the call: until two hours after the appointment's planned end, at least
 * `minTtlSeconds`, at most `maxTtlSeconds` from now. `id` is opaque (random per connection): coturn logs usernames,
 * so nothing that names a person or an appointment goes in it.
 */
export function issueTurnCredentials(settings: TurnSettings, id: string, endsAt?: string, nowMs = Date.now()): TurnCredentials {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error('TURN credential id must be 1-64 characters [A-Za-z0-9_-]');
  const now = Math.floor(nowMs / 1000);
  const maxTtl = settings.maxTtlSeconds ?? DEFAULT_MAX_TTL_S;
  const minTtl = Math.min(settings.minTtlSeconds ?? DEFAULT_MIN_TTL_S, maxTtl);
  const end = endsAt ? Math.floor(Date.parse(endsAt) / 1000) : NaN;
  const wanted = Number.isFinite(end) ? end + OVERRUN_S : now + maxTtl;
  const expiresAt = Math.min(now + maxTtl, Math.max(now + minTtl, wanted));
  const username = `${expiresAt}:${id}`;
  return { username, credential: turnPassword(settings.secret, username), expiresAt };
}

/** A fresh opaque id for one signaling connection's credentials. */
export function newTurnId(): string {
  return randomBytes(9).toString('base64url');
}

const TURN_URL = /^turns?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/;

/** Checks TURN settings; throws an Error naming what is wrong (never echoing the secret). */
export function checkTurnSettings(s: TurnSettings): TurnSettings {
  if (!Array.isArray(s.urls) || s.urls.length === 0) throw new Error('TURN needs at least one turn: or turns: URL');
  for (const u of s.urls) {
    if (typeof u !== 'string' || !TURN_URL.test(u)) throw new Error(`not a TURN URL: "${String(u).slice(0, 100)}" (e.g. turn:turn.gemeente.nl:3478 or turns:turn.gemeente.nl:443?transport=tcp)`);
  }
  if (typeof s.secret !== 'string' || s.secret.length < 16) throw new Error('the TURN secret must be at least 16 characters');
  for (const k of ['maxTtlSeconds', 'minTtlSeconds'] as const) {
    const v = s[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 7 * 86400)) throw new Error(`TURN ${k} must be 1..604800`);
  }
  return { ...s, urls: orderTurnUrls(s.urls) };
}

function rank(url: string): number {
  if (url.startsWith('turns:')) return 2;
  return /\?transport=tcp$/.test(url) ? 1 : 0;
}

/**
 * TURN/UDP first, then TURN/TCP, then TURNS (TLS, usually on 443): the order browsers should try relays in. Browsers
 * rank candidates themselves (host UDP > host TCP to the media server > relay UDP > relay TCP > relay TLS, RFC 8445
 * §5.1.2 type preferences as libwebrtc and Firefox apply them); the list order only decides which server is asked first.
 */
export function orderTurnUrls(urls: string[]): string[] {
  return [...urls].sort((a, b) => rank(a) - rank(b));
}

/** The RTCIceServer entry for one participant. */
export function turnIceServer(settings: TurnSettings, id: string, endsAt?: string): IceServer {
  const c = issueTurnCredentials(settings, id, endsAt);
  return { urls: settings.urls, username: c.username, credential: c.credential };
}
