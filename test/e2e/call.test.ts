/**
 * The call end to end in Debian's Chromium with fake camera and microphone: the resident enters through a real
 * access link (/v/<token> -> call-session cookie -> /call), the agent signs in and joins from the dashboard; both
 * must decode the other's video and receive audio. Then the faults: the media worker is killed, the signaling
 * connections are cut; media must flow again without a page reload. A third browser without a cookie is refused.
 *
 * The server runs in this process (test/support/call-server.ts: the routes and call service the
 * idv-agent-dashboard node mounts) so the test can reach the media worker's pid and the server's sockets;
 * test/e2e/runtime-call.test.ts runs a call through the real runtime and its default flows. Every fault test starts
 * from a running call of its own making (`inCall`), so the tests do not depend on their order.
 */
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { axeViolations, CHROMIUM_ARGS, chromiumPath, describeViolations, launchBrowser } from '../support/browser';
import { assertMediaFlows, mediaFlow as flow, RECORD_PEER_CONNECTIONS, recordShown, waitFor } from '../support/call-media';
import { AGENT_PASSWORD, startCallServer, type CallServer } from '../support/call-server';

describe('video call in Chromium (e2e)', function () {
  this.timeout(180_000);

  let s: CallServer;
  let browser: Browser;
  let appointmentId: string;
  let residentLink: string;
  const ctxs: BrowserContext[] = [];

  before(async () => {
    s = await startCallServer();
    ({ id: appointmentId, residentLink } = await s.book('agent1', 25));
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of ctxs) await c.close();
    await browser?.close();
    await s?.close();
  });

  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
    ctxs.push(ctx);
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  let resident: Page | undefined;
  let agent: Page | undefined;

  /** The resident opens the link, passes the device check and waits in the room. */
  async function residentWaits(): Promise<Page> {
    const page = await newPage();
    const res = await page.goto(residentLink);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/call', 'the link redirects to the call page');
    await page.locator('#start-call:enabled').waitFor({ timeout: 15_000 });
    await page.click('#start-call');
    await page.locator('#waiting').waitFor({ state: 'visible' });
    await waitFor('resident present in the room', async () => s.call.presence.get(appointmentId).resident);
    return page;
  }

  /** The agent signs in, sees the resident waiting and joins; resolves when both pages carry media. */
  async function agentJoins(): Promise<Page> {
    const page = await newPage();
    await page.goto(`${s.base}/agent`);
    assert.equal(new URL(page.url()).pathname, '/login', 'sign-in first');
    await page.fill('#username', 'agent1');
    await page.fill('#password', AGENT_PASSWORD);
    await page.click('main form button[type="submit"]');
    await page.waitForURL(/\/agent$/, { timeout: 10_000 }).catch(async () => {
      throw new Error(`sign-in did not reach the dashboard: ${page.url()} ${(await page.locator('main').innerText()).slice(0, 300)}`);
    });
    const row = page.locator(`li[data-appointment-id="${appointmentId}"]`);
    await row.waitFor();
    await waitFor('the dashboard shows the resident waiting', async () => (await row.getAttribute('data-waiting')) === 'true');
    await row.locator('.idv-join').click();
    await page.locator('#call').waitFor({ state: 'visible' });
    return page;
  }

  /** A call with media both ways: the one the earlier tests left, or a new one (so any test can run alone). */
  async function inCall(): Promise<{ resident: Page; agent: Page }> {
    const live = resident && agent && !resident.isClosed() && !agent.isClosed() && (await resident.locator('#call').isVisible()) && (await agent.locator('#call').isVisible());
    if (!live) {
      for (const c of ctxs.splice(0)) await c.close();
      resident = await residentWaits();
      agent = await agentJoins();
      await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    }
    await assertMediaFlows(resident as Page, 'resident');
    await assertMediaFlows(agent as Page, 'agent');
    return { resident: resident as Page, agent: agent as Page };
  }

  it('the resident enters through the access link, passes the device check and waits for the employee', async () => {
    for (const c of ctxs.splice(0)) await c.close();
    agent = undefined;
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
    await waitFor('resident present in the room', async () => s.call.presence.get(appointmentId).resident);
  });

  it('the agent sees the resident waiting on the dashboard, joins, and both see and hear each other', async () => {
    // The first test's waiting resident when it ran just before; otherwise a fresh room (another test may have left a
    // call or a hang-up behind), so this test runs in any order.
    const reuse = resident && !agent && !resident.isClosed() && (await resident.locator('#waiting').isVisible());
    if (!reuse) {
      for (const c of ctxs.splice(0)) await c.close();
      agent = undefined;
      await waitFor('nobody left in the room', async () => !s.call.presence.get(appointmentId).agent && !s.call.presence.get(appointmentId).resident);
      resident = await residentWaits();
    }
    const waiting = resident as Page;
    const page = await newPage();
    agent = page;
    await page.goto(`${s.base}/login?next=/agent`);
    await page.fill('#username', 'agent1');
    await page.fill('#password', AGENT_PASSWORD);
    await page.click('main form button[type="submit"]');
    await page.waitForURL(/\/agent$/, { timeout: 10_000 });
    const row = page.locator(`li[data-appointment-id="${appointmentId}"]`);
    await waitFor('the dashboard shows the resident waiting', async () => (await row.getAttribute('data-waiting')) === 'true');
    const axe = await axeViolations(page);
    assert.equal(axe.length, 0, describeViolations(axe));
    await row.locator('.idv-join').click();
    await page.locator('#call').waitFor({ state: 'visible' });
    await waiting.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await inCall();
    assert.equal(await page.locator('#identification').getAttribute('data-appointment-id'), appointmentId, 'the identification panel knows the call');
    await waitFor('a measured connection quality', async () => ['good', 'fair'].includes((await waiting.locator('#quality').getAttribute('data-quality')) ?? ''));
    assert.match(await waiting.locator('#quality').innerText(), /^(goed|matig)$/);
    const axeCall = await axeViolations(waiting);
    assert.equal(axeCall.length, 0, describeViolations(axeCall));
    const axeAgentCall = await axeViolations(page);
    assert.equal(axeAgentCall.length, 0, describeViolations(axeAgentCall));
  });

  it('refuses a third browser without a valid call cookie, on the page and on /ws', async () => {
    const stranger = await newPage();
    const res = await stranger.goto(`${s.base}/call`);
    assert.equal(res?.status(), 403);
    const outcome = await stranger.evaluate<string>(`new Promise((resolve) => {
      const ws = new WebSocket('ws://' + location.host + '/ws');
      ws.onopen = () => resolve('open');
      ws.onclose = () => resolve('closed');
    })`);
    assert.equal(outcome, 'closed');
    const agentsPage = await stranger.goto(`${s.base}/agent`);
    assert.match(new URL(agentsPage?.url() ?? '').pathname, /^\/login/, 'the dashboard asks for sign-in');
  });

  it('recovers from a killed media worker without a page reload', async () => {
    const { resident, agent } = await inCall();
    await resident.evaluate(`window.__idvNoReload = true`);
    const before = { resident: (await flow(resident)).pcs, agent: (await flow(agent)).pcs };
    const pid = s.call.media.workerPidOf(appointmentId);
    assert.ok(pid, 'the call runs on a worker');
    process.kill(pid, 'SIGKILL');
    // The death is an error for the operator, said once and named by its process id.
    await s.log.expectLine(new RegExp(`^\\[error\\] mediasoup worker ${pid} died \\(.*signal:SIGKILL\\]\\); respawning, 1 call\\(s\\) told to rejoin$`));
    await waitFor('a new worker', async () => s.call.media.workerPids().length === 1 && !s.call.media.workerPids().includes(pid));
    await assertMediaFlows(resident, 'resident after worker crash', before.resident + 1);
    await assertMediaFlows(agent, 'agent after worker crash', before.agent + 1);
    assert.equal(await resident.evaluate<boolean>(`window.__idvNoReload === true`), true, 'no reload');
    assert.equal(await resident.locator('#reconnecting').isHidden(), true, 'the reconnect banner is gone again');
  });

  it('recovers from cut signaling connections without a page reload', async () => {
    const { resident, agent } = await inCall();
    await resident.evaluate(`window.__idvNoReload = true`);
    const before = { resident: (await flow(resident)).pcs, agent: (await flow(agent)).pcs };
    assert.ok(s.callSockets.size >= 2, 'both call sockets are known');
    const bannerShown = await recordShown(resident, 'reconnecting');
    for (const socket of s.callSockets) socket.destroy();
    await waitFor('the reconnect banner to show', bannerShown, 10_000, 50);
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
    const { resident, agent } = await inCall();
    const before = { ufrags: await resident.evaluate<string[]>(UFRAGS), pcs: (await flow(resident)).pcs };
    const pid = s.call.media.workerPidOf(appointmentId);
    assert.ok(pid);
    // A frozen worker answers no ICE checks and forwards no media: to the browsers the network path is gone.
    process.kill(pid, 'SIGSTOP');
    try {
      await resident.locator('#reconnecting').waitFor({ state: 'visible', timeout: 20_000 });
      // The fault lasts a while after the client noticed it (as the network test's outage lasts 10 s): long enough
      // that the client restarts ICE. This is the fault's length, not a wait standing in for a condition.
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
    const { resident, agent } = await inCall();
    const ended = new Promise<unknown>((resolve) => s.call.presence.once('presence', (_id: string, p: unknown) => resolve(p)));
    await resident.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible' });
    assert.deepEqual(await ended, { resident: false, agent: true });
    const row = agent.locator(`li[data-appointment-id="${appointmentId}"]`);
    await waitFor('the dashboard no longer shows the resident', async () => (await row.locator('.idv-presence').innerText()).length > 0 && (await row.getAttribute('data-waiting')) === 'false');
  });
});
