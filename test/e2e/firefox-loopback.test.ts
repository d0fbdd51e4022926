/**
 * The fault Firefox users met with the old default: a media server on 127.0.0.1 (still possible with
 * IDV_MEDIA_LISTEN_IP=127.0.0.1). Firefox never pairs with a loopback candidate, so no media flows; the page must say
 * so in words within a bound instead of a reassuring status.
 */
import assert from 'node:assert/strict';
import type { Browser as FirefoxBrowser } from 'puppeteer-core';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { AGENT_PASSWORD, startCallServer, type CallServer } from '../support/call-server';
import { launchFirefox } from '../support/firefox';

describe('Firefox with a loopback media server (e2e)', function () {
  this.timeout(90_000);
  let s: CallServer;
  let firefox: FirefoxBrowser;
  let chromium: Browser;

  before(async () => {
    s = await startCallServer({ env: { IDV_MEDIA_LISTEN_IP: '127.0.0.1' } });
    firefox = await launchFirefox();
    chromium = await launchBrowser();
  });

  after(async () => {
    await firefox?.close().catch(() => undefined);
    await chromium?.close().catch(() => undefined);
    await s?.close();
  });

  it('with the media server on loopback (the old default) Firefox gets no media, and the page says so instead of "hersteld"', async () => {
    {
      const { id, residentLink } = await s.book('agent9');
      const resident = await (await firefox.createBrowserContext()).newPage();
      await resident.goto(residentLink);
      await resident.waitForSelector('#start-call:enabled', { timeout: 20_000 });
      await resident.click('#start-call');
      const agent = await (await chromium.newContext({ permissions: ['camera', 'microphone'] })).newPage();
      await agent.goto(`${s.base}/login?next=${encodeURIComponent(`/agent/call/${id}`)}`);
      await agent.fill('#username', 'agent9');
      await agent.fill('#password', AGENT_PASSWORD);
      await agent.click('main form button[type="submit"]');
      await resident.waitForSelector('#call', { visible: true, timeout: 20_000 });
      const alert = await resident.waitForSelector('.idv-media-problem:not([hidden])', { timeout: 40_000 });
      assert.match(String(await alert?.evaluate((d) => d.textContent)), /geen verbinding voor beeld en geluid/);
      assert.doesNotMatch(String(await resident.evaluate(`document.getElementById('status').textContent`)), /hersteld/);
    }
  });
});
