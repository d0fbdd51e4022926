/**
 * The call end to end in Debian's Chromium with fake camera and microphone: the resident enters through a real
 * access link (/v/<token> -> call-session cookie -> /call), the agent signs in and joins from the dashboard; both
 * must decode the other's video and receive audio. Then the faults: the media worker is killed, the signaling
 * connections are cut; media must flow again without a page reload. A third browser without a cookie is refused.
 *
 * The server runs in this process (express + the same routes and call service the idv-agent-dashboard node mounts)
 * so the test can reach the media worker's pid and the server's sockets.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { callRoutes } from '../../lib/call/routes';
import { getCallService, type CallService } from '../../lib/call/service';
import { loadConfig } from '../../lib/config';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { axeViolations, CHROMIUM_ARGS, chromiumPath, describeViolations, launchBrowser } from '../support/browser';
import { assertMediaFlows, mediaFlow as flow, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { tempDir } from '../support/runtime';

const PASSWORD = 'agent-password-for-tests';

describe('video call in Chromium (e2e)', function () {
  this.timeout(180_000);

  let services: Services;
  let call: CallService;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let appointmentId: string;
  let residentLink: string;
  const ctxs: BrowserContext[] = [];
  let releaseAccess: () => void;
  let unmount: () => void;
  /** Signaling sockets of calls (not the dashboards' live channel), to cut them like a network drop would. */
  const callSockets = new Set<Duplex>();

  before(async () => {
    const dataDir = tempDir('idv-e2e-call-');
    const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', IDV_MEDIA_WORKERS: '1' });
    const app = express();
    server = http.createServer(app);
    services = initServices({ config, app, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    await services.staffStore.upsertUser({ username: 'agent1', displayName: 'Agent Een', roles: ['agent'], passwordHash: await hashPassword(PASSWORD) });
    call = await getCallService(services);
    call.attach(server);
    unmount = services.mount(callRoutes(services, { presence: () => (id) => call.presence.get(id), log: () => undefined }));
    releaseAccess = acquireAccessRoutes(services);
    server.on('upgrade', (req, socket) => {
      if (req.url?.startsWith('/ws') && !req.url.includes('channel=agent')) {
        callSockets.add(socket);
        socket.once('close', () => callSockets.delete(socket));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const now = Date.now();
    const store = appointmentStoreOf(services);
    const { appointment } = await store.create(
      {
        // Starts a minute from now: always on today's or tomorrow's list, whatever the time of day.
        startUtc: new Date(now + 60_000).toISOString(),
        endUtc: new Date(now + 25 * 60_000).toISOString(),
        topic: 'Paspoort aanvragen',
        channel: 'website',
        bookedBy: null,
        resident: { name: 'Inwoner Test', email: 'inwoner@example.test', phone: null, remarks: null },
        cancelTokenHash: 'e2e-cancel-hash',
        idempotencyKey: 'e2e-call',
        createdAt: new Date(now).toISOString(),
      },
      { candidates: ['agent1'], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
    );
    appointmentId = appointment.id;
    const token = await linkServiceOf(services).issue({
      appointmentId,
      role: 'resident',
      validFrom: new Date(now - 60 * 60_000).toISOString(),
      validUntil: new Date(now + 60 * 60_000).toISOString(),
    });
    residentLink = `${base}/v/${token}`;
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of ctxs) await c.close().catch(() => undefined);
    await browser?.close();
    releaseAccess?.();
    unmount?.();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const dir = services?.config.dataDir;
    await services?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
    ctxs.push(ctx);
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  let resident: Page;
  let agent: Page;

  it('the resident enters through the access link, passes the device check and waits for the employee', async () => {
    resident = await newPage();
    const res = await resident.goto(residentLink);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(resident.url()).pathname, '/call', 'the link redirects to the call page');
    await resident.locator('#start-call:enabled').waitFor({ timeout: 15_000 });
    const options = await resident.locator('#camera-select option').count();
    assert.ok(options >= 1, 'the fake camera is offered in the device choice');
    const axe = await axeViolations(resident);
    assert.equal(axe.length, 0, describeViolations(axe));
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });
    assert.match(await resident.locator('#waiting-heading').innerText(), /De medewerker komt zo bij u/);
    await waitFor('resident present in the room', async () => call.presence.get(appointmentId).resident);
  });

  it('the agent sees the resident waiting on the dashboard, joins, and both see and hear each other', async () => {
    agent = await newPage();
    await agent.goto(`${base}/agent`);
    assert.equal(new URL(agent.url()).pathname, '/login', 'sign-in first');
    await agent.fill('#username', 'agent1');
    await agent.fill('#password', PASSWORD);
    await agent.click('main form button[type="submit"]');
    await agent.waitForURL(/\/agent$/, { timeout: 5000 }).catch(async () => {
      throw new Error(`sign-in did not reach the dashboard: ${agent.url()} ${(await agent.locator('main').innerText()).slice(0, 300)}`);
    });
    const row = agent.locator(`li[data-appointment-id="${appointmentId}"]`);
    await row.waitFor();
    await waitFor('the dashboard shows the resident waiting', async () => (await row.getAttribute('data-waiting')) === 'true');
    const axe = await axeViolations(agent);
    assert.equal(axe.length, 0, describeViolations(axe));
    await row.locator('.idv-join').click();
    await agent.locator('#call').waitFor({ state: 'visible' });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await assertMediaFlows(resident, 'resident');
    await assertMediaFlows(agent, 'agent');
    assert.equal(await agent.locator('#identification').getAttribute('data-appointment-id'), appointmentId, 'the identification panel knows the call');
    await waitFor('a measured connection quality', async () => ['good', 'fair'].includes((await resident.locator('#quality').getAttribute('data-quality')) ?? ''));
    assert.match(await resident.locator('#quality').innerText(), /^(goed|matig)$/);
    const axeCall = await axeViolations(resident);
    assert.equal(axeCall.length, 0, describeViolations(axeCall));
    const axeAgentCall = await axeViolations(agent);
    assert.equal(axeAgentCall.length, 0, describeViolations(axeAgentCall));
  });

  it('refuses a third browser without a valid call cookie, on the page and on /ws', async () => {
    const stranger = await newPage();
    const res = await stranger.goto(`${base}/call`);
    assert.equal(res?.status(), 403);
    const outcome = await stranger.evaluate<string>(`new Promise((resolve) => {
      const ws = new WebSocket('ws://' + location.host + '/ws');
      ws.onopen = () => resolve('open');
      ws.onclose = () => resolve('closed');
    })`);
    assert.equal(outcome, 'closed');
    const agentsPage = await stranger.goto(`${base}/agent`);
    assert.match(new URL(agentsPage?.url() ?? '').pathname, /^\/login/, 'the dashboard asks for sign-in');
  });

  it('recovers from a killed media worker without a page reload', async () => {
    await resident.evaluate(`window.__idvNoReload = true`);
    const before = { resident: (await flow(resident)).pcs, agent: (await flow(agent)).pcs };
    const pid = call.media.workerPidOf(appointmentId);
    assert.ok(pid, 'the call runs on a worker');
    process.kill(pid, 'SIGKILL');
    await waitFor('a new worker', async () => call.media.workerPids().length === 1 && !call.media.workerPids().includes(pid));
    await assertMediaFlows(resident, 'resident after worker crash', before.resident + 1);
    await assertMediaFlows(agent, 'agent after worker crash', before.agent + 1);
    assert.equal(await resident.evaluate<boolean>(`window.__idvNoReload === true`), true, 'no reload');
    assert.equal(await resident.locator('#reconnecting').isHidden(), true, 'the reconnect banner is gone again');
  });

  it('recovers from cut signaling connections without a page reload', async () => {
    const before = { resident: (await flow(resident)).pcs, agent: (await flow(agent)).pcs };
    assert.ok(callSockets.size >= 2, 'both call sockets are known');
    for (const s of callSockets) s.destroy();
    await resident.locator('#reconnecting').waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    await assertMediaFlows(resident, 'resident after network cut', before.resident + 1);
    await assertMediaFlows(agent, 'agent after network cut', before.agent + 1);
    assert.equal(await resident.evaluate<boolean>(`window.__idvNoReload === true`), true, 'no reload');
    await resident.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 10_000 });
    const status = await resident.locator('#status').innerText();
    assert.match(status, /Verbinding hersteld|medewerker/);
  });

  it('restarts ICE when the media path stalls, keeping the same peer connections', async () => {
    // The remote ICE username fragment of each open peer connection changes only through an ICE restart.
    const UFRAGS = `(window.__idvTestPcs || []).filter((pc) => pc.connectionState !== 'closed').map((pc) => ((pc.remoteDescription && pc.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/)) || [])[1])`;
    const before = { ufrags: await resident.evaluate<string[]>(UFRAGS), pcs: (await flow(resident)).pcs };
    const pid = call.media.workerPidOf(appointmentId);
    assert.ok(pid);
    // A frozen worker answers no ICE checks and forwards no media: to the browsers the network path is gone.
    process.kill(pid, 'SIGSTOP');
    try {
      await resident.locator('#reconnecting').waitFor({ state: 'visible', timeout: 20_000 });
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await assertMediaFlows(resident, 'resident after a media stall');
    await assertMediaFlows(agent, 'agent after a media stall');
    const after = { ufrags: await resident.evaluate<string[]>(UFRAGS), pcs: (await flow(resident)).pcs };
    assert.equal(after.pcs, before.pcs, 'no rejoin was needed');
    assert.ok(after.ufrags.some((u, i) => u !== before.ufrags[i]), `ICE was restarted (${before.ufrags} -> ${after.ufrags})`);
    await resident.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it('explains a denied camera and microphone permission and offers to try again', async () => {
    // Without the flag that auto-accepts the permission prompt, and with the permission set to denied.
    const strict = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream') });
    try {
      const ctx = await strict.newContext();
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId?: string } };
      for (const name of ['camera', 'microphone']) {
        await cdp.send('Browser.setPermission', { permission: { name }, setting: 'denied', browserContextId: targetInfo.browserContextId });
      }
      await page.goto(residentLink);
      await page.locator('#device-problem').waitFor({ state: 'visible' });
      assert.match(await page.locator('#device-problem-text').innerText(), /geen toestemming/);
      assert.equal(await page.locator('#retry-devices').isVisible(), true);
      assert.equal(await page.locator('#start-call').isDisabled(), true, 'no call without devices');
      const axe = await axeViolations(page);
      assert.equal(axe.length, 0, describeViolations(axe));
    } finally {
      await strict.close();
    }
  });

  it('explains that no camera or microphone was found', async () => {
    // Debian's Chromium without the fake devices: this machine has neither camera nor microphone.
    const bare = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-device-for-media-stream') });
    try {
      const page = await (await bare.newContext({ permissions: ['camera', 'microphone'] })).newPage();
      await page.goto(residentLink);
      await page.locator('#device-problem').waitFor({ state: 'visible' });
      assert.match(await page.locator('#device-problem-text').innerText(), /geen camera en geen microfoon/);
      assert.equal(await page.locator('#start-call').isDisabled(), true);
    } finally {
      await bare.close();
    }
  });

  it('hanging up ends the call for the resident and reports it to the dashboard', async () => {
    const ended = new Promise<unknown>((resolve) => call.presence.once('presence', (_id: string, p: unknown) => resolve(p)));
    await resident.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible' });
    assert.deepEqual(await ended, { resident: false, agent: true });
    const row = agent.locator(`li[data-appointment-id="${appointmentId}"]`);
    await waitFor('the dashboard no longer shows the resident', async () => (await row.locator('.idv-presence').innerText()).length > 0 && (await row.getAttribute('data-waiting')) === 'false');
  });
});
