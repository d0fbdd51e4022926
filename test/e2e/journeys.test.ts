/**
 * Both journeys of DESIGN.md end to end, through the real runtime started with the default flows (flows/flows.json),
 * in Debian's Chromium, with the built-in mail catcher and the demo identity provider:
 *
 *   book (resident on the website / KCC employee for a caller) → read the mail → open the link → the agent signs in,
 *   sees the appointment and joins → video both ways → the agent asks for identification → the resident logs in at the
 *   test provider → the agent sees name and BSN → the agent deletes them → the call ends → the processing log shows the
 *   request without values.
 *
 * The only change to the default flows: the schedule is open around the clock with no notice, and links open a day
 * ahead, so the appointment booked now can be held now whatever time CI runs. With IDV_SCREENSHOTS=1 the test writes
 * the README's walkthrough screenshots to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { assertMediaFlows, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { linkFromMail, signIn, startWithDefaultFlows, type PagesHarness } from '../support/pages';
import { ROOT, tempDir, type RuntimeHandle } from '../support/runtime';

const SHOTS = process.env.IDV_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : tempDir('idv-shots-');
const BSN = '999993653';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function noViolations(page: Page, what: string): Promise<void> {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
}

describe('both journeys end to end (default flows, Chromium, mail catcher, demo identity provider)', function () {
  this.timeout(300_000);
  let rt: RuntimeHandle;
  let browser: Browser;
  let base: string;

  let h: PagesHarness;

  before(async () => {
    h = await startWithDefaultFlows('idv-journeys-');
    ({ rt, browser, base } = h);
  });

  after(async () => {
    await h?.close();
  });

  /** No attribute value in the runtime's log so far: each journey checks it at its end, so it holds in any order. */
  function noValueInLog(): void {
    const out = rt.output();
    assert.doesNotMatch(out, new RegExp(BSN), 'the BSN in the runtime log');
    assert.doesNotMatch(out, /1980-01-01/, 'the birth date in the runtime log');
  }

  /** Each journey closes its browsers: open dashboards and calls would otherwise keep the machine busy. */
  async function closeAll(): Promise<void> {
    for (const c of h.contexts.splice(0)) await c.close().catch(() => undefined);
  }

  /** Staff work on a laptop; the resident of the walkthrough calls from a phone (390 × 844). */
  async function newPage(viewport = { width: 1366, height: 768 }): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'], viewport });
    h.contexts.push(ctx);
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  /** From the access links onwards both journeys are the same: call, identification, deletion, end, log. */
  async function callAndIdentify(journey: string, residentEmail: string, shots: boolean): Promise<string> {
    // Read the resident's mail in /dev/mail (as an employee) and take the access link from it.
    const mailReader = await newPage();
    await signIn(mailReader, base, 'agent1', '/dev/mail');
    const residentLink = await linkFromMail(mailReader, base, residentEmail);
    if (shots) await shot(mailReader, `${journey}-3-mail`);

    // The resident opens the link from the mail: device check, then the waiting room.
    const resident = await newPage({ width: 390, height: 844 });
    await resident.goto(residentLink);
    assert.equal(new URL(resident.url()).pathname, '/call', 'the link leads into the call page');
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    if (shots) await shot(resident, `${journey}-4-device-check`);
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });
    assert.match(await resident.locator('#waiting-heading').innerText(), /De medewerker komt zo bij u/);

    // Both agents sign in; the one the appointment was assigned to sees the resident waiting, and joins.
    const dashboards: Page[] = [];
    for (const username of ['agent1', 'agent2']) {
      const p = await newPage();
      await signIn(p, base, username, '/agent');
      dashboards.push(p);
    }
    const agent = await waitFor('the appointment on a dashboard with the resident waiting', async () => {
      for (const p of dashboards) if ((await p.locator('li[data-appointment-id][data-waiting="true"]').count()) > 0) return p;
      return undefined;
    }, 30_000);
    await noViolations(agent, `${journey}: dashboard`);
    if (shots) await shot(agent, `${journey}-5-dashboard`);
    const appointmentId = (await agent.locator('li[data-appointment-id][data-waiting="true"]').first().getAttribute('data-appointment-id')) ?? '';
    assert.ok(appointmentId, 'the waiting row names its appointment');
    await agent.locator(`li[data-appointment-id="${appointmentId}"] button`).first().click();
    await agent.locator('#call').waitFor({ state: 'visible' });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(resident, `${journey}: resident`);
    await assertMediaFlows(agent, `${journey}: agent`);
    if (shots) {
      await shot(resident, `${journey}-6-call-resident`);
      await shot(agent, `${journey}-6-call-agent`);
    }

    // Identification: the agent asks, the pop-up appears in the resident's call, DigiD (TEST) at the demo provider.
    await agent.selectOption('#idv-ident-purpose', { index: 0 });
    await agent.click('#idv-ident-ask');
    const dialog = resident.locator('dialog.idv-identify-dialog[open]');
    await dialog.waitFor({ timeout: 15_000 });
    await noViolations(resident, `${journey}: identification pop-up`);
    if (shots) await shot(resident, `${journey}-7-popup`);
    await resident.click('a.idv-identify-method[data-method="demo-digid"]');
    await resident.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    assert.match((await resident.locator('body').innerText()) ?? '', /TEST — geen echte DigiD/);
    if (shots) await shot(resident, `${journey}-8-test-provider`);
    await resident.check('input[name="account"][value="jan"]');
    await resident.click('button[name="do"][value="login"]');
    await resident.locator('button[name="do"][value="allow"]').click();
    await resident.waitForURL((u) => u.pathname === '/call', { timeout: 30_000 });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(resident, `${journey}: resident back in the call`);

    // The agent sees the verified name and BSN, apart from the name typed at booking.
    const verified = agent.locator('.idv-ident-verified');
    await verified.waitFor({ timeout: 30_000 });
    assert.equal(await verified.locator('dd[data-key="bsn"]').innerText(), BSN);
    assert.equal(await verified.locator('dd[data-key="name"]').innerText(), 'Jan Jansen');
    assert.doesNotMatch((await resident.locator('body').innerText()) ?? '', new RegExp(BSN), 'the resident page never shows the values');
    if (shots) await shot(agent, `${journey}-9-verified`);

    // "Verwijder nu": the resident's page stops saying the agent sees the data; then the agent ends the call for both.
    await agent.click('.idv-ident-verified .idv-ident-delete');
    await verified.waitFor({ state: 'detached' });
    await waitFor('the resident is told the data is gone', async () => /verwijderd/.test(await resident.locator('#identification-status').innerText()), 15_000);
    await agent.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await resident.locator('#ended-heading').innerText(), /De medewerker heeft het gesprek beëindigd/);
    await noViolations(resident, `${journey}: end of the call`);
    if (shots) await shot(resident, `${journey}-10-ended`);
    return appointmentId;
  }

  async function processingLogShows(appointmentId: string): Promise<void> {
    const admin = await newPage();
    await signIn(admin, base, 'admin', '/admin-log');
    const text = (await admin.textContent('main')) ?? '';
    assert.match(text, new RegExp(appointmentId.slice(0, 8)), 'the appointment is in the processing log');
    assert.match(text, /bsn/);
    assert.doesNotMatch(text, new RegExp(BSN), 'no values in the processing log');
    assert.doesNotMatch(text, /Jan Jansen/, 'no names in the processing log');
    await noViolations(admin, 'processing log');
  }

  it('journey 1: a resident books on the website and is identified in the call', async () => {
    const page = await newPage();
    await page.goto(`${base}/afspraak`);
    await noViolations(page, 'booking form');
    await shot(page, 'journey1-1-booking-form');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await page.check('input[name="time"] >> nth=0');
    await page.fill('#name', 'Jan Jansen');
    await page.fill('#email', 'jan.jansen@example.nl');
    await page.fill('#remarks', 'Mijn paspoort verloopt volgende maand.');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await noViolations(page, 'review');
    await shot(page, 'journey1-2-review');
    await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
    assert.match(new URL(page.url()).pathname, /bevestiging/);
    await noViolations(page, 'confirmation');
    await shot(page, 'journey1-2-confirmation');

    const id = await callAndIdentify('journey1', 'jan.jansen@example.nl', true);
    await processingLogShows(id);
    await closeAll();
    noValueInLog();
  });

  it('journey 2: the KCC books for a caller by phone, the rest is the same', async () => {
    const page = await newPage();
    await signIn(page, base, 'kcc1', '/kcc/afspraak');
    await noViolations(page, 'KCC form');
    await shot(page, 'journey2-1-kcc-form');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await page.check('input[name="time"] >> nth=0');
    await page.fill('#name', 'Sophie de Vries');
    await page.fill('#email', 'sophie.devries@example.nl');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
    assert.match((await page.textContent('main')) ?? '', /Sophie de Vries/);
    await shot(page, 'journey2-2-kcc-confirmation');

    const id = await callAndIdentify('journey2', 'sophie.devries@example.nl', false);
    await processingLogShows(id);
    await closeAll();
    noValueInLog();
  });

});
