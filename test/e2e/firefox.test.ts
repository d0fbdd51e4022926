/**
 * The second browser engine: Debian's Firefox ESR over WebDriver BiDi (puppeteer-core), against the product with its
 * out-of-the-box media setting (no IDV_MEDIA_LISTEN_IP: the media server picks a non-loopback interface, which
 * Firefox pairs with; on 127.0.0.1 it never did). Firefox resident with a Chromium agent, then a Chromium resident
 * with a Firefox agent: device check, waiting room, media both ways (engine-neutral statistics), the identification
 * pop-up, axe on the call page.
 */
import assert from 'node:assert/strict';
import type { Browser as FirefoxBrowser, BrowserContext as FirefoxContext, Page as FirefoxPage } from 'puppeteer-core';
import type { Page } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { assertMediaFlows, RECORD_PEER_CONNECTIONS } from '../support/call-media';
import { launchFirefox } from '../support/firefox';
import { AGENT_PASSWORD, startIdentHarness, waitFor, type IdentHarness } from './identification-harness';

describe('calls with Firefox ESR (e2e, WebDriver BiDi)', function () {
  this.timeout(150_000);
  let h: IdentHarness;
  let firefox: FirefoxBrowser;
  const ffContexts: FirefoxContext[] = [];

  before(async () => {
    h = await startIdentHarness();
    firefox = await launchFirefox();
  });

  after(async () => {
    for (const c of ffContexts) await c.close().catch(() => undefined);
    await firefox?.close().catch(() => undefined);
    await h?.close();
  });

  async function firefoxPage(): Promise<FirefoxPage> {
    const ctx = await firefox.createBrowserContext();
    ffContexts.push(ctx);
    const page = await ctx.newPage();
    await page.evaluateOnNewDocument(RECORD_PEER_CONNECTIONS);
    return page;
  }

  async function chromiumPage(): Promise<Page> {
    const page = await h.newPage();
    await page.context().addInitScript(RECORD_PEER_CONNECTIONS);
    return page;
  }

  async function noAxeViolations(page: { evaluate(e: string): Promise<unknown> }, what: string): Promise<void> {
    const v = await axeViolations(page);
    assert.equal(v.length, 0, `${what}: ${describeViolations(v)}`);
  }

  it('Firefox resident, Chromium agent: device check, waiting room, media both ways, identification pop-up, axe', async () => {
    const resident = await firefoxPage();
    await resident.goto(h.residentLink);
    await resident.waitForSelector('#start-call:enabled', { timeout: 20_000 });
    assert.ok((await resident.$$('#camera-select option')).length >= 1, 'the fake camera is offered');
    await noAxeViolations(resident, 'device check in Firefox');
    await resident.click('#start-call');
    await resident.waitForSelector('#waiting', { visible: true });
    await waitFor('resident in the room', async () => h.call.presence.get(h.appointmentId).resident);

    const agent = await chromiumPage();
    await agent.goto(`${h.base}/agent`);
    await agent.fill('#username', 'agent1');
    await agent.fill('#password', AGENT_PASSWORD);
    await agent.click('main form button[type="submit"]');
    const row = agent.locator(`li[data-appointment-id="${h.appointmentId}"]`);
    await waitFor('the resident waiting on the dashboard', async () => (await row.getAttribute('data-waiting')) === 'true');
    await row.locator('button.idv-join').click();
    await resident.waitForSelector('#call', { visible: true, timeout: 20_000 });
    await assertMediaFlows(resident, 'Firefox resident');
    await assertMediaFlows(agent, 'Chromium agent');
    assert.equal(await resident.evaluate(`document.querySelector('.idv-media-problem')?.hidden !== false`), true, 'no media alert');
    await noAxeViolations(resident, 'call page in Firefox');

    await agent.locator('#idv-ident-ask').waitFor({ state: 'visible', timeout: 10_000 });
    await agent.selectOption('#idv-ident-purpose', { index: 0 });
    await agent.click('#idv-ident-ask');
    const dialog = await resident.waitForSelector('dialog.idv-identify-dialog[open]', { timeout: 15_000 });
    assert.match(String(await dialog?.evaluate((d) => d.textContent)), /De medewerker vraagt u om in te loggen/);
    await noAxeViolations(resident, 'identification pop-up in Firefox');
    await resident.keyboard.press('Escape');
    await resident.waitForSelector('dialog.idv-identify-dialog', { hidden: true, timeout: 10_000 });
    await resident.click('#hang-up');
    await resident.waitForSelector('#ended', { visible: true });
    await agent.context().close();
  });

  it('Chromium resident, Firefox agent: media both ways, identification pop-up, axe on the agent call page', async () => {
    const resident = await chromiumPage();
    await resident.goto(h.residentLink);
    await resident.locator('#start-call:enabled').waitFor({ timeout: 15_000 });
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });

    const agent = await firefoxPage();
    await agent.goto(`${h.base}/agent`);
    await agent.type('#username', 'agent1');
    await agent.type('#password', AGENT_PASSWORD);
    await Promise.all([agent.waitForNavigation(), agent.click('main form button[type="submit"]')]);
    const join = `li[data-appointment-id="${h.appointmentId}"][data-waiting="true"] button.idv-join`;
    await agent.waitForSelector(join, { timeout: 20_000 });
    await agent.click(join);
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await assertMediaFlows(agent, 'Firefox agent');
    await assertMediaFlows(resident, 'Chromium resident');
    await noAxeViolations(agent, 'agent call page in Firefox');

    await agent.waitForSelector('#idv-ident-ask', { visible: true, timeout: 10_000 });
    await agent.select('#idv-ident-purpose', String(await agent.evaluate(`document.querySelector('#idv-ident-purpose option').value`)));
    await agent.click('#idv-ident-ask');
    await resident.locator('dialog.idv-identify-dialog[open]').waitFor({ timeout: 15_000 });
    assert.match(await resident.locator('dialog.idv-identify-dialog[open]').innerText(), /De medewerker vraagt u om in te loggen/);
    // Leave the room as the other test does, so either can run first (IDV_TEST_ORDER).
    await resident.keyboard.press('Escape');
    await resident.locator('dialog.idv-identify-dialog').waitFor({ state: 'detached', timeout: 10_000 });
    await resident.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible' });
    await agent.close();
    await resident.context().close();
    await waitFor('the room empty', async () => !h.call.presence.get(h.appointmentId).resident);
  });
});
