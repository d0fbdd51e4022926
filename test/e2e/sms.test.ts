/**
 * SMS through the real embedded runtime (`node dist/settings.js`): an idv-sms-gateway config node (credential in the
 * encrypted credentials file) pointing at a gateway stand-in on loopback that records requests. A resident books in
 * Chromium with "Stuur mij een sms" and a mobile number typed as people do; the gateway gets the confirmation with the
 * access link, which opens the call. Bad numbers get a clear 400; a gateway that answers 503 is retried, its problem
 * comes out of idv-session-link's second output with codes only, and neither the link nor the number reaches the log.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { waitFor } from '../support/call-media';
import { writeFlowCredentials } from '../support/credentials';
import { baseFlows } from '../support/flows';
import { Client } from '../support/http-client';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { DEMO_PASSWORD, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startSmsGateway, type SmsGatewayStandIn } from '../support/sms-gateway';
import { keepOrder } from '../support/test-order';

const SECRET = 'e2e-credential-secret-sms-0123456789abcdef';
const GATEWAY_KEY = 'Bearer sms-key-42-secret';
/** The secret of the delivery-report URL (idv-sms-gateway credential reportToken). */
const REPORT_SECRET = 'report-secret-0123456789abcdefghijklmnopqrstuv';

function flows(gatewayUrl: string) {
  return [
    ...baseFlows('sms e2e'),
    { id: 'sms-gw', type: 'idv-sms-gateway', name: 'Test gateway', preset: 'generic-json', url: gatewayUrl, from: 'Testdorp', authHeader: 'Authorization', timeoutSeconds: 5 },
    { id: 'book', type: 'idv-book-appointment', z: 'tab', schedule: 'schedule', settings: 'settings', sms: 'sms-gw', mode: 'resident', path: '/afspraak', topics: ['Paspoort aanvragen'], phone: 'off', wires: [['link']] },
    { id: 'book-kcc', type: 'idv-book-appointment', z: 'tab', schedule: 'schedule', settings: 'settings', sms: 'sms-gw', mode: 'kcc', path: '/kcc/afspraak', residentPath: '/afspraak', topics: ['Paspoort aanvragen'], phone: 'optional', wires: [['link']] },
    {
      id: 'link',
      type: 'idv-session-link',
      z: 'tab',
      settings: 'settings',
      sms: 'sms-gw',
      // A week: the first free slot is at least an hour away, and the test opens the link now.
      openBeforeMinutes: 10080,
      validAfterMinutes: 60,
      sendResident: true,
      sendAgent: false,
      agentEmails: [],
      wires: [[], ['problems']],
    },
    // Output 2 to the runtime's console, as an administrator's alerting flow would take it.
    { id: 'problems', type: 'debug', z: 'tab', active: true, tosidebar: false, console: true, tostatus: false, complete: 'true', targetType: 'full' },
  ];
}

async function firstSlot(base: string): Promise<string> {
  const from = new Date().toISOString().slice(0, 10);
  const to = new Date(Date.now() + 6 * 86_400_000).toISOString().slice(0, 10);
  const slots = (await (await fetch(`${base}/afspraak/slots?from=${from}&to=${to}`)).json()) as { start: string; available: number }[];
  const slot = slots.find((s) => s.available > 0);
  assert.ok(slot, 'a free slot within the week');
  return slot.start;
}

