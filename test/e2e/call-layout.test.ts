/**
 * The call as a resident on a phone and an agent on a laptop see it, in Debian's Chromium against the real runtime
 * (default flows, real media worker, mail catcher, demo identity provider), both browsers set to New York time:
 *
 *   device check and waiting room at 360×640 / 390×844 → the agent's dashboard at 1366×768 / 1920×1080 with the
 *   booking details (marked not verified, logged) and a message to the waiting resident → the call at 360×640,
 *   390×844, 844×390 (own image < ¼ of the other side, controls on screen without scrolling, 44 px targets) and the
 *   agent's workspace → the identification pop-up and the test provider at phone sizes → verified data on one line
 *   with Amsterdam times → "Verwijder nu" changes the resident's text → the agent's connection drops (resident: "even
 *   weg") → the agent ends the call (resident: an end page that says what happens next) → the resident rejoins and
 *   hangs up herself (no stale "in het gesprek") → the processing log names the viewed fields, never their values.
 * axe 0 violations in every state. One runtime, one browser, a context per person.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { amsterdamClocksAroundNow, box, layoutProblems, lineCount, lookOf, radioPairs, selectTextFits, smallTargets, VIEWPORTS, withinViewport } from '../support/layout';
import { linkFromMail, signIn, startWithDefaultFlows, type PagesHarness } from '../support/pages';
import type { RuntimeHandle } from '../support/runtime';
import { keepOrder } from '../support/test-order';

const NAME = 'Jan Jansen-Verbeek';
const EMAIL = 'jan.verbeek@example.nl';
const SHOTS = process.env.IDV_LAYOUT_SHOTS;

describe('the call on a phone and in the agent workspace: layout, states, messages, end (Chromium)', function () {
  keepOrder(this, 'one call from waiting room to hang-up: each step continues the state the step before left (waiting, joined, identified, dropped, ended), and the last reads the log the call wrote');
  this.timeout(300_000);
  let rt: RuntimeHandle;
  let browser: Browser;
  let base: string;
  let resident: Page;
  let agent: Page;
  let agentName = '';
  let otherAgentName = '';
  let appointmentId = '';

  let h: PagesHarness;

  before(async () => {
    h = await startWithDefaultFlows('idv-call-layout-');
    ({ rt, browser, base } = h);
    // Book the first free slot through the JSON API, as a gemeente's own front end would.
    const day = (offset: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(new Date(Date.now() + offset * 86_400_000));
    const slots = (await (await fetch(`${base}/afspraak/slots?from=${day(0)}&to=${day(2)}`)).json()) as Array<{ start: string }>;
    const start = slots[0].start;
    const res = await fetch(`${base}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start, name: NAME, email: EMAIL, phone: '06 1234 5678', remarks: 'Mijn paspoort verloopt volgende maand.', topic: 'Paspoort aanvragen' }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, body);
    appointmentId = (JSON.parse(body) as { id: string }).id;
  });

  after(async () => {
    await h?.close();
  });

  async function newPage(viewport: { width: number; height: number }): Promise<Page> {
    const ctx = await browser.newContext({ viewport, permissions: ['camera', 'microphone'], timezoneId: 'America/New_York', locale: 'en-US' });
    h.contexts.push(ctx);
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  async function axe(page: Page, what: string): Promise<void> {
    const v = await axeViolations(page);
    assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
  }

  async function shot(page: Page, name: string): Promise<void> {
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  }

  /** Layout, targets and (optionally) axe at each size; the page is resized in place (a call cannot move contexts). */
  async function atSizes(page: Page, what: string, sizes: Array<{ width: number; height: number }>, extra?: (size: string) => Promise<void>): Promise<void> {
    for (const s of sizes) {
      const size = `${s.width}x${s.height}`;
      await page.setViewportSize(s);
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      assert.deepEqual(await layoutProblems(page), [], `${what} at ${size}: layout`);
      assert.deepEqual(await smallTargets(page), [], `${what} at ${size}: touch targets`);
      await extra?.(size);
      await shot(page, `${what.replace(/\W+/g, '-')}-${size}`);
    }
  }

  async function statusOf(page: Page): Promise<string> {
    return (await page.locator('#status').textContent()) ?? '';
  }

  /**
   * Records every text the page's #status and main show from now on (a MutationObserver in the page), so a check of
   * "never afterwards" sees a message that came and went, not only the text at the moment it looks.
   */
  async function recordStatus(page: Page): Promise<() => Promise<string[]>> {
    await page.evaluate(`(() => {
      window.__idvStatusSeen = [];
      const note = () => window.__idvStatusSeen.push((document.querySelector('#status')?.textContent ?? '') + ' | ' + (document.querySelector('main')?.innerText ?? ''));
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    })()`);
    return async () => (await page.evaluate('window.__idvStatusSeen.slice()')) as string[];
  }

  /** Waits until the server shows nobody in this appointment's room: no message of the room can reach a page after. */
  async function roomEmpty(p: Page): Promise<void> {
    await waitFor('the server shows the room empty', async () => {
      const list = (await (await p.request.get(`${base}/agent/appointments.json`)).json()) as { appointments: Array<{ id: string; residentPresent: boolean; agentPresent: boolean }> };
      const row = list.appointments.find((a) => a.id === appointmentId);
      return row !== undefined && !row.residentPresent && !row.agentPresent;
    }, 20_000);
  }

  it('device check and waiting room fit a phone', async () => {
    const mail = await newPage(VIEWPORTS.laptop);
    await signIn(mail, base, 'agent1', '/dev/mail');
    const link = await linkFromMail(mail, base, EMAIL);
    await mail.context().close();

    resident = await newPage(VIEWPORTS.phone);
    await resident.goto(link);
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await atSizes(resident, 'device check', [VIEWPORTS.phoneSmall, VIEWPORTS.phoneLandscape, VIEWPORTS.phone]);
    // The device choice is a Utrecht select with its states: focused looks different from not focused.
    const blurred = await lookOf(resident, '#camera-select');
    await resident.focus('#camera-select');
    assert.notEqual(await lookOf(resident, '#camera-select'), blurred, 'a focused select looks focused');
    await resident.evaluate(`document.activeElement.blur()`);
    await axe(resident, 'device check');
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });
    assert.match(await resident.locator('#waiting-heading').innerText(), /De medewerker komt zo bij u/);
    await atSizes(resident, 'waiting room', [VIEWPORTS.phoneSmall, VIEWPORTS.phone]);
    await axe(resident, 'waiting room');
  });

  it("the assigned agent sees the booking details (not verified) and messages the waiting resident; another agent cannot", async () => {
    for (const username of ['agent1', 'agent2']) {
      const p = await newPage(VIEWPORTS.laptop);
      await signIn(p, base, username, '/agent');
      const list = (await (await p.request.get(`${base}/agent/appointments.json`)).json()) as { appointments: Array<{ id: string }> };
      if (list.appointments.some((a) => a.id === appointmentId)) {
        agent = p;
        agentName = username;
      } else {
        otherAgentName = username;
        const peek = await p.request.get(`${base}/agent/appointments/${appointmentId}/booking.json`);
        assert.equal(peek.status(), 404, 'another agent never sees the booking details');
        assert.doesNotMatch(await peek.text(), /Verbeek|example\.nl/);
        await p.context().close();
      }
    }
    assert.ok(agentName && otherAgentName, 'one agent has the appointment, the other does not');
    const row = agent.locator(`li[data-appointment-id="${appointmentId}"]`);
    await waitFor('the resident waits on the dashboard', async () => (await row.getAttribute('data-waiting')) === 'true', 30_000);
    await atSizes(agent, 'dashboard', [VIEWPORTS.laptop, VIEWPORTS.desktop]);
    await axe(agent, 'dashboard');

    await row.locator('summary.idv-appointment-summary').click();
    const details = row.locator('.idv-appointment-details-body');
    await details.locator('dd').first().waitFor();
    const text = await details.innerText();
    assert.match(text, new RegExp(NAME));
    assert.match(text, /Mijn paspoort verloopt volgende maand\./);
    assert.match(text, /Niet gecontroleerd/);
    await axe(agent, 'dashboard with booking details');
    await row.locator('summary.idv-appointment-summary').click();
    await waitFor('closing the details takes the values out of the page', async () => (await details.locator('dd').count()) === 0, 5000);

    // The agent writes to the waiting resident through the row's chat (issue 13 made the one-way message a chat).
    await row.locator('.idv-row-chat > summary').click();
    await row.locator('.idv-chat input').fill('Ik kom over 5 minuten bij u. <b>echt</b>');
    await row.locator('.idv-chat input').press('Enter');
    const log = resident.locator('#chat-log');
    await waitFor('the waiting resident reads the agent', async () => /Ik kom over 5 minuten bij u\. <b>echt<\/b>/.test(await log.innerText()), 15_000);
    assert.equal(await log.locator('b').count(), 0, 'shown as text');
    const line = await log.locator('li.idv-chat-message').last().innerText();
    assert.ok(amsterdamClocksAroundNow().some((c) => line.includes(c)), `sent at, in Amsterdam time: ${line}`);
    assert.equal(await log.getAttribute('role'), 'log');
    await atSizes(resident, 'waiting room with message', [VIEWPORTS.phoneSmall]);
    await axe(resident, 'waiting room with a message');
  });

  it('in the call: own image a small corner, controls on screen, nothing wider than a phone; the agent workspace at laptop sizes', async () => {
    await agent.locator(`li[data-appointment-id="${appointmentId}"] .idv-join`).click();
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('media on both sides', async () => (await resident.evaluate<number>(`document.getElementById('remote-video').videoWidth`)) > 0 && (await agent.evaluate<number>(`document.getElementById('remote-video').videoWidth`)) > 0, 30_000);
    assert.equal(await statusOf(resident), 'De medewerker is in het gesprek.');

    const corner = async (page: Page, size: string) => {
      const remote = await box(page, '#remote-video');
      const own = await box(page, '#local-video');
      assert.ok(own.width * own.height < (remote.width * remote.height) / 4, `${size}: own image ${Math.round(own.width)}x${Math.round(own.height)} < ¼ of ${Math.round(remote.width)}x${Math.round(remote.height)}`);
      assert.deepEqual(await withinViewport(page, '.idv-controls button'), [], `${size}: controls on screen without scrolling`);
    };
    await atSizes(resident, 'call resident', [VIEWPORTS.phoneSmall, VIEWPORTS.phoneLandscape, VIEWPORTS.phone], (size) => corner(resident, size));
    await axe(resident, 'call (resident)');

    await atSizes(agent, 'call agent', [VIEWPORTS.laptop, VIEWPORTS.desktop], async (size) => {
      await corner(agent, size);
      const remote = await box(agent, '#remote-video');
      const vw = size.startsWith('1366') ? 1366 : 1920;
      assert.ok(remote.width > vw * 0.5, `${size}: the other side is large (${Math.round(remote.width)} px wide)`);
      assert.ok((await box(agent, '.idv-side-panel')).width >= 384, `${size}: the side panel has room`);
      assert.equal(await agent.locator('#appointments').isVisible(), false, `${size}: the list makes way for the call`);
      const fit = await selectTextFits(agent, '#idv-ident-purpose');
      assert.ok(fit.text <= fit.room, `${size}: the purpose is not cut off (${fit.text} px text, ${fit.room} px room)`);
    });
    await agent.setViewportSize(VIEWPORTS.laptop);
    await axe(agent, 'call (agent workspace)');
  });

  it('the identification pop-up and the test provider fit a phone; verified data on one line with Amsterdam times', async () => {
    await agent.selectOption('#idv-ident-purpose', { index: 0 });
    await agent.click('#idv-ident-ask');
    const dialog = resident.locator('dialog.idv-identify-dialog[open]');
    await dialog.waitFor({ timeout: 15_000 });
    await atSizes(resident, 'identification pop-up', [VIEWPORTS.phoneSmall, VIEWPORTS.phone], async (size) => {
      const d = await box(resident, 'dialog.idv-identify-dialog');
      const vw = Number(size.split('x')[0]);
      assert.ok(d.left >= 0 && d.left + d.width <= vw, `${size}: the pop-up fits (${Math.round(d.left)}..${Math.round(d.left + d.width)})`);
      assert.equal(await resident.evaluate<boolean>(`(() => { const d = document.querySelector('dialog[open]'); return d.scrollWidth <= d.clientWidth; })()`), true, `${size}: no sideways scrolling in the pop-up`);
    });
    await axe(resident, 'identification pop-up');

    await resident.click('a.idv-identify-method[data-method="demo-digid"]');
    await resident.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    await atSizes(resident, 'test provider', [VIEWPORTS.phoneSmall, VIEWPORTS.phone]);
    await resident.check('input[name="account"][value="jan"]');
    const pairs = await radioPairs(resident);
    assert.ok(pairs.length > 0, 'a chosen and an unchosen test person to compare');
    for (const p of pairs) assert.notEqual(await lookOf(resident, p.checked), await lookOf(resident, p.unchecked), 'the chosen test person looks chosen');
    await axe(resident, 'test provider: login');
    await resident.click('button[name="do"][value="login"]');
    await resident.locator('button[name="do"][value="allow"]').waitFor();
    await atSizes(resident, 'test provider consent', [VIEWPORTS.phoneSmall]);
    await axe(resident, 'test provider: consent');
    await resident.click('button[name="do"][value="allow"]');
    await resident.waitForURL((u) => u.pathname === '/call', { timeout: 30_000 });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('the resident is told the agent sees the data', async () => /ziet nu uw gegevens/.test(await resident.locator('#identification-status').innerText()), 15_000);
    await atSizes(resident, 'call after identification', [VIEWPORTS.phoneSmall, VIEWPORTS.phone]);

    const verified = agent.locator('.idv-ident-verified');
    await verified.waitFor({ timeout: 30_000 });
    assert.equal(await verified.locator('dd[data-key="bsn"]').innerText(), '999993653');
    for (const key of ['bsn', 'name']) assert.equal(await lineCount(agent, `.idv-ident-verified dd[data-key="${key}"]`), 1, `${key} on one line`);
    const at = await verified.locator('.idv-ident-meta dd').nth(2).innerText();
    assert.ok(amsterdamClocksAroundNow(2).some((c) => at.startsWith(c)), `"Geverifieerd om" in Amsterdam time from a New York browser: ${at}`);
    assert.deepEqual(await withinViewport(agent, '.idv-controls button'), [], 'controls still on screen with the verified panel');
    await shot(agent, 'call-agent-verified-1366x768');
    await axe(agent, 'verified data');

    await agent.click('.idv-ident-verified .idv-ident-delete');
    await verified.waitFor({ state: 'detached' });
    await waitFor('the resident is told the data is gone', async () => /verwijderd/.test(await resident.locator('#identification-status').innerText()), 15_000);
    assert.doesNotMatch(await resident.locator('main').innerText(), /ziet nu uw gegevens/);
  });

  it("the agent's dropped connection is 'even weg', their Ophangen ends the call for the resident with what happens next", async () => {
    await agent.context().close();
    await resident.locator('#waiting').waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await resident.locator('#waiting-heading').innerText(), /De medewerker is even weg/);
    assert.match(await resident.locator('#waiting-text').innerText(), /weggevallen/);
    assert.doesNotMatch(await statusOf(resident), /in het gesprek\./);
    await atSizes(resident, 'agent away', [VIEWPORTS.phoneSmall]);
    await axe(resident, 'agent away');

    agent = await newPage(VIEWPORTS.laptop);
    await signIn(agent, base, agentName, '/agent');
    await agent.locator(`li[data-appointment-id="${appointmentId}"][data-waiting="true"] .idv-join`).click();
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('the agent is in the call again', async () => (await statusOf(resident)) === 'De medewerker is in het gesprek.');

    await agent.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible', timeout: 15_000 });
    const seen = await recordStatus(resident);
    assert.match(await resident.locator('#ended-heading').innerText(), /De medewerker heeft het gesprek beëindigd/);
    assert.match(await resident.locator('#ended-text').innerText(), /neemt de gemeente contact met u op/);
    assert.equal(await resident.locator('#rejoin').isVisible(), true);
    // "It stays so": once the server has nobody in the room, nothing of the call can change the page any more; every
    // text shown until then (recorded, not sampled) said it ended.
    await roomEmpty(agent);
    assert.match(await statusOf(resident), /De medewerker heeft het gesprek beëindigd/, 'and it stays so');
    assert.deepEqual((await seen()).filter((t) => /De medewerker is in het gesprek|even weg/.test(t)), [], 'never back to "in the call" or "away"');
    await atSizes(resident, 'ended by the agent', [VIEWPORTS.phoneSmall, VIEWPORTS.phone]);
    await axe(resident, 'ended by the agent');
    await agent.locator('#call').waitFor({ state: 'hidden' });
    assert.match(await statusOf(agent), /U heeft het gesprek beëindigd/);
  });

  it("the resident's own hang-up: 'U heeft opgehangen', never 'De medewerker is in het gesprek' afterwards", async () => {
    await Promise.all([resident.waitForNavigation(), resident.click('#rejoin')]);
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await resident.click('#start-call');
    const row = agent.locator(`li[data-appointment-id="${appointmentId}"]`);
    await waitFor('the resident waits again', async () => (await row.getAttribute('data-waiting')) === 'true', 20_000);
    await row.locator('.idv-join').click();
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await resident.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible' });
    const seen = await recordStatus(resident);
    assert.match(await resident.locator('#ended-heading').innerText(), /U heeft opgehangen/);
    await waitFor('the agent hears the resident left', async () => /De inwoner heeft het gesprek verlaten/.test(await statusOf(agent)), 15_000);
    // The agent leaves too: once the server has nobody in the room, no message of it can reach the resident's page.
    if (await agent.locator('#hang-up').isVisible()) await agent.click('#hang-up');
    await roomEmpty(agent);
    assert.doesNotMatch(await resident.locator('main').innerText(), /De medewerker is in het gesprek/);
    assert.deepEqual((await seen()).filter((t) => /De medewerker is in het gesprek/.test(t)), [], 'never "in the call" after the hang-up');
    await axe(resident, 'own hang-up');
  });

  it('the processing log names the booking fields the agent viewed, never their values', async () => {
    const admin = await newPage(VIEWPORTS.laptop);
    await signIn(admin, base, 'admin', `/admin-log?appointment=${appointmentId}`);
    const text = await admin.locator('main').innerText();
    assert.match(text, /booking_viewed|Gegevens afspraak bekeken|bekeken/);
    assert.match(text, /name, email, phone, topic, remarks/);
    assert.match(text, new RegExp(agentName));
    assert.doesNotMatch(text, /Verbeek|example\.nl|1234 5678|paspoort verloopt|5 minuten/);
    assert.doesNotMatch(rt.output(), /Verbeek|paspoort verloopt|5 minuten bij u/, 'nothing of it in the runtime log either');
  });
});
