/**
 * ID Video in ID Contact end to end: the real runtime (child process) with an idv-idcontact-core whose keys and
 * secret are credentials, a stand-in ID Contact core and auth plugin built from the published protocol, and Debian's
 * Chromium for the resident and the agent.
 *
 *   the core calls start_communication -> the resident follows client_url into the waiting room -> the agent sees
 *   them waiting and joins -> the agent asks for identification -> the pop-up lists the core's methods -> the resident
 *   signs in at the plugin -> the plugin posts the result to the attr_url and sends the resident back (comm_url) ->
 *   the values on the agent's screen -> "Verwijder nu" -> a second session started with an auth_result: the values
 *   wait for the agent who takes the call.
 *
 * Afterwards the runtime's whole output and every file of its data dir are searched for the values.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { waitFor } from '../support/call-media';
import { writeFlowCredentials } from '../support/credentials';
import { baseFlows } from '../support/flows';
import { startIdContactStandIn, type StandIn } from '../support/idcontact-core';
import { generateKeys, type KeyPairPem } from '../support/idcontact-tokens';
import { signIn } from '../support/pages';
import { startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { keepOrder } from '../support/test-order';

const SECRET = 'e2e-credential-secret-0123456789abcdef';
const START_SECRET = 'e2e-start-communication-secret-0123456789';
const PERSON = { bsn: '999993653', fullname: 'Jan Idcontact-Eteen' };
const SECOND = { bsn: '999990019', fullname: 'Sophie Idcontact' };

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('ID Video in ID Contact (runtime, stand-in core, Chromium)', function () {
  keepOrder(this, 'the first step starts the ID Contact session the next steps identify in, and the last needs the first agent still busy with it');
  this.timeout(120_000);
  let rt: RuntimeHandle;
  let browser: Browser;
  let core: StandIn;
  let ours: KeyPairPem;
  let plugin: KeyPairPem;
  let resident: Page;
  let agent: Page;
  const contexts: BrowserContext[] = [];
  const browserLog: string[] = [];
  const basic = `Basic ${Buffer.from(`core:${START_SECRET}`).toString('base64')}`;

  async function newPage(viewport = { width: 1366, height: 768 }): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'], viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('console', (m) => browserLog.push(m.text()));
    return page;
  }

  before(async () => {
    [ours, plugin] = await Promise.all([generateKeys('rsa'), generateKeys('rsa')]);
    core = await startIdContactStandIn({
      purpose: 'report_move',
      attributes: ['bsn', 'fullname'],
      authMethods: [{ tag: 'digid', name: 'DigiD' }, { tag: 'irma', name: 'Yivi' }],
      commPublicKey: ours.publicKey,
      pluginSignKey: plugin.privateKey,
      person: PERSON,
    });
    const dataDir = tempDir('idv-e2e-idcontact-');
    const attributes = JSON.stringify([
      { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' },
      { claim: 'fullname', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
    ]);
    const flows = [
      ...baseFlows('ID Contact'),
      { id: 'dash', type: 'idv-agent-dashboard', z: 'tab', settings: 'settings', days: 14, wires: [[]] },
      { id: 'idc-core', type: 'idv-idcontact-core', coreUrl: core.coreUrl, purpose: 'report_move', methodPrefix: 'idc', attributes, allowInsecureLoopback: true, startAuth: 'secret' },
      { id: 'ask', type: 'idv-request-auth', z: 'tab', settings: 'settings', idcontact: 'idc-core', attributes: 'bsn, name', purposes: 'Verhuizing controleren', button: true, demoMethods: false, wires: [[]] },
      { id: 'receive', type: 'idv-receive-attributes', z: 'tab', settings: 'settings', wires: [['show'], []] },
      { id: 'show', type: 'idv-show-to-agent', z: 'tab', wires: [[]] },
      { id: 'session', type: 'idv-idcontact-session', z: 'tab', core: 'idc-core', settings: 'settings', path: '/idcontact', topic: 'Videogesprek via ID Contact', agents: 'agent1, agent2', durationMinutes: 30, wires: [[]] },
    ];
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows, null, 2));
    writeFlowCredentials(dataDir, SECRET, { 'idc-core': { decryptionKey: ours.privatePem, signingKeys: plugin.publicPem, startSecret: START_SECRET } });
    rt = await startRuntime({ dataDir, env: { IDV_CREDENTIAL_SECRET: SECRET }, timeoutMs: 60_000 });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    const output = rt ? rt.output() : '';
    if (rt) await rt.stop();
    await core?.close();
    if (!rt) return;
    const files = filesUnder(rt.dataDir).map((f) => fs.readFileSync(f).toString('latin1'));
    fs.rmSync(rt.dataDir, { recursive: true, force: true });
    const everything = [output, ...files, ...browserLog].join('\n');
    for (const v of [...Object.values(PERSON), ...Object.values(SECOND)]) assert.ok(!everything.includes(v), `the value ${v.slice(0, 3)}… is in the runtime's log, the data dir or the browser console`);
    assert.ok(!output.includes(START_SECRET) && !everything.includes(ours.privatePem.slice(40, 100)), 'no secret or key in the log or the data dir');
    assert.ok(!/\[error\]/.test(output), `no errors in the runtime log:\n${output.split('\n').filter((l) => /\[error\]/.test(l)).join('\n')}`);
  });

  it('the core starts a video session: the resident goes from client_url to the waiting room, the agent sees them waiting and joins', async () => {
    const res = await core.startCommunication(`${rt.url}/idcontact`, { purpose: 'report_move' }, { authorization: basic });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(core.schemaViolations, []);
    resident = await newPage({ width: 390, height: 844 });
    await resident.goto(String(res.json?.client_url));
    assert.equal(new URL(resident.url()).pathname, '/call', 'the link leads into the call page (device check first)');
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await resident.click('#start-call');

    agent = await newPage();
    await signIn(agent, rt.url, 'agent1', '/agent');
    const row = agent.locator('li[data-waiting="true"]');
    await row.first().waitFor({ timeout: 20_000 });
    assert.match(await row.first().innerText(), /Videogesprek via ID Contact/);
    await row.first().locator('.idv-join').click();
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await agent.locator('#idv-ident-ask').waitFor({ state: 'visible', timeout: 10_000 });
  });

  it("the agent asks: the pop-up lists the core's methods; DigiD at the plugin; back in the call; the values on the agent's screen only", async () => {
    await agent.click('#idv-ident-ask');
    const dialog = resident.locator('dialog.idv-identify-dialog[open]');
    await dialog.waitFor({ timeout: 10_000 });
    assert.match(await dialog.innerText(), /DigiD/);
    assert.match(await dialog.innerText(), /Yivi/);
    const logo = dialog.locator('a[data-method="idc-digid"] img');
    assert.match((await logo.getAttribute('src')) ?? '', /^\/auth\/logos\/idc\/[0-9a-f]{32}$/, "the core's image, from our own origin");
    assert.ok(await logo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), 'the image loads under the call page CSP');
    const axe = await axeViolations(resident);
    assert.equal(axe.length, 0, describeViolations(axe));

    await resident.click('a[data-method="idc-digid"]');
    await resident.waitForURL((u) => u.href.startsWith(`${core.pluginUrl}/confirm/`), { timeout: 10_000 });
    await resident.click('#idc-login');
    await resident.waitForURL((u) => u.pathname === '/call', { timeout: 15_000 });
    assert.equal(new URL(resident.url()).search, '', 'nothing of the result in the address bar');
    await resident.locator('#idv-identify-banner').waitFor({ timeout: 10_000 });
    assert.match(await resident.locator('#idv-identify-banner').innerText(), /Het inloggen is gelukt/);
    assert.equal(core.deliveries.at(-1)?.status, 200, 'the plugin delivered to the attr_url');
    assert.deepEqual(core.schemaViolations, []);
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    assert.ok(!(await resident.content()).includes(PERSON.bsn), "no value on the resident's page");

    const values = agent.locator('.idv-ident-verified');
    await values.waitFor({ timeout: 15_000 });
    assert.equal(await values.locator('dd[data-key="bsn"]').innerText(), PERSON.bsn);
    assert.equal(await values.locator('dd[data-key="name"]').innerText(), PERSON.fullname);
    assert.match(await values.innerText(), /DigiD/);
  });

  it('"Verwijder nu" takes them off the screen', async () => {
    await agent.click('.idv-ident-verified .idv-ident-delete');
    await agent.locator('.idv-ident-verified').waitFor({ state: 'detached' });
    await waitFor('the deleted notice', async () => /verwijderd/.test(await agent.locator('#idv-ident-status').innerText()), 10_000);
  });

  it('a session the core starts with an auth_result goes to the free agent of the group, who sees the values on joining', async () => {
    await resident.context().close();
    const token = await core.seal({ bsn: SECOND.bsn, fullname: SECOND.fullname });
    const res = await core.startCommunication(`${rt.url}/idcontact`, { purpose: 'report_move', auth_result: token }, { authorization: basic });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    // agent1 holds the first session's half hour: the least busy free agent of the group is agent2.
    const second = await newPage({ width: 390, height: 844 });
    await second.goto(String(res.json?.client_url));
    await second.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await second.click('#start-call');
    const agent2 = await newPage();
    await signIn(agent2, rt.url, 'agent2', '/agent');
    const row = agent2.locator('li[data-waiting="true"]');
    await row.first().waitFor({ timeout: 20_000 });
    await row.first().locator('.idv-join').click();
    const values = agent2.locator('.idv-ident-verified');
    await values.waitFor({ timeout: 15_000 });
    assert.equal(await values.locator('dd[data-key="bsn"]').innerText(), SECOND.bsn);
    assert.equal(await values.locator('dd[data-key="name"]').innerText(), SECOND.fullname);
    assert.equal(await agent.locator('.idv-ident-verified').count(), 0, 'not on the other agent\'s screen');
  });
});
