/**
 * Issue 13's chat and call of three with a Firefox participant: Debian's Firefox ESR (WebDriver BiDi, puppeteer-core)
 * as the resident, Chromium as agent and interpreter, against the default flows with the product's own media setting
 * (no IDV_MEDIA_LISTEN_IP: a non-loopback interface, which Firefox pairs with). Chat both ways while the resident
 * waits, then a call of three with media on every path, measured with engine-neutral statistics only
 * (test/support/call-media.ts). One runtime, one Firefox and one Chromium for the file; mails from a real SMTP server.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser as FirefoxBrowser, Page as FirefoxPage } from 'puppeteer-core';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { assertMediaFromTwo, assertMediaFlows, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { launchFirefox } from '../support/firefox';
import { defaultFlowsOpenNow } from '../support/flows';
import { signIn } from '../support/pages';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp';
import { keepOrder } from '../support/test-order';

const RESIDENT = 'firefox.inwoner@example.nl';
const GUEST = 'firefox.tolk@example.nl';

describe('chat and a call of three with a Firefox resident (default flows, Firefox ESR + Chromium)', function () {
  keepOrder(this, "the chat step starts the Firefox resident's call that the call of three continues");
  this.timeout(240_000);
  let rt: RuntimeHandle;
  let smtp: TestSmtpServer;
  let chromium: Browser;
  let firefox: FirefoxBrowser;
  let resident: FirefoxPage;
  let agent: Page;

  before(async () => {
    smtp = await startTestSmtp();
    const dataDir = tempDir('idv-extras-ff-');
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(defaultFlowsOpenNow(ROOT)));
    rt = await startRuntime({ dataDir, timeoutMs: 60_000, env: { SMTP_URL: smtp.url } });
    chromium = await launchBrowser();
    firefox = await launchFirefox();
  });

  after(async () => {
    await firefox?.close().catch(() => undefined);
    await chromium?.close();
    await rt?.stop();
    await smtp?.stop();
    if (rt) fs.rmSync(rt.dataDir, { recursive: true, force: true });
  });

  const linkTo = (address: string) =>
    waitFor(`the link mailed to ${address}`, async () => {
      for (const m of smtp.received) if (m.envelope.to[0] === address) {
        const link = /https?:\/\/\S+\/v\/[A-Za-z0-9_-]{43}/.exec(m.parsed.text ?? '')?.[0];
        if (link) return link;
      }
      return undefined;
    }, 60_000);

  async function chromiumPage(): Promise<Page> {
    const ctx = await chromium.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1366, height: 768 } });
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  const text = (page: FirefoxPage, selector: string) => page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.innerText ?? ''`) as Promise<string>;

  it('chat both ways while the Firefox resident waits', async () => {
    // The first free time (the schedule is open now): booked through the public JSON API as an embedding site would.
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString().slice(0, 10);
    const slots = (await (await fetch(`${rt.url}/afspraak/slots?from=${today}&to=${tomorrow}`)).json()) as { start: string }[];
    const booked = await fetch(`${rt.url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: slots[0].start, topic: 'Paspoort aanvragen', name: 'Firefox Inwoner', email: RESIDENT }),
    });
    assert.equal(booked.status, 201, await booked.clone().text());

    const ctx = await firefox.createBrowserContext();
    resident = await ctx.newPage();
    await resident.evaluateOnNewDocument(RECORD_PEER_CONNECTIONS);
    await resident.goto(await linkTo(RESIDENT));
    await resident.waitForSelector('#start-call:enabled', { timeout: 20_000 });
    await resident.click('#start-call');
    await resident.waitForSelector('#chat-log', { visible: true, timeout: 20_000 });

    agent = await chromiumPage();
    await signIn(agent, rt.url, 'agent1', '/agent');
    const row = agent.locator('li[data-appointment-id][data-waiting="true"]').first();
    await row.waitFor({ timeout: 30_000 });
    await row.locator('.idv-row-chat > summary').click();
    await row.locator('.idv-chat input').fill('Welkom, ik kom zo bij u.');
    await row.locator('.idv-chat input').press('Enter');
    await waitFor('Firefox reads the agent', async () => /ik kom zo bij u/.test(await text(resident, '#chat-log')));
    // Keyboard only in Firefox: focus the box, type, Enter.
    await resident.focus('#chat-text');
    await resident.keyboard.type('Mijn naam is Ĳsbrand <i>Ötzi</i>');
    await resident.keyboard.press('Enter');
    await waitFor('the agent reads Firefox', async () => (await row.locator('.idv-chat-log').innerText()).includes('Ĳsbrand <i>Ötzi</i>'));
    assert.equal(await resident.evaluate(`document.querySelectorAll('#chat-log i').length`), 0, 'markup stays text in Firefox');
    const v = await axeViolations(resident);
    assert.equal(v.length, 0, `Firefox waiting room with the chat: ${describeViolations(v)}`);
    await row.locator('button.idv-join').click();
    await resident.waitForSelector('#call', { visible: true, timeout: 30_000 });
    await assertMediaFlows(resident, 'Firefox resident');
  });

  it('a call of three with the Firefox resident: both others seen and heard on every side', async () => {
    await agent.selectOption('#guest-kind', 'sign_language_interpreter');
    await agent.fill('#guest-email', GUEST);
    await agent.click('.idv-guest-form button[type="submit"]');
    const guest = await chromiumPage();
    await guest.goto(await linkTo(GUEST));
    await guest.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await guest.click('#start-call');
    await agent.locator('.idv-guest-admit').waitFor({ timeout: 20_000 });
    await agent.click('.idv-guest-admit');
    await guest.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFromTwo(resident, 'Firefox resident');
    await assertMediaFromTwo(guest, 'Chromium interpreter');
    await assertMediaFromTwo(agent, 'Chromium agent');
    const v = await axeViolations(resident);
    assert.equal(v.length, 0, `Firefox in a call of three: ${describeViolations(v)}`);
    await agent.click('#hang-up');
    await resident.waitForSelector('#ended', { visible: true, timeout: 15_000 });
  });
});