describe('SMS through the runtime (gateway stand-in on loopback)', function () {
  // Debt: the steps read the gateway stand-in's one request list by position, and the last one restarts the runtime
  // (found by IDV_TEST_ORDER=reverse under the CPU burner).
  keepOrder(this, 'the steps read one shared gateway request list by position; the last restarts the runtime');
  this.timeout(120_000);
  let dataDir: string;
  let gw: SmsGatewayStandIn;
  let rt: RuntimeHandle | undefined;
  let browser: Browser | undefined;

  before(async () => {
    gw = await startSmsGateway();
    dataDir = tempDir('idv-sms-e2e-');
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows(gw.url), null, 2));
    writeFlowCredentials(dataDir, SECRET, { 'sms-gw': { authValue: GATEWAY_KEY, reportToken: REPORT_SECRET } });
    rt = await startRuntime({ dataDir, env: { IDV_CREDENTIAL_SECRET: SECRET }, timeoutMs: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await rt?.stop();
    await gw.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a landline, a foreign number, a missing number and a strange opt-in with a clear message; books nothing', async () => {
    const base = (rt as RuntimeHandle).url;
    const start = await firstSlot(base);
    const book = (extra: Record<string, string>) =>
      fetch(`${base}/afspraak`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-language': 'nl' },
        body: JSON.stringify({ start, name: 'Jan de Vries', email: 'jan@example.org', topic: 'Paspoort aanvragen', ...extra }),
      });
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ sms: 'ja', phone: '020-1234567' }, 'phone', /vast nummer/],
      [{ sms: 'ja', phone: '+32 470 12 34 56' }, 'phone', /Buitenlandse nummers/],
      [{ sms: 'ja', phone: '0900 1234567' }, 'phone', /geen sms ontvangen/],
      [{ sms: 'ja', phone: '06-1234567' }, 'phone', /te kort/],
      [{ sms: 'ja' }, 'phone', /mobiele nummer in/],
      [{ sms: 'misschien', phone: '0612345678' }, 'sms', /Kies of u een sms wilt/],
    ];
    for (const [extra, field, message] of cases) {
      const res = await book(extra);
      assert.equal(res.status, 400, JSON.stringify(extra));
      const body = (await res.json()) as { error: string; fields?: Record<string, string> };
      assert.match(body.fields?.[field] ?? '', message, JSON.stringify(body));
      assert.ok(!JSON.stringify(body).includes('libphonenumber'), 'no library names');
    }
    assert.equal(gw.requests.length, 0);
  });

  it('a gateway that answers 503 is retried; output 2 says so with codes only', async () => {
    const base = (rt as RuntimeHandle).url;
    gw.answer({ status: 503 });
    const res = await fetch(`${base}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: await firstSlot(base), name: 'Piet Jansen', email: 'piet@example.org', topic: 'Paspoort aanvragen', sms: 'ja', phone: '06-12345678' }),
    });
    assert.equal(res.status, 201);
    const [req] = await gw.waitFor(1);
    assert.equal(req.headers.authorization, GATEWAY_KEY, 'the credential from the encrypted credentials');
    const sent = JSON.parse(req.body) as { to: string; from: string; text: string };
    assert.equal(sent.to, '+31612345678');
    assert.equal(sent.from, 'Testdorp');
    assert.match(sent.text, /^Gemeente Testdorp: uw video-afspraak is op .+ om \d\d:\d\d\. Link: http:\/\/127\.0\.0\.1:\d+\/v\/[A-Za-z0-9_-]{43}$/);
    // The debug node prints the whole message (util.inspect) to the runtime's console.
    const out = await waitFor('the problem on output 2', async () => {
      const o = (rt as RuntimeHandle).output();
      const at = o.indexOf("errorCode: 'EHTTP:503'");
      return at < 0 ? undefined : o.slice(Math.max(0, o.lastIndexOf('{', o.lastIndexOf('sms: {', at)) - 200), at + 200);
    });
    assert.match(out, /topic: 'sms-confirmation'/);
    assert.match(out, /sms: \{[^}]*status: 'retrying'/);
    assert.match(out, /final: false/);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { sms?: { detail?: string } };
    // Scheduled: the SMS reminders of the appointment (its 1 h reminder when the slot is more than an hour away).
    assert.match(health.sms?.detail ?? '', /^1 waiting, [0-2] scheduled, 0 failed/);
  });

  it('a resident asks for an SMS in Chromium; the SMS carries the link, which opens the call; nothing secret in the log', async () => {
    const base = (rt as RuntimeHandle).url;
    browser = await launchBrowser();
    // A small phone: what most residents book on.
    const context = await browser.newContext({ locale: 'nl-NL', viewport: VIEWPORTS.phoneSmall });
    const page = await context.newPage();
    await page.goto(`${base}/afspraak`);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    assert.equal(await page.locator('#sms').isChecked(), false, 'SMS is opt-in');
    assert.equal(await page.getAttribute('label[for="phone"]', 'for'), 'phone');
    assert.match((await page.textContent('label[for="sms"]')) ?? '', /Stuur mij een sms/);
    const violations = await axeViolations(page);
    assert.equal(violations.length, 0, describeViolations(violations));
    assert.deepEqual(await layoutProblems(page), []);
    assert.deepEqual(await smallTargets(page), [], 'the SMS choice is a full-size touch target');
    // A native checkbox draws its tick itself (no computed style changes): compare what is on the screen.
    const unticked = await page.locator('#sms').screenshot();
    await page.check('#sms');
    assert.ok(!(await page.locator('#sms').screenshot()).equals(unticked), 'a ticked box looks ticked');
    await page.uncheck('#sms');
    await page.check('input[name="time"] >> nth=0');
    await page.fill('#name', 'Sanne Bakker');
    await page.fill('#email', 'sanne@example.org');
    await page.fill('#phone', '+31 (0)6 8765 4321');
    await page.check('#sms');
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    const review = (await page.textContent('main')) ?? '';
    assert.match(review, /ja, naar 06 87654321/);
    await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
    assert.match(new URL(page.url()).pathname, /\/afspraak\/bevestiging$/);

    // Told by its number: the earlier test's SMS may be retried in between.
    const mine = await waitFor('the SMS to the number the resident typed', async () =>
      gw.requests.map((r) => JSON.parse(r.body) as { to: string; text: string }).find((b) => b.to === '+31687654321'),
    );
    const link = /(http:\/\/127\.0\.0\.1:\d+\/v\/[A-Za-z0-9_-]{43})$/.exec(mine.text)?.[1];
    assert.ok(link, mine.text);
    assert.ok(mine.text.length <= 160, `one segment (${mine.text.length})`);
    const call = await context.newPage();
    await call.goto(link);
    assert.equal(new URL(call.url()).pathname, '/call');
    assert.ok((await context.cookies()).some((c) => c.name === 'idv_call'), 'the link from the SMS opened the call');
    await context.close();

    // The KCC form offers the same box, worded for the employee.
    const kcc = new Client(base);
    assert.equal((await kcc.signIn('kcc1', DEMO_PASSWORD)).status, 303);
    const day = (await firstSlot(base)).slice(0, 10);
    const form = await (await kcc.get(`/kcc/afspraak?day=${day}`)).text();
    assert.match(form, /Stuur de inwoner een sms met de link/);

    const log = (rt as RuntimeHandle).output();
    assert.ok(!/\/v\/[A-Za-z0-9_-]{43}/.test(log), 'no access link in the log');
    for (const number of ['31612345678', '0612345678', '06-12345678', '31687654321', '8765 4321']) assert.ok(!log.includes(number), `no phone number in the log (${number})`);
    assert.ok(!log.includes('sms-key-42'), 'no gateway credential in the log');
  });

  it('records the gateway\'s delivery reports by reference behind a secret URL; a failure goes to output 2 with its code; hostile reports write nothing', async () => {
    const base = (rt as RuntimeHandle).url;
    const before = gw.requests.length;
    const res = await fetch(`${base}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: await firstSlot(base), name: 'Rita Rapport', email: 'rita@example.org', topic: 'Paspoort aanvragen', sms: 'ja', phone: '06 22334455' }),
    });
    assert.equal(res.status, 201);
    const reference = await waitFor('the confirmation at the gateway', async () => {
      const mine = gw.requests.slice(before).map((r) => JSON.parse(r.body) as { to: string; reference: string }).find((b) => b.to === '+31622334455');
      return mine?.reference;
    });
    const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
    const row = () => db.prepare('SELECT status, code, kind FROM sms_deliveries WHERE reference = ?').get(reference) as { status: string; code: string | null; kind: string } | undefined;
    try {
      await waitFor('the acceptance noted', async () => row());
      assert.deepEqual(row(), { status: 'accepted', code: null, kind: 'sms-confirmation' });
      const url = `${base}/sms/afleverrapport/${REPORT_SECRET}`;
      const post = (body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
      const hostile: [string, Promise<Response>, number, RegExp][] = [
        ['a wrong secret of the right shape', fetch(`${base}/sms/afleverrapport/${'x'.repeat(40)}?reference=${reference}&status=delivered`), 404, /not known/],
        ['junk instead of a secret', fetch(`${base}/sms/afleverrapport/%3Cscript%3E?reference=${reference}&status=delivered`), 404, /not known/],
        ['an unknown reference', fetch(`${url}?reference=00000000-0000-4000-8000-000000000000&status=delivered`), 404, /No SMS with this reference/],
        ['no reference', fetch(`${url}?status=delivered`), 400, /^reference:/],
        ['a number as reference', post(JSON.stringify({ reference: 12345, status: 'delivered' })), 400, /^reference:/],
        ['a status nobody knows', post(JSON.stringify({ reference, status: 'maybe' })), 400, /^status:/],
        ['a list instead of one report', post(JSON.stringify([{ reference, status: 'delivered' }])), 400, /flat JSON object/],
        ['XML', post(`<report reference="${reference}"/>`, 'application/xml'), 415, /application\/json/],
        ['a huge body', post(JSON.stringify({ reference, status: 'delivered', pad: 'x'.repeat(20_000) })), 413, /./],
        ['broken JSON', post('{"reference": '), 400, /./],
        ['PUT', fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }), 405, /GET or POST/],
      ];
      // The body parser's refusals are logged (throttled), by status and path with the secret redacted.
      (rt as RuntimeHandle).log.allow(/^\[idv\] refused \((400|413)\) on POST \/sms\/afleverrapport\/\[redacted\]$/);
      for (const [what, pending, status, message] of hostile) {
        const r = await pending;
        const text = await r.text();
        assert.equal(r.status, status, `${what}: ${text}`);
        assert.match((JSON.parse(text) as { message?: string }).message ?? '', message, what);
        assert.ok(!/node_modules|at .+\.js|body-parser|SyntaxError/.test(text), `${what}: no stack, path or library in the answer`);
      }
      assert.deepEqual(row(), { status: 'accepted', code: null, kind: 'sms-confirmation' }, 'nothing written by any of them');

      // MessageBird-style form report of a failure: recorded with the gateway's code, and output 2 says so.
      const failed = await post(`reference=${reference}&status=delivery_failed&statusErrorCode=EC_ABSENT_SUBSCRIBER&recipient=31622334455`, 'application/x-www-form-urlencoded');
      assert.equal(failed.status, 200);
      assert.deepEqual(await failed.json(), { recorded: true, status: 'failed' });
      assert.deepEqual(row(), { status: 'failed', code: 'EC_ABSENT_SUBSCRIBER', kind: 'sms-confirmation' });
      const out = await waitFor('the undelivered SMS on output 2', async () => {
        const o = (rt as RuntimeHandle).output();
        const at = o.indexOf("status: 'undelivered'");
        return at < 0 ? undefined : o.slice(Math.max(0, at - 300), at + 200);
      });
      assert.match(out, new RegExp(`id: '${reference}'`));
      assert.match(out, /errorCode: 'EC_ABSENT_SUBSCRIBER'/);
      // A replayed or late report changes nothing: the first final state stays.
      const late = await fetch(`${url}?reference=${reference}&status=delivered`);
      assert.deepEqual(await late.json(), { recorded: false, status: 'failed' });
      assert.equal(row()?.status, 'failed');
      assert.ok(!(rt as RuntimeHandle).output().includes(REPORT_SECRET), 'the report secret is not in the log');
      assert.ok(!(rt as RuntimeHandle).output().includes('22334455'), 'nor the number');
      // Guessing secrets is limited per network.
      let last = 0;
      for (let i = 0; i < 31 && last !== 429; i++) last = (await fetch(`${base}/sms/afleverrapport/${'g'.repeat(32)}${String(i).padStart(3, '0')}`)).status;
      assert.equal(last, 429);
    } finally {
      db.close();
    }
  });

  it('an SMS in flight when the runtime is killed goes out after the restart, with the same reference', async () => {
    const before = gw.requests.length;
    // The gateway takes the request and does not answer: the SMS is 'sending' when the process dies.
    gw.answer({ status: 202, delayMs: 60_000 });
    const res = await fetch(`${(rt as RuntimeHandle).url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: await firstSlot((rt as RuntimeHandle).url), name: 'Kees Kill', email: 'kees@example.org', topic: 'Paspoort aanvragen', sms: 'ja', phone: '06 11223344' }),
    });
    assert.equal(res.status, 201);
    await gw.waitFor(before + 1);
    await (rt as RuntimeHandle).stop('SIGKILL');
    rt = await startRuntime({ dataDir, env: { IDV_CREDENTIAL_SECRET: SECRET }, timeoutMs: 60_000 });
    // The restarted instance knows its own lease (IDV_DATA_DIR/.instance-id) and sends at once, not after 10 minutes.
    // (An SMS of an earlier test that waits for its retry may come in between: this one is told by its number.)
    const mine = () => gw.requests.slice(before).map((r) => JSON.parse(r.body) as { to: string; reference: string; text: string }).filter((b) => b.to === '+31611223344');
    const [inFlight, again] = await waitFor('the SMS again after the restart', async () => (mine().length >= 2 ? mine() : undefined), 30_000, 100);
    assert.deepEqual(again, inFlight, 'the same SMS, with the same reference a gateway can recognise');
  });
});
