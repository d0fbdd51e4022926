import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { isIP } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { issueTurnCredentials } from './turn-credentials';

/**
 * Asks a TURN server for a relay allocation with credentials made from our shared secret, to find a wrong secret at
 * start instead of in a resident's silent call. One Allocate without credentials (the server answers 401 with realm
 * and nonce), one with long-term credentials (RFC 8489 §9.2: key = MD5(username ":" realm ":" password),
 * MESSAGE-INTEGRITY = HMAC-SHA1 over the message), then a Refresh with lifetime 0 to give the relay back (RFC 8656 §7).
 * Over UDP (turn:…), TCP (turn:…?transport=tcp) or TLS (turns:…, certificate checked as a browser would).
 */
export interface TurnProbeResult {
  url: string;
  /**
   * ok: the server accepted our credentials. rejected: it refused them (the secret differs from coturn's
   * static-auth-secret, or the clocks differ by more than the credentials' lifetime). unreachable: no answer in time.
   * tls: the TLS handshake failed (certificate not trusted or not for this name). protocol: something else answered.
   */
  outcome: 'ok' | 'rejected' | 'unreachable' | 'tls' | 'protocol';
  detail: string;
}

export interface TurnProbeOptions {
  url: string;
  secret: string;
  timeoutMs?: number;
  /** Extra trust for turns: (a test CA); production relies on the system's roots. */
  ca?: string | Buffer;
}

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003;
const REFRESH = 0x0004;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, LIFETIME: 0x000d, REALM: 0x0014, NONCE: 0x0015, REQUESTED_TRANSPORT: 0x0019 };

interface StunReply {
  success: boolean;
  code?: number;
  reason?: string;
  realm?: string;
  nonce?: string;
}

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad)]);
}

function message(type: number, txid: Buffer, attrs: Buffer[], key?: Buffer): Buffer {
  const body = Buffer.concat(attrs);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length + (key ? 24 : 0), 2);
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  if (!key) return Buffer.concat([header, body]);
  const mac = createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
  return Buffer.concat([header, body, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
}

function parse(buf: Buffer, txid: Buffer): StunReply | undefined {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC || !buf.subarray(8, 20).equals(txid)) return undefined;
  const type = buf.readUInt16BE(0);
  const reply: StunReply = { success: (type & 0x0110) === 0x0100 };
  const end = Math.min(buf.length, 20 + buf.readUInt16BE(2));
  for (let off = 20; off + 4 <= end; ) {
    const t = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    const v = buf.subarray(off + 4, off + 4 + len);
    if (t === ATTR.ERROR_CODE && len >= 4) {
      reply.code = (v[2] & 7) * 100 + v[3];
      reply.reason = v.subarray(4).toString('utf8');
    } else if (t === ATTR.REALM) reply.realm = v.toString('utf8');
    else if (t === ATTR.NONCE) reply.nonce = v.toString('utf8');
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  return reply;
}

interface Channel {
  /** Sends and resolves with the reply to this transaction, or rejects on timeout/close. */
  transact(type: number, attrs: Buffer[], key?: Buffer): Promise<StunReply>;
  close(): void;
}

function parseUrl(url: string): { host: string; port: number; transport: 'udp' | 'tcp' | 'tls' } {
  const m = /^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
  if (!m) throw new Error(`not a TURN URL: ${url}`);
  const secure = m[1] === 'turns';
  const host = m[2].replace(/^\[|\]$/g, '');
  return { host, port: m[3] ? Number(m[3]) : secure ? 5349 : 3478, transport: secure ? 'tls' : m[4] === 'tcp' ? 'tcp' : 'udp' };
}

function udpChannel(host: string, port: number, timeoutMs: number): Promise<Channel> {
  const socket = dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const waiters = new Map<string, (r: StunReply) => void>();
  socket.on('message', (buf) => {
    if (buf.length < 20) return;
    const key = buf.subarray(8, 20).toString('hex');
    const r = parse(buf, buf.subarray(8, 20));
    if (r) waiters.get(key)?.(r);
  });
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      resolve({
        transact: (type, attrs, key) =>
          new Promise((res, rej) => {
            const txid = randomBytes(12);
            const msg = message(type, txid, attrs, key);
            // UDP loses packets: retransmit until the deadline (RFC 8489 §6.2.1, simplified to a fixed interval).
            const send = () => socket.send(msg, () => undefined);
            const resend = setInterval(send, 500);
            const timer = setTimeout(() => {
              clearInterval(resend);
              waiters.delete(txid.toString('hex'));
              rej(new Error('timeout'));
            }, timeoutMs);
            waiters.set(txid.toString('hex'), (r) => {
              clearInterval(resend);
              clearTimeout(timer);
              waiters.delete(txid.toString('hex'));
              res(r);
            });
            send();
          }),
        close: () => socket.close(),
      });
    });
  });
}

