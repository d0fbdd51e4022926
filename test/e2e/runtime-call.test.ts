/**
 * The call and the identification through the real runtime with the shipped default flows (flows/flows.json, open
 * around the clock), the real nodes and the real media worker in the runtime's own process tree. The fast harnesses
 * (test/e2e/call.test.ts, identification.test.ts) mount library routes in the test process; this file proves the
 * same through Node-RED: the worker killed under the runtime, and the values deleted because the call ended (the
 * media server's real events, no "Verwijder nu"), seen from outside the process only (pages, /auth, /admin-log,
 * /healthz).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { LOG_CODES } from '../../lib/identification/texts';
import { axeViolations, describeViolations } from '../support/browser';
import { assertMediaFlows, mediaFlow, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { linkFromMail, signIn, startWithDefaultFlows, type PagesHarness } from '../support/pages';
import { childPids } from '../support/runtime';

const BSN = '999993653';

describe('a call and an identification through the real runtime and its default flows', function () {
  this.timeout(240_000);
  let h: PagesHarness;
  let resident: Page;
  let agent: Page;
  let appointmentId: string;
  /** When the resident first started the call (the quality reports cannot cover more than the time since). */
  let callStarted = 0;

  before(async () => {
    h = await startWithDefaultFlows('idv-runtime-call-');
  });
  after(async () => {
    await h?.close();
  });

  async function newPage(): Promise<Page> {
    const ctx = await h.browser.newContext({ permissions: ['camera', 'microphone'] });
    h.contexts.push(ctx);
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    return ctx.newPage();
  }

  /** Books the first free slot through the JSON API of the default booking node. */
  async function book(email: string): Promise<string> {
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const slots = (await (await fetch(`${h.base}/afspraak/slots?from=${day}&to=${next}`)).json()) as { start: string; available: number }[];
    const slot = slots.find((s) => s.available > 0);
    assert.ok(slot, 'a free slot');
    const res = await fetch(`${h.base}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: slot.start, name: 'Inwoner Runtime', email }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }

  /** A running call of a fresh booking: the resident from the mail's link, the agent it is planned for joins. */
  async function callOfNewBooking(email: string): Promise<void> {
    appointmentId = await book(email);
    const reader = await newPage();
    await signIn(reader, h.base, 'agent1', '/dev/mail');
    const link = await linkFromMail(reader, h.base, email);
    await reader.context().close();
    resident = await newPage();
    await resident.goto(link);
    assert.equal(new URL(resident.url()).pathname, '/call');
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    callStarted = Date.now();
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });
    const dashboards: Page[] = [];
    for (const username of ['agent1', 'agent2']) {
      const p = await newPage();
      await signIn(p, h.base, username, '/agent');
      dashboards.push(p);
    }
    const row = (p: Page) => p.locator(`li[data-appointment-id="${appointmentId}"][data-waiting="true"]`);
    agent = await waitFor('the planned agent sees the resident waiting', async () => {
      for (const p of dashboards) if ((await row(p).count()) > 0) return p;
      return undefined;
    }, 30_000);
    for (const p of dashboards) if (p !== agent) await p.context().close();
    await row(agent).locator('.idv-join').click();
    await agent.locator('#call').waitFor({ state: 'visible' });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(resident, 'resident');
    await assertMediaFlows(agent, 'agent');
  }

  it('a media worker killed under the runtime: both sides get media again without a reload', async () => {
    await callOfNewBooking('worker@example.nl');
    await resident.evaluate(`window.__idvNoReload = true`);
    const before = { resident: (await mediaFlow(resident)).pcs, agent: (await mediaFlow(agent)).pcs };
    const workers = childPids(h.rt.proc.pid as number);
    assert.ok(workers.length >= 1, 'the runtime runs media workers as its children');
    // The runtime says a worker died and that it started a new one: expected lines, not faults of this test.
    h.rt.log.allow(/media worker|mediasoup/i);
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    await assertMediaFlows(resident, 'resident after the worker was killed', before.resident + 1);
    await assertMediaFlows(agent, 'agent after the worker was killed', before.agent + 1);
    assert.equal(await resident.evaluate(`window.__idvNoReload === true`), true, 'no reload');
    await waitFor('new workers', async () => {
      const now = childPids(h.rt.proc.pid as number);
      return now.length === workers.length && now.every((p) => !workers.includes(p));
    });
    const health = await fetch(`${h.base}/healthz`);
    assert.equal(health.status, 200, await health.text());
  });

  it('identified through the real nodes; the end of the call deletes the values without "Verwijder nu"', async () => {
    await callOfNewBooking('ident@example.nl');
    await agent.selectOption('#idv-ident-purpose', { index: 0 });
    await agent.click('#idv-ident-ask');
    await resident.locator('dialog.idv-identify-dialog[open]').waitFor({ timeout: 15_000 });
    await resident.click('a.idv-identify-method[data-method="demo-digid"]');
    await resident.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    const idp = new URL(resident.url()).origin;
    let callbackUrl = '';
    resident.on('request', (r) => {
      if (new URL(r.url()).pathname === '/auth/callback') callbackUrl = r.url();
    });
    await resident.check('input[name="account"][value="jan"]');
    await resident.click('button[name="do"][value="login"]');
    await resident.locator('button[name="do"][value="allow"]').click();
    await resident.waitForURL((u) => u.pathname === '/call', { timeout: 30_000 });
    const verified = agent.locator('.idv-ident-verified');
    await verified.waitFor({ timeout: 30_000 });
    assert.equal(await verified.locator('dd[data-key="bsn"]').innerText(), BSN);
    const setId = (await verified.getAttribute('data-set')) ?? '';
    assert.match(setId, /^[A-Za-z0-9_-]{16,}$/);
    const values = () => agent.request.get(`${h.base}/auth/agent/sets/${setId}`, { headers: { accept: 'application/json' } });
    const held = await values();
    assert.equal(held.status(), 200, 'the agent can read the values while the call runs');
    assert.match(await held.text(), new RegExp(BSN));
    const healthWith = (await (await fetch(`${h.base}/healthz`)).json()) as { identification: { detail: string } };
    assert.match(healthWith.identification.detail, /^1 attribute sets/);

    // The OIDC return once more: a reload of the call page, the callback again in a second tab of the same browser
    // (the same outcome, nothing new), and in another browser (refused). Still one set, the agent told nothing new.
    assert.ok(callbackUrl, 'the browser came back through /auth/callback');
    const reloaded = await resident.reload();
    assert.equal(reloaded?.status(), 200);
    // The reload left the call (the device check again): back in, as a person would.
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await resident.click('#start-call');
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    const tab = await resident.context().newPage();
    await tab.goto(callbackUrl);
    assert.equal(new URL(tab.url()).pathname, '/call', 'the same call session returning again: back in the call');
    await tab.close();
    const stranger = await newPage();
    const refused = await stranger.goto(callbackUrl);
    // A browser without the call session is sent to the call page, which refuses it in words (403, link not valid).
    assert.equal(refused?.status(), 403, `another browser: ${refused?.status()} at ${stranger.url()}`);
    assert.equal(new URL(stranger.url()).pathname, '/call');
    assert.match(await stranger.locator('main').innerText(), /ongeldig|niet geldig|verlopen/i);
    assert.doesNotMatch(await stranger.locator('body').innerText(), new RegExp(BSN));
    const healthAgain = (await (await fetch(`${h.base}/healthz`)).json()) as { identification: { detail: string } };
    // When this fails, the runtime's own lines about the call say what ended it (seen twice under load, not explained yet).
    const about = () => {
      const db = new Database(path.join(h.rt.dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
      try {
        const log = db.prepare('SELECT at, actor, action, detail FROM processing_log WHERE appointment_id = ? ORDER BY id').all(appointmentId);
        return `${JSON.stringify(log)}\n${h.rt.output().split('\n').filter((l) => /worker|room|call|delet|ended|expired/i.test(l)).slice(-15).join('\n')}`;
      } finally {
        db.close();
      }
    };
    assert.match(healthAgain.identification.detail, /^1 attribute sets/, `the returns added nothing: ${healthAgain.identification.detail}\n${about()}`);
    // The test provider's own error page (an expired or unknown interaction) passes axe too.
    await stranger.goto(`${idp}/interaction/unknown-or-expired`);
    assert.match(await stranger.locator('body').innerText(), /verlopen of ongeldig/);
    const axe = await axeViolations(stranger);
    assert.equal(axe.length, 0, describeViolations(axe));


    // The agent ends the call; nobody presses "Verwijder nu".
    await agent.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible', timeout: 20_000 });
    await verified.waitFor({ state: 'detached', timeout: 15_000 });
    await waitFor('the values gone from the runtime', async () => (await values()).status() === 404);
    const healthAfter = (await (await fetch(`${h.base}/healthz`)).json()) as { identification: { detail: string } };
    assert.match(healthAfter.identification.detail, /^0 attribute sets/);

    // Both pages reported the call's connection quality at its end (statistics, issue 14): milliseconds per state for
    // each side, adding up to a good part of the call, never more than it lasted.
    const quality = () => {
      const db = new Database(path.join(h.rt.dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT side, good_ms, poor_ms, none_ms FROM call_quality WHERE appointment_id = ? ORDER BY side').all(appointmentId) as { side: string; good_ms: number; poor_ms: number; none_ms: number }[];
      } finally {
        db.close();
      }
    };
    await waitFor('both sides reported the quality', async () => quality().length === 2).catch((e: Error) => {
      throw new Error(`${e.message}; rows: ${JSON.stringify(quality())}`);
    });
    const callMs = Date.now() - callStarted;
    for (const q of quality()) {
      const total = q.good_ms + q.poor_ms + q.none_ms;
      assert.ok(total >= 1000 && total <= callMs, `${q.side}: ${total} ms reported for a call of ${callMs} ms`);
    }
    assert.deepEqual(quality().map((q) => q.side), ['agent', 'resident']);

    const admin = await newPage();
    await signIn(admin, h.base, 'admin', `/admin-log?appointment=${appointmentId}`);
    const rows = await admin.locator('main tbody tr').evaluateAll((trs) => trs.map((tr) => (tr.textContent ?? '').replace(/\s+/g, ' ')));
    // The log says it in words, in the page's language (LOG_CODES): "Deleted … call ended" / "Verwijderd … gesprek beëindigd".
    const said = (code: string) => new RegExp(`\\b(${LOG_CODES.nl[code]}|${LOG_CODES.en[code]})\\b`);
    assert.ok(rows.some((r) => said('deleted').test(r) && said('call_ended').test(r)), `a "deleted … call ended" row in:\n${rows.join('\n')}`);
    assert.ok(!rows.some((r) => said('agent_deleted').test(r)), 'not deleted by the agent');
    assert.ok(!rows.join('\n').includes(BSN), 'no values in the processing log');
    assert.ok(!h.rt.output().includes(BSN), 'no values in the runtime log');
  });
});
