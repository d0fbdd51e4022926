import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { callRoutes } from '../../lib/call/routes';
import { getCallService, type CallService } from '../../lib/call/service';
import { loadConfig, type RuntimeConfig } from '../../lib/config';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { TEST_RTC_ENV } from './ports';
import { tempDir } from './runtime';
import { serverLogger, type WatchedLog } from './server-log';

export const AGENT_PASSWORD = 'agent-password-for-tests';

/**
 * The call part of the product in the test process (express + the routes and call service the idv-agent-dashboard
 * node mounts), so a test can reach the media server and the signaling sockets. Server errors are collected and
 * can be asserted empty.
 */
export interface CallServer {
  services: Services;
  call: CallService;
  server: http.Server;
  base: string;
  port: number;
  /** Signaling sockets of calls (not the dashboards' live channel), to cut them like a network drop would. */
  callSockets: Set<Duplex>;
  /** Warn/error lines of the server side (checked after every test, test/support/server-log.ts). */
  log: WatchedLog;
  /** A booked appointment starting a minute from now for `agent` (created as a staff account) and a resident link. */
  book(agent: string, minutes?: number): Promise<{ id: string; residentLink: string }>;
  close(): Promise<void>;
}

export async function startCallServer(o: { host?: string; env?: Record<string, string>; tweak?: (c: RuntimeConfig) => void } = {}): Promise<CallServer> {
  const host = o.host ?? '127.0.0.1';
  const dataDir = tempDir('idv-call-server-');
  const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '0', HOST: host, IDV_MEDIA_WORKERS: '1', ...TEST_RTC_ENV, ...o.env });
  o.tweak?.(config);
  const log = serverLogger(`call server in ${dataDir}`);
  const app = express();
  const server = http.createServer(app);
  const services = initServices({ config, app, log });
  const call = await getCallService(services);
  call.attach(server);
  const unmount = services.mount(callRoutes(services, { presence: () => (id) => call.presence.get(id), log: (m) => log.warn(m) }));
  const releaseAccess = acquireAccessRoutes(services);
  const callSockets = new Set<Duplex>();
  server.on('upgrade', (req, socket) => {
    if (req.url?.startsWith('/ws') && !req.url.includes('channel=agent')) {
      callSockets.add(socket);
      socket.once('close', () => callSockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://${host}:${port}`;
  const passwordHash = hashPassword(AGENT_PASSWORD);
  let n = 0;
  return {
    services,
    call,
    server,
    base,
    port,
    callSockets,
    log: log.watched,
    async book(agent, minutes = 30) {
      const now = Date.now();
      await services.staffStore.upsertUser({ username: agent, displayName: agent, roles: ['agent'], passwordHash: await passwordHash });
      const { appointment } = await appointmentStoreOf(services).create(
        {
          // Starts a minute from now: always on today's or tomorrow's list, whatever the time of day.
          startUtc: new Date(now + 60_000).toISOString(),
          endUtc: new Date(now + minutes * 60_000).toISOString(),
          topic: 'Paspoort aanvragen',
          channel: 'website',
          bookedBy: null,
          resident: { name: 'Inwoner Test', email: `inwoner${++n}@example.test`, phone: null, remarks: null },
          cancelTokenHash: `test-cancel-${agent}-${n}`,
          idempotencyKey: `test-${agent}-${n}`,
          createdAt: new Date(now).toISOString(),
        },
        { candidates: [agent], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
      );
      const token = await linkServiceOf(services).issue({
        appointmentId: appointment.id,
        role: 'resident',
        validFrom: new Date(now - 60 * 60_000).toISOString(),
        validUntil: new Date(now + 60 * 60_000).toISOString(),
      });
      return { id: appointment.id, residentLink: `${base}/v/${token}` };
    },
    async close() {
      releaseAccess();
      unmount();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
