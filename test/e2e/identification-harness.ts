/**
 * A whole identification round in Debian's Chromium, shared by the e2e test and the benchmark: the runtime's parts in
 * this process (call service with its media worker, call page, dashboard, access links, identification routes, the demo
 * IdP of demo mode) on a loopback port, a resident who enters through a real access link and an agent who signs in.
 * Node-RED is left out: the two hand-offs its nodes make (the panel's button -> request, verified -> show) are wired
 * here directly with the same service calls; test/nodes/identification.test.ts covers the nodes themselves.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { callRoutes } from '../../lib/call/routes';
import { getCallService, type CallService } from '../../lib/call/service';
import { loadConfig } from '../../lib/config';
import { demoMethods } from '../../lib/identification/demo';
import { acquireIdentificationRoutes } from '../../lib/identification/routes';
import { identificationServiceOf, type IdentificationService } from '../../lib/identification/service';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { launchBrowser } from '../support/browser';
import { tempDir } from '../support/runtime';
import { waitFor as pollUntil } from '../support/call-media';

export const AGENT_PASSWORD = 'agent-password-for-identification';

export interface IdentHarness {
  base: string;
  services: Services;
  call: CallService;
  id: IdentificationService;
  browser: Browser;
  appointmentId: string;
  residentLink: string;
  /** Everything the server side logged. */
  logs: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Polls every 50 ms: the benchmark times the pop-up and the values with this, so coarser polling would show. */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, fn, timeoutMs, 50);
}

export async function startIdentHarness(): Promise<IdentHarness> {
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dataDir = tempDir('idv-e2e-ident-');
  // The public URL is this server: the demo IdP sends the browser back to <base>/auth/callback.
  const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', IDV_PUBLIC_URL: base, IDV_MEDIA_WORKERS: '1' });
  const logs: string[] = [];
  const services = initServices({ config, app, log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
  await services.staffStore.upsertUser({ username: 'agent1', displayName: 'Agent Een', roles: ['agent'], passwordHash: await hashPassword(AGENT_PASSWORD) });
  const call = await getCallService(services);
  call.attach(server);
  const unmountCall = services.mount(callRoutes(services, { presence: () => (aid) => call.presence.get(aid), log: (m) => logs.push(m) }));
  const releaseAccess = acquireAccessRoutes(services);
  const id = identificationServiceOf(services);
  const releaseIdent = acquireIdentificationRoutes(services, id);
  const demo = await demoMethods(services, id.callbackUrl());
  id.on('asked', (e) => {
    void id.request({ appointmentId: e.appointmentId, agent: e.agent, purpose: e.purpose, methods: demo.methods, attributeKeys: ['bsn', 'name', 'birthdate'] }).catch((err: Error) => logs.push(`request failed: ${err.message}`));
  });
  id.on('verified', (e) => void id.showToAgent(e.attributeSetId, e.appointmentId).catch((err: Error) => logs.push(`show failed: ${err.message}`)));

  const now = Date.now();
  const { appointment } = await appointmentStoreOf(services).create(
    {
      startUtc: new Date(now - 5 * 60_000).toISOString(),
      endUtc: new Date(now + 25 * 60_000).toISOString(),
      topic: 'Paspoort aanvragen',
      channel: 'website',
      bookedBy: null,
      resident: { name: 'Ingetypte Naam', email: 'inwoner@example.test', phone: null, remarks: null },
      cancelTokenHash: createHash('sha256').update('e2e-ident').digest('hex'),
      idempotencyKey: 'e2e-ident',
      createdAt: new Date(now).toISOString(),
    },
    { candidates: ['agent1'], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
  );
  const token = await linkServiceOf(services).issue({ appointmentId: appointment.id, role: 'resident', validFrom: new Date(now - 3600_000).toISOString(), validUntil: new Date(now + 3600_000).toISOString() });
  const browser = await launchBrowser();
  const ctxs: BrowserContext[] = [];

  return {
    base,
    services,
    call,
    id,
    browser,
    appointmentId: appointment.id,
    residentLink: `${base}/v/${token}`,
    logs,
    async newPage() {
      const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
      ctxs.push(ctx);
      const page = await ctx.newPage();
      page.on('console', (m) => logs.push(`[browser ${m.type()}] ${m.text()}`));
      return page;
    },
    async close() {
      for (const c of ctxs) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      releaseIdent();
      releaseAccess();
      unmountCall();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The resident opens the access link, passes the device check and waits; the agent signs in and joins. */
export async function startCall(h: IdentHarness): Promise<{ resident: Page; agent: Page }> {
  const resident = await h.newPage();
  await resident.goto(h.residentLink);
  await resident.locator('#start-call:enabled').waitFor({ timeout: 15_000 });
  await resident.click('#start-call');
  await waitFor('resident in the room', async () => h.call.presence.get(h.appointmentId).resident);
  const agent = await h.newPage();
  await agent.goto(`${h.base}/agent`);
  await agent.fill('#username', 'agent1');
  await agent.fill('#password', AGENT_PASSWORD);
  await agent.click('main form button[type="submit"]');
  await agent.waitForURL(/\/agent$/, { timeout: 10_000 });
  const row = agent.locator(`li[data-appointment-id="${h.appointmentId}"]`);
  await waitFor('the resident waiting on the dashboard', async () => (await row.getAttribute('data-waiting')) === 'true');
  await row.locator('.idv-join').click();
  await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
  await agent.locator('#idv-ident-ask').waitFor({ state: 'visible', timeout: 10_000 });
  return { resident, agent };
}

export interface RoundTimes {
  /** Agent's click on "Vraag identificatie" -> the dialog open on the resident's screen. */
  clickToPopupMs: number;
  /** The provider's redirect back (callback request leaves the provider) -> the values on the agent's screen. */
  redirectToScreenMs: number;
}

/** One identification: ask, choose DigiD (TEST), log in as a test person and consent, back in the call, values shown. */
export async function identifyOnce(h: IdentHarness, resident: Page, agent: Page, account = 'jan'): Promise<RoundTimes> {
  const t0 = Date.now();
  await agent.click('#idv-ident-ask');
  await resident.locator('dialog.idv-identify-dialog[open]').waitFor({ timeout: 10_000 });
  const clickToPopupMs = Date.now() - t0;
  await resident.click('a.idv-identify-method[data-method="demo-digid"]');
  await resident.waitForURL((u) => u.pathname.startsWith('/interaction/'), { timeout: 10_000 });
  await resident.check(`input[name="account"][value="${account}"]`);
  // The provider's last page sends the browser to our callback: the clock starts with the click on it. That is the
  // consent page the first time; once this test person consented, the login page itself is the last one.
  let t1 = Date.now();
  await resident.click('button[name="do"][value="login"]');
  const allow = resident.locator('button[name="do"][value="allow"]');
  const next = await Promise.race([
    allow.waitFor({ timeout: 10_000 }).then(() => 'consent' as const, () => 'none' as const),
    resident.waitForURL((u) => u.pathname === '/call', { timeout: 10_000 }).then(() => 'back' as const, () => 'none' as const),
  ]);
  if (next === 'consent') {
    t1 = Date.now();
    await allow.click();
  }
  await agent.locator('.idv-ident-verified dd[data-key="bsn"]').waitFor({ timeout: 15_000 });
  const redirectToScreenMs = Date.now() - t1;
  return { clickToPopupMs, redirectToScreenMs };
}
