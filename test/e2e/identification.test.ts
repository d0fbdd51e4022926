/**
 * Identification end to end in Debian's Chromium, in demo mode: the agent asks in a running call -> the pop-up appears
 * in the resident's call -> login and consent at the demo provider (the real oidc-provider on loopback) -> back in the
 * call, which rejoins by itself -> the verified values on the agent's screen. Then "Verwijder nu" and the TTL take them
 * out of the cache itself, and nothing of them appears in any log line of the run.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { identifyOnce, startCall, startIdentHarness, waitFor, type IdentHarness } from './identification-harness';

const VALUES = ['999993653', 'Jan Jansen', '1980-01-01', '999990019', 'Sophie de Vries'];

describe('identification in Chromium (e2e)', function () {
  this.timeout(180_000);
  let h: IdentHarness;
  let resident: Page;
  let agent: Page;

  before(async () => {
    h = await startIdentHarness();
    ({ resident, agent } = await startCall(h));
  });
  after(async () => {
    const logs = h?.logs.join('\n') ?? '';
    await h?.close();
    for (const v of VALUES) assert.ok(!logs.includes(v), `a value leaked into the server or browser log (${v.slice(0, 3)}…)`);
  });

  /** Takes values an earlier test left on the agent's screen off it, so each test starts from none (any order). */
  async function noValuesShown(): Promise<void> {
    const shown = agent.locator('.idv-ident-verified');
    for (let n = await shown.count(); n > 0; n = await shown.count()) {
      await shown.first().locator('.idv-ident-delete').click();
      await waitFor('the values taken off the screen', async () => (await shown.count()) < n);
    }
    await waitFor('no set left in the cache', async () => h.id.cache.stats().sets === 0);
  }

  it('agent asks -> accessible pop-up in the call -> DigiD (TEST) -> back in the call -> values on the agent screen only', async () => {
    await noValuesShown();
    await agent.selectOption('#idv-ident-purpose', { index: 0 });
    await agent.click('#idv-ident-ask');
    const dialog = resident.locator('dialog.idv-identify-dialog[open]');
    await dialog.waitFor({ timeout: 10_000 });
    assert.match(await dialog.innerText(), /De medewerker vraagt u om in te loggen/);
    assert.match(await dialog.innerText(), /DigiD \(TEST — geen echte DigiD\)/);
    assert.match(await dialog.innerText(), /BSN/);
    assert.equal(await resident.evaluate(`document.activeElement && document.activeElement.id`), 'idv-identify-title', 'focus moves into the dialog');
    const axe = await axeViolations(resident);
    assert.equal(axe.length, 0, describeViolations(axe));
    // Tab stays inside the dialog (focus trap).
    for (let i = 0; i < 6; i++) await resident.keyboard.press('Tab');
    assert.equal(await resident.evaluate(`!!document.activeElement.closest('dialog')`), true);

    await resident.click('a.idv-identify-method[data-method="demo-digid"]');
    await resident.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    assert.match(await resident.locator('body').innerText(), /TEST|test/);
    await resident.check('input[name="account"][value="jan"]');
    await resident.click('button[name="do"][value="login"]');
    await resident.locator('button[name="do"][value="allow"]').click();

    await resident.waitForURL((u) => u.pathname === '/call');
    assert.equal(new URL(resident.url()).search, '', 'the outcome code is taken out of the address bar');
    await resident.locator('#idv-identify-banner').waitFor();
    assert.match(await resident.locator('#idv-identify-banner').innerText(), /U bent weer terug in het gesprek/);
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor('resident back in the room', async () => h.call.presence.get(h.appointmentId).resident);
    assert.ok(!(await resident.content()).includes('999993653'), "no value on the resident's page");

    const values = agent.locator('.idv-ident-verified');
    await values.waitFor({ timeout: 15_000 });
    assert.equal(await values.locator('dd[data-key="bsn"]').innerText(), '999993653');
    assert.equal(await values.locator('dd[data-key="name"]').innerText(), 'Jan Jansen');
    assert.match(await values.innerText(), /substantieel/);
    assert.match(await values.innerText(), /Geverifieerd/);
    assert.match(await values.locator('.idv-ident-countdown').innerText(), /^1[45]:\d\d$/);
    const axeAgent = await axeViolations(agent);
    assert.equal(axeAgent.length, 0, describeViolations(axeAgent));
    assert.equal(h.id.cache.stats().sets, 1);
  });

  it('"Verwijder nu" removes them from the screen and from the cache itself', async () => {
    // Its own values (the first test's, when it ran just before, are taken off first). Sophie: the first test needs
    // Jan's first consent.
    await noValuesShown();
    await identifyOnce(h, resident, agent, 'sophie');
    assert.equal(h.id.cache.stats().sets, 1);
    await agent.click('.idv-ident-verified .idv-ident-delete');
    await agent.locator('.idv-ident-verified').waitFor({ state: 'detached' });
    assert.equal(h.id.cache.stats().sets, 0);
    await waitFor('the deleted notice', async () => /verwijderd/.test(await agent.locator('#idv-ident-status').innerText()));
  });

  it('Annuleren (Escape) in the pop-up: the agent reads "Identificatie geannuleerd"', async () => {
    await noValuesShown();
    await agent.click('#idv-ident-ask');
    await resident.locator('dialog.idv-identify-dialog[open]').waitFor({ timeout: 10_000 });
    await resident.keyboard.press('Escape');
    await resident.locator('dialog.idv-identify-dialog').waitFor({ state: 'detached' });
    await waitFor('the cancelled notice', async () => /Identificatie geannuleerd/.test(await agent.locator('#idv-ident-status').innerText()));
    assert.equal(h.id.cache.stats().sets, 0);
  });

  it('after the TTL the values are gone from the screen and the cache', async () => {
    await noValuesShown();
    h.id.setAttributeTtlSeconds(3);
    try {
      await identifyOnce(h, resident, agent, 'sophie');
      assert.equal(h.id.cache.stats().sets, 1);
      await agent.locator('.idv-ident-verified').waitFor({ state: 'detached', timeout: 10_000 });
      await waitFor('expiry in the cache', async () => h.id.cache.stats().sets === 0, 5000);
    } finally {
      // The other tests expect the 15 minutes, also when this one failed.
      h.id.setAttributeTtlMinutes(15);
    }
  });
});