function streamChannel(stream: net.Socket, timeoutMs: number): Channel {
  let buffered = Buffer.alloc(0);
  let waiter: ((r: StunReply | undefined) => void) | undefined;
  let txid = Buffer.alloc(12);
  stream.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    // Stream transports carry STUN messages back to back (RFC 8489 §6.2.2): the header says how long each is.
    while (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2)) {
      const len = 20 + buffered.readUInt16BE(2);
      const r = parse(buffered.subarray(0, len), txid);
      buffered = buffered.subarray(len);
      if (r) waiter?.(r);
    }
  });
  stream.on('close', () => waiter?.(undefined));
  stream.on('error', () => undefined);
  return {
    transact: (type, attrs, key) =>
      new Promise((res, rej) => {
        txid = randomBytes(12);
        const timer = setTimeout(() => rej(new Error('timeout')), timeoutMs);
        waiter = (r) => {
          clearTimeout(timer);
          waiter = undefined;
          if (r) res(r);
          else rej(new Error('connection closed'));
        };
        stream.write(message(type, txid, attrs, key));
      }),
    close: () => stream.destroy(),
  };
}

function connectStream(host: string, port: number, secure: boolean, timeoutMs: number, ca?: string | Buffer): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket = secure
      ? tls.connect({ host, port, servername: isIP(host) ? undefined : host, ca: ca ? [...tls.rootCertificates, ca.toString()] : undefined, ALPNProtocols: ['stun.turn'] })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(streamChannel(socket, timeoutMs));
    });
  });
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS|ALTNAME|SSL/i;

/** Probes one TURN URL (see the interface above). Never throws; never puts the secret or the password in `detail`. */
export async function probeTurn(o: TurnProbeOptions): Promise<TurnProbeResult> {
  const timeoutMs = o.timeoutMs ?? 3000;
  let target: ReturnType<typeof parseUrl>;
  try {
    target = parseUrl(o.url);
  } catch (e) {
    return { url: o.url, outcome: 'protocol', detail: (e as Error).message };
  }
  let channel: Channel;
  try {
    channel =
      target.transport === 'udp'
        ? await udpChannel(target.host, target.port, timeoutMs)
        : await connectStream(target.host, target.port, target.transport === 'tls', timeoutMs, o.ca);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (target.transport === 'tls' && TLS_CODES.test(`${err.code ?? ''} ${err.message}`)) {
      return { url: o.url, outcome: 'tls', detail: `TLS handshake failed: ${err.message}` };
    }
    return { url: o.url, outcome: 'unreachable', detail: err.message === 'timeout' ? `no answer within ${timeoutMs} ms` : err.message };
  }
  const transport = attr(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  try {
    const first = await channel.transact(ALLOCATE, [transport]);
    if (first.success) return { url: o.url, outcome: 'ok', detail: 'allocation granted without credentials (server does not authenticate)' };
    if (first.code !== 401 || first.realm === undefined || first.nonce === undefined) {
      return { url: o.url, outcome: 'protocol', detail: `unexpected answer ${first.code ?? '?'} ${first.reason ?? ''}`.trim() };
    }
    const { username, credential } = issueTurnCredentials({ urls: [o.url], secret: o.secret, maxTtlSeconds: 600, minTtlSeconds: 600 }, 'idv-probe');
    const key = createHash('md5').update(`${username}:${first.realm}:${credential}`).digest();
    let nonce = first.nonce;
    const auth = (): Buffer[] => [
      attr(ATTR.USERNAME, Buffer.from(username)),
      attr(ATTR.REALM, Buffer.from(first.realm ?? '')),
      attr(ATTR.NONCE, Buffer.from(nonce)),
    ];
    let second = await channel.transact(ALLOCATE, [transport, ...auth()], key);
    if (!second.success && second.code === 438 && second.nonce) {
      nonce = second.nonce; // stale nonce: once more with the new one
      second = await channel.transact(ALLOCATE, [transport, ...auth()], key);
    }
    if (second.success) {
      await channel.transact(REFRESH, [attr(ATTR.LIFETIME, Buffer.from([0, 0, 0, 0])), ...auth()], key).catch(() => undefined);
      return { url: o.url, outcome: 'ok', detail: 'credentials accepted' };
    }
    if (second.code === 401) {
      return { url: o.url, outcome: 'rejected', detail: 'the TURN server refuses credentials made with our secret (401)' };
    }
    // 437/486/508: authentication passed, the server is merely busy or holds an older allocation.
    if (second.code === 437 || second.code === 486 || second.code === 508) return { url: o.url, outcome: 'ok', detail: `credentials accepted (${second.code})` };
    return { url: o.url, outcome: 'protocol', detail: `unexpected answer ${second.code ?? '?'} ${second.reason ?? ''}`.trim() };
  } catch (e) {
    return { url: o.url, outcome: 'unreachable', detail: (e as Error).message === 'timeout' ? `no answer within ${timeoutMs} ms` : (e as Error).message };
  } finally {
    channel.close();
  }
}
