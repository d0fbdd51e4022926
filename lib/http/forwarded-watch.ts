import type { RequestHandler } from 'express';

/**
 * Watches how client addresses reach us, because every rate limit counts by the client's address (lib/http/rate-limit)
 * and express only believes `X-Forwarded-For` for the number of proxies in IDV_TRUST_PROXY:
 *
 * - IDV_TRUST_PROXY set, but a request arrives without the header: the proxy does not set it, so every resident
 *   counts as the proxy and thirty bad links from anyone lock out the whole city.
 * - IDV_TRUST_PROXY 0, but requests carry the header: a proxy is in front and not declared, with the same effect (the
 *   header itself is ignored, as it must be when nobody vouches for it: a client could write any address in it).
 *
 * Either way the operator reads one line per `intervalMs` (default a minute) with the count since the last line, never
 * a line per request. Probes straight to the runtime (`/healthz`, `/readyz`, `/metrics` without the header: a load
 * balancer's health check, a Prometheus scrape) are not counted.
 */
/**
 * Paths a load balancer or monitoring asks the runtime directly, not through the proxy, and the push another instance
 * relays to this one (lib/instances/agent-relay.ts RELAY_PATH: instance to instance, answered 404 to anyone else).
 */
const PROBES = new Set(['/healthz', '/readyz', '/metrics', '/_idv/instance/agent-push']);

export function forwardedHeaderWatch(o: { trustProxy: number; log: (line: string) => void; intervalMs?: number; now?: () => number }): RequestHandler {
  const interval = o.intervalMs ?? 60_000;
  const now = o.now ?? Date.now;
  let lastLine = -Infinity;
  let unreported = 0;
  const note = (line: (count: number) => string) => {
    unreported++;
    const t = now();
    if (t - lastLine < interval) return;
    lastLine = t;
    o.log(line(unreported));
    unreported = 0;
  };
  return (req, _res, next) => {
    const forwarded = req.headers['x-forwarded-for'] !== undefined;
    if (o.trustProxy > 0 && !forwarded && !PROBES.has(req.path)) {
      note(
        (n) =>
          `IDV_TRUST_PROXY=${o.trustProxy}, but ${n} request(s) arrived without X-Forwarded-For (from ${req.socket.remoteAddress ?? 'unknown'}): ` +
          `the proxy must set it (nginx: proxy_set_header X-Forwarded-For $remote_addr; see deploy/nginx/idvideo.conf), ` +
          `otherwise every client counts as the proxy for the rate limits`,
      );
    } else if (o.trustProxy === 0 && forwarded) {
      note(
        (n) =>
          `${n} request(s) carried X-Forwarded-For, but IDV_TRUST_PROXY is 0: the header is ignored and every client behind ` +
          `${req.socket.remoteAddress ?? 'that address'} counts as one for the rate limits; behind a reverse proxy set IDV_TRUST_PROXY=1`,
      );
    }
    next();
  };
}
