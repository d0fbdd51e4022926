import * as http from 'node:http';
import * as https from 'node:https';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubMessage } from '../realtime/agent-hub';
import { FORWARD_HEADER, type InstanceLink } from '../runtime/instance-link';
import type { InstanceRef } from '../call/room-directory-store';
import { safeEqual } from '../security/tokens';

/** Where an instance takes a push for its agents' dashboards from another instance (internal, signed, never public). */
export const RELAY_PATH = '/_idv/instance/agent-push';
const MAX_BYTES = 16 * 1024;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

const digest = (body: string): string => createHash('sha256').update(body).digest('base64url');

/**
 * Sends a push for one agent's dashboards straight to the other live instances over the instance link, for messages
 * that must not pass through the database: chat text (PostgreSQL may spill NOTIFY's queue to disk). The target names
 * the body's SHA-256, and the link's HMAC covers the target, so a receiver accepts exactly the body that was signed.
 * Best effort, like the local push: an instance that does not answer within 5 s is skipped (its dashboards load the
 * chat when the agent opens it). Resolves when every peer answered or gave up; never rejects.
 */
export async function relayToPeers(link: InstanceLink, peers: readonly InstanceRef[], username: string, message: HubMessage): Promise<number> {
  const body = JSON.stringify({ username, message });
  const target = `${RELAY_PATH}?sha256=${digest(body)}`;
  const sent = await Promise.all(
    peers
      .filter((p) => p.instanceId !== link.instanceId)
      .map(
        (peer) =>
          new Promise<boolean>((resolve) => {
            const u = new URL(peer.url);
            const mod = u.protocol === 'https:' ? https : http;
            const req = mod.request(
              {
                host: u.hostname,
                port: u.port || (u.protocol === 'https:' ? 443 : 80),
                method: 'POST',
                path: target,
                agent: false,
                headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [FORWARD_HEADER]: link.sign('POST', target) },
              },
              (res) => {
                res.resume();
                resolve(res.statusCode === 204);
              },
            );
            req.setTimeout(5000, () => req.destroy());
            req.on('error', () => resolve(false));
            req.end(body);
          }),
      ),
  );
  return sent.filter(Boolean).length;
}

/**
 * Takes a relayed push (POST RELAY_PATH from another instance): only with a valid instance-link header and the body
 * the header's target names; then hands it to this instance's hub for that agent. 404 for anyone else (the path is
 * not part of the public site), 400 for a body that does not match.
 */
export function acceptRelay(req: IncomingMessage, res: ServerResponse, link: InstanceLink, publish: (username: string, message: HubMessage) => void): void {
  const reply = (status: number) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(status === 204 ? undefined : JSON.stringify({ error: status === 404 ? 'not_found' : 'bad_request' }));
  };
  if (req.method !== 'POST' || link.check(req) !== 'valid') return reply(404);
  const want = new URL(req.url ?? '/', 'http://x').searchParams.get('sha256') ?? '';
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BYTES) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!safeEqual(digest(body), want)) return reply(400);
    let m: { username?: unknown; message?: { type?: unknown } };
    try {
      m = JSON.parse(body) as typeof m;
    } catch {
      return reply(400);
    }
    if (typeof m.username !== 'string' || !USERNAME.test(m.username) || typeof m.message?.type !== 'string') return reply(400);
    publish(m.username, m.message as HubMessage);
    reply(204);
  });
  req.on('error', () => res.destroy());
}
