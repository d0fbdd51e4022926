import type { Request, RequestHandler } from 'express';
import ipaddr from 'ipaddr.js';
import type { HealthState } from '../services';
import type { StaffIdentity } from '../staff/types';

/**
 * True when the request came straight to the runtime's own socket from this machine: a loopback peer and no
 * forwarding header at all. A request through the reverse proxy always carries X-Forwarded-For (the shipped nginx
 * site sets it), so a visitor on the internet never counts as inside, whatever IDV_TRUST_PROXY says.
 */
export function isDirectLocal(req: Request): boolean {
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  const peer = req.socket.remoteAddress ?? '';
  if (!ipaddr.isValid(peer)) return false;
  let addr = ipaddr.parse(peer);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() === 'loopback';
}

export interface HealthRouteOptions {
  health(): Promise<{ ok: boolean; checks: Record<string, HealthState> }>;
  /** The signed-in staff member of the request, if any (an admin sees the details through the proxy too). */
  identify(req: Request): Promise<StaffIdentity | undefined>;
}

/**
 * GET /healthz. Everyone gets up or down: 200 `{"status":"ok"}` or 503 `{"status":"unavailable"}`, enough for a load
 * balancer or an uptime check. The parts (runtime, store, media, mail, identification, …, each `{ok, detail}`) go
 * only to a probe on the machine itself (isDirectLocal) and to a signed-in administrator: they name internal state
 * (queue lengths, which part is broken) that is nobody else's business.
 */
export function healthRoute(o: HealthRouteOptions): RequestHandler {
  return (req, res, next) => {
    void (async () => {
      const h = await o.health();
      const detail = isDirectLocal(req) || ((await o.identify(req).catch(() => undefined))?.roles.includes('admin') ?? false);
      res.status(h.ok ? 200 : 503).setHeader('Cache-Control', 'no-store');
      res.json({ status: h.ok ? 'ok' : 'unavailable', ...(detail ? h.checks : {}) });
    })().catch(next);
  };
}

/** The parts readiness depends on: a store that writes and media workers that run (when the call service started). */
export const READY_CHECKS = ['store', 'media'] as const;

export interface ReadyRouteOptions {
  health(only: readonly string[]): Promise<{ ok: boolean; checks: Record<string, HealthState> }>;
  draining(): boolean;
  identify(req: Request): Promise<StaffIdentity | undefined>;
}

/**
 * GET /readyz: whether this instance should get new visitors. 200 `{"status":"ready"}` while the store writes and
 * the media workers run; 503 `{"status":"not ready"}` when one of them is down or the instance is draining (SIGTERM
 * received, calls still finishing). /healthz stays the liveness check (is the process well at all). The parts go to
 * the same audience as /healthz's details.
 */
export function readyRoute(o: ReadyRouteOptions): RequestHandler {
  return (req, res, next) => {
    void (async () => {
      const h = await o.health(READY_CHECKS);
      const draining = o.draining();
      const ok = h.ok && !draining;
      const detail = isDirectLocal(req) || ((await o.identify(req).catch(() => undefined))?.roles.includes('admin') ?? false);
      const checks = { ...h.checks, draining: draining ? { ok: false, detail: 'draining: finishing calls, taking no new ones' } : { ok: true } };
      res.status(ok ? 200 : 503).setHeader('Cache-Control', 'no-store');
      res.json({ status: ok ? 'ready' : 'not ready', ...(detail ? checks : {}) });
    })().catch(next);
  };
}
