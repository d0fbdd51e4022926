import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHmac } from 'node:crypto';
import { safeEqual } from '../security/tokens';

/** The header an instance puts on a request it forwards to another instance: `<from-instance>.<epoch-ms>.<hmac>`. */
export const FORWARD_HEADER = 'x-idv-instance-forward';
/** A forwarded request older (or newer) than this is refused: a captured one cannot be replayed later. */
const MAX_SKEW_MS = 30_000;

/**
 * Authenticates calls between the instances of one installation with HMAC-SHA256 over the shared IDV_INSTANCE_SECRET
 * (every instance has the same one, from the environment): the MAC covers the sending instance, the time, the method
 * and the request target, so a visitor cannot make an instance believe a request came from another instance, and a
 * forwarded request cannot be pointed at another path. The secret and the MAC are never logged.
 */
export class InstanceLink {
  private readonly key: Buffer;

  constructor(
    secret: string,
    readonly instanceId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', 'idv-instance-link').update(secret).digest();
  }

  private mac(from: string, at: number, method: string, target: string): string {
    return createHmac('sha256', this.key).update(`${from}\n${at}\n${method.toUpperCase()}\n${target}`).digest('base64url');
  }

  /** The header value for forwarding `method target` (target: path and query, as in the request line). */
  sign(method: string, target: string): string {
    const at = this.now();
    return `${this.instanceId}.${at}.${this.mac(this.instanceId, at, method, target)}`;
  }

  /**
   * 'none' when the request carries no forward header, 'valid' when another instance of this installation signed
   * it within the allowed time, 'invalid' otherwise (forged, replayed late, or pointed elsewhere).
   */
  check(req: Pick<IncomingMessage, 'headers' | 'method' | 'url'>): 'none' | 'valid' | 'invalid' {
    const raw = req.headers[FORWARD_HEADER];
    if (raw === undefined) return 'none';
    if (typeof raw !== 'string' || raw.length > 200) return 'invalid';
    const m = /^([A-Za-z0-9_-]{1,64})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(raw);
    if (!m) return 'invalid';
    const at = Number(m[2]);
    if (Math.abs(this.now() - at) > MAX_SKEW_MS) return 'invalid';
    return safeEqual(m[3], this.mac(m[1], at, req.method ?? 'GET', req.url ?? '/')) ? 'valid' : 'invalid';
  }
}

/** Headers not passed on hop by hop (RFC 9110 7.6.1), plus our own forward header (we set a fresh one). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', FORWARD_HEADER]);

function forwardHeaders(req: IncomingMessage, link: InstanceLink, upgrade: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = 'websocket';
  } else if (req.headers['transfer-encoding']) out['transfer-encoding'] = req.headers['transfer-encoding'];
  out[FORWARD_HEADER] = link.sign(req.method ?? 'GET', req.url ?? '/');
  return out;
}

function requestTo(base: string, req: IncomingMessage, headers: http.OutgoingHttpHeaders): http.ClientRequest {
  const u = new URL(base);
  const mod = u.protocol === 'https:' ? https : http;
  return mod.request({ host: u.hostname, port: u.port || (u.protocol === 'https:' ? 443 : 80), method: req.method, path: req.url, headers, agent: false });
}

/** Why a forward did not reach the other instance: 'refused' means its process is gone (nothing listens there). */
export type ForwardFailure = 'refused' | 'unreachable';

function failureOf(e: NodeJS.ErrnoException): ForwardFailure {
  return e.code === 'ECONNREFUSED' ? 'refused' : 'unreachable';
}

/**
 * Passes a WebSocket upgrade on to another instance and joins the two sockets: the browser keeps talking to the
 * address it knows, its signaling reaches the room's owner. The owner's own answer (101, or a 401/403 refusal) goes
 * back as it is. `onFailure` is called when the other instance could not be reached before it answered; the client
 * socket is still open then, so the caller may handle the upgrade itself.
 */
export function forwardUpgrade(base: string, link: InstanceLink, req: IncomingMessage, socket: Duplex, head: Buffer, onFailure: (why: ForwardFailure) => void): void {
  const out = requestTo(base, req, forwardHeaders(req, link, true));
  out.setTimeout(5000, () => out.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  let answered = false;
  out.on('upgrade', (res, upstream, upHead) => {
    answered = true;
    out.setTimeout(0);
    const lines = [`HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}`];
    for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upHead.length) socket.write(upHead);
    if (head.length) upstream.write(head);
    upstream.setNoDelay?.(true);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  out.on('response', (res) => {
    answered = true;
    // A refusal by the owner (401, 403, 500): pass its status on, without its body.
    const status = res.statusCode ?? 502;
    res.resume();
    if (!socket.destroyed) {
      socket.end(`HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    }
  });
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (answered) return socket.destroy();
    answered = true;
    onFailure(failureOf(e));
  });
  out.end();
}

/**
 * Passes an HTTP request on to another instance and streams its answer back unchanged (status, headers, body). The
 * request body must not have been read yet. `onFailure` is called, before anything was sent to the client, when the
 * other instance could not be reached.
 */
export function forwardRequest(base: string, link: InstanceLink, req: IncomingMessage, res: http.ServerResponse, onFailure: (why: ForwardFailure) => void): void {
  const out = requestTo(base, req, forwardHeaders(req, link, false));
  out.setTimeout(30_000, () => out.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  let answered = false;
  out.on('response', (up) => {
    answered = true;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k) && v !== undefined) headers[k] = v;
    res.writeHead(up.statusCode ?? 502, headers);
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (answered) return res.destroy();
    answered = true;
    onFailure(failureOf(e));
  });
  req.pipe(out);
}
