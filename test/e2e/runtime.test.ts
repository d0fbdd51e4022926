import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { Client } from '../support/http-client';
import { DEMO_PASSWORD, runRuntimeExpectingExit, startRuntime, tempDir, waitHealthy, type RuntimeHandle } from '../support/runtime';
import { keepOrder } from '../support/test-order';

describe('embedded runtime', function () {
  this.timeout(90_000);

  describe('started in demo mode', function () {
    // Its last step stops the runtime every other step uses (found by IDV_TEST_ORDER=reverse).
    keepOrder(this, 'the last step stops the shared runtime with SIGTERM');
    let rt: RuntimeHandle;
    before(async () => (rt = await startRuntime()));
    after(async () => {
      await rt?.stop();
      fs.rmSync(rt.dataDir, { recursive: true, force: true });
    });

    it('answers /healthz with the state of runtime and store', async () => {
      const res = await waitHealthy(rt.url);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, { ok: boolean }> & { status: string };
      assert.equal(body.status, 'ok');
      for (const part of ['runtime', 'store', 'media', 'mail', 'identification']) assert.equal(body[part]?.ok, true, part);
    });

    it('keeps the editor API behind sign-in and lets only admins in', async () => {
      assert.equal((await fetch(`${rt.url}/admin/flows`)).status, 401);
      const token = async (username: string) =>
        fetch(`${rt.url}/admin/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password: DEMO_PASSWORD }),
        });
      const agent = await token('agent1');
      assert.equal(agent.status, 403, 'an agent is not an administrator');
      const admin = await token('admin');
      assert.equal(admin.status, 200);
      const { access_token } = (await admin.json()) as { access_token: string };
      const flows = await fetch(`${rt.url}/admin/flows`, { headers: { authorization: `Bearer ${access_token}` } });
      assert.equal(flows.status, 200);
      const list = (await flows.json()) as { type: string }[];
      assert.ok(list.some((n) => n.type === 'idv-schedule'), 'default flows loaded');
    });

    it('serves pages with the HTTP baseline headers and JSON errors without stack traces', async () => {
      const res = await fetch(`${rt.url}/login`);
      assert.equal(res.status, 200);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const bad = await fetch(`${rt.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"x":' });
      assert.equal(bad.status, 400);
      const text = await bad.text();
      assert.deepEqual(Object.keys(JSON.parse(text)).sort(), ['error', 'message']);
      assert.doesNotMatch(text, /at .*\.js:\d+/);
      const huge = await fetch(`${rt.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=' + 'x'.repeat(100_000) });
      assert.equal(huge.status, 413);
    });

    it('a staff member signs in through the real form', async () => {
      const c = new Client(rt.url);
      const res = await c.signIn('agent1', DEMO_PASSWORD);
      assert.equal(res.status, 303);
      assert.ok([...c.cookies.keys()].includes('idv_staff'));
    });

    it('the login page has no WCAG 2.1 AA violations in Chromium', async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        for (const lang of ['nl', 'en']) {
          await page.goto(`${rt.url}/login?lang=${lang}`);
          const v = await axeViolations(page);
          assert.equal(v.length, 0, describeViolations(v));
        }
        await page.fill('#username', 'agent1');
        await page.fill('#password', 'wrong password!');
        await page.press('#password', 'Enter');
        await page.waitForSelector('#error-summary');
        assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), 'error-summary');
        const v = await axeViolations(page);
        assert.equal(v.length, 0, describeViolations(v));
      } finally {
        await browser.close();
      }
    });

    it('stops gracefully on SIGTERM', async () => {
      const code = await rt.stop('SIGTERM');
      assert.equal(code, 0);
      assert.match(rt.output(), /\[idv\] stopped/);
    });
  });

  it('prints a generated demo password once and not on the next start', async () => {
    const dataDir = tempDir();
    const first = await startRuntime({ dataDir, env: { IDV_DEMO_PASSWORD: '' } });
    await first.stop();
    assert.match(first.output(), /generated password \(shown once\)/);
    const second = await startRuntime({ dataDir, env: { IDV_DEMO_PASSWORD: '' } });
    await second.stop();
    assert.doesNotMatch(second.output(), /generated password/);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a corrupt flows file and leaves it as it was', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'flows.json');
    fs.writeFileSync(file, '[{"id": "a", "type": "tab",');
    const { code, output } = await runRuntimeExpectingExit({ IDV_DATA_DIR: dataDir });
    assert.equal(code, 1);
    assert.match(output, /flows file .* is not valid JSON/);
    assert.equal(fs.readFileSync(file, 'utf8'), '[{"id": "a", "type": "tab",');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a corrupt database and leaves it as it was', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'idvideo.sqlite');
    fs.writeFileSync(file, 'not a database\n'.repeat(500));
    const { code, output } = await runRuntimeExpectingExit({ IDV_DATA_DIR: dataDir });
    assert.equal(code, 1);
    assert.match(output, /damaged or not an SQLite file/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a database\n'.repeat(500));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says so when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = tempDir();
    const { code, output } = await runRuntimeExpectingExit({ IDV_DATA_DIR: dataDir, PORT: String(port) });
    blocker.close();
    assert.equal(code, 1);
    assert.match(output, new RegExp(`Port ${port} on 127.0.0.1 is already in use`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses production mode without its settings and creates nothing', async () => {
    const dataDir = path.join(tempDir(), 'fresh');
    const { code, output } = await runRuntimeExpectingExit({ IDV_DATA_DIR: dataDir, IDV_MODE: 'production' });
    assert.equal(code, 1);
    assert.match(output, /IDV_PUBLIC_URL/);
    assert.match(output, /SMTP_URL/);
    assert.match(output, /IDV_CREDENTIAL_SECRET/);
    assert.equal(fs.existsSync(dataDir), false);
  });
});
