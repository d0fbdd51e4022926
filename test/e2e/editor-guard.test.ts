import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { launchBrowser } from '../support/browser';
import { productionFlows } from '../support/flows';
import { Client } from '../support/http-client';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';

/**
 * The flow editor is the most powerful door (function and exec nodes): tokens die with a password change, a disable
 * and a removal through the real account command; only hashes are stored; strict headers, no wildcard CORS; one
 * sign-in limit for every door; no session row for a refused attempt; no palette installs in production; and the
 * editor still works in Chromium under its CSP. One production-mode runtime behind a (simulated) TLS proxy.
 */

const CLI = path.join(ROOT, 'dist', 'scripts', 'staff-account.js');
const PUBLIC = 'https://video.gemeente.example';
const PW = 'beheer wachtwoord 2026';
const PW2 = 'een ander wachtwoord 2026';

describe('flow editor guard (production mode)', function () {
  this.timeout(120_000);
  let rt: RuntimeHandle;
  const dataDir = tempDir('idv-editor-');
  let nextNet = 1;
  /** A fresh client network per test (IDV_TRUST_PROXY=1): the shared sign-in limit is tested on its own. */
  const net = () => `198.51.100.${nextNet++}`;

  const cli = (args: string[], input = '') => {
    const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, IDV_DATA_DIR: dataDir } });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const token = (username: string, password: string, ip = net()) =>
    fetch(`${rt.url}/admin/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }),
    });
  const signInToken = async (username: string, password: string) => {
    const res = await token(username, password);
    assert.equal(res.status, 200, `sign-in of ${username}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const flows = (t: string, headers: Record<string, string> = {}) =>
    fetch(`${rt.url}/admin/flows`, { headers: { authorization: `Bearer ${t}`, 'x-forwarded-proto': 'https', ...headers } });
  const sessionRows = () => {
    const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM staff_sessions').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  before(async () => {
    cli(['add', 'beheer', '--name', 'Beheerder', '--roles', 'admin'], `${PW}\n`);
    cli(['add', 'anna', '--name', 'Anna', '--roles', 'agent'], `${PW}\n`);
    // Production runs no demo set-up: the default flows with anna as the agent and no example domain.
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(productionFlows(ROOT, { username: 'anna', displayName: 'Anna', email: 'anna@testdorp.test' })));
    // A token file as Node-RED itself would have left it: plain tokens that must not keep working.
    fs.writeFileSync(path.join(dataDir, '.sessions.json'), JSON.stringify({ 'old-plain-token-0123456789': { user: 'beheer', scope: '*', expires: Date.now() + 3_600_000 } }));
    rt = await startRuntime({
      dataDir,
      env: {
        IDV_MODE: 'production',
        IDV_PUBLIC_URL: PUBLIC,
        SMTP_URL: 'smtp://127.0.0.1:1',
        IDV_CREDENTIAL_SECRET: 'editor-test-secret-0123456789abcdefghij',
        IDV_TRUST_PROXY: '1',
      },
    });
    // Production with the default flows: no identification method is configured yet, which the node says.
    rt.log.allow(/\[idv-request-auth:[^\]]+\] idv-request-auth: (the demo methods exist in demo mode only|select at least one authentication method)/);
    // The test talks to the runtime directly, not through a proxy, with IDV_TRUST_PROXY=1: the runtime says so (once a
    // minute), as it should; test/e2e/production.test.ts checks that warning's words.
    rt.log.allow(/^\[idv\] IDV_TRUST_PROXY=1, but \d+ request\(s\) arrived without X-Forwarded-For \(from 127\.0\.0\.1\)/);
  });
  after(async () => {
    await rt?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps only hashes: Node-RED's plain token file is gone and the token is nowhere on disk", async () => {
    assert.equal((await flows('old-plain-token-0123456789')).status, 401);
    const t = await signInToken('beheer', PW);
    assert.equal((await flows(t)).status, 200);
    assert.equal(fs.existsSync(path.join(dataDir, '.sessions.json')), false);
    for (const f of fs.readdirSync(dataDir)) {
      const file = path.join(dataDir, f);
      if (fs.statSync(file).isFile()) assert.ok(!fs.readFileSync(file).includes(t), `${f} does not hold the token`);
    }
  });

  it('a password change through the command ends editor tokens (401), the new password works', async () => {
    const t = await signInToken('beheer', PW);
    assert.match(cli(['password', 'beheer'], `${PW2}\n`), /session\(s\) ended/);
    assert.equal((await flows(t)).status, 401);
    assert.equal((await token('beheer', PW)).status, 403);
    const t2 = await signInToken('beheer', PW2);
    assert.equal((await flows(t2)).status, 200);
    cli(['password', 'beheer'], `${PW}\n`);
  });

  it('disable ends tokens and refuses sign-in; enable lets the account back in; remove ends everything', async () => {
    const t = await signInToken('beheer', PW);
    cli(['disable', 'beheer']);
    assert.equal((await flows(t)).status, 401);
    assert.equal((await token('beheer', PW)).status, 403);
    assert.match(cli(['list']), /^beheer\tadmin\tBeheerder\t\(disabled\)$/m);
    cli(['enable', 'beheer']);
    const t2 = await signInToken('beheer', PW);
    assert.equal((await flows(t2)).status, 200);

    cli(['add', 'tijdelijk', '--name', 'Tijdelijk', '--roles', 'admin'], `${PW}\n`);
    const t3 = await signInToken('tijdelijk', PW);
    cli(['remove', 'tijdelijk']);
    assert.equal((await flows(t3)).status, 401);
    assert.doesNotMatch(cli(['list']), /tijdelijk/);
  });

  it('the editor sign-out ends the token', async () => {
    const t = await signInToken('beheer', PW);
    const out = await fetch(`${rt.url}/admin/auth/revoke`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ token: t }) });
    assert.equal(out.status, 200);
    assert.equal((await flows(t)).status, 401);
  });

  it('a refused attempt leaves no session row: a wrong password, and a non-admin with the right one', async () => {
    const before = sessionRows();
    assert.equal((await token('beheer', 'wrong password here')).status, 403);
    assert.equal((await token('anna', PW)).status, 403);
    assert.equal((await token('nobody', PW)).status, 403);
    assert.equal(sessionRows(), before);
  });

  it('sends a strict CSP, no framing, nosniff and HSTS on the editor; never Access-Control-Allow-Origin', async () => {
    const page = await fetch(`${rt.url}/admin/`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /connect-src 'self'(;|$)/, 'production: no foreign catalogue');
    assert.doesNotMatch(csp, /\*/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('strict-transport-security'), 'max-age=31536000');
    const plain = await fetch(`${rt.url}/admin/`, { headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(plain.headers.get('strict-transport-security'), null, 'never over plain http');

    const t = await signInToken('beheer', PW);
    const foreign = await flows(t, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 200);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    for (const p of ['/admin/flows', '/admin/auth/token', '/admin/nodes']) {
      const pre = await fetch(`${rt.url}${p}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      assert.equal(pre.status, 403, p);
      assert.equal(pre.headers.get('access-control-allow-origin'), null, p);
      assert.equal(pre.headers.get('access-control-allow-methods'), null, p);
    }
  });

  it('no palette installs from the editor in production', async () => {
    const t = await signInToken('beheer', PW);
    const install = await fetch(`${rt.url}/admin/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ module: 'node-red-contrib-anything' }),
    });
    assert.equal(install.status, 404);
    const settings = (await (await fetch(`${rt.url}/admin/settings`, { headers: { authorization: `Bearer ${t}` } })).json()) as {
      externalModules?: { palette?: { allowInstall?: boolean; allowUpload?: boolean } };
    };
    assert.equal(settings.externalModules?.palette?.allowInstall, false);
    assert.equal(settings.externalModules?.palette?.allowUpload, false);
  });

  it('one sign-in limit per client network for /login and the editor: 429 after 30 attempts, IPv6 by /64', async () => {
    const ip = '2001:db8:42:7::1';
    const c = new Client(rt.url);
    // Every attempt counts, also one refused before any password check (empty password: cheap, no scrypt run).
    const login = async (addr: string) => {
      const page = await (await c.get('/login', { 'x-forwarded-for': addr })).text();
      return c.post('/login', { _csrf: Client.csrfFrom(page), username: 'nobody', password: '', next: '/agent' }, { 'x-forwarded-for': addr });
    };
    for (let i = 0; i < 20; i++) assert.equal((await login(ip)).status, 400, `login attempt ${i + 1}`);
    // Other addresses of the same /64 are the same client.
    for (let i = 0; i < 10; i++) assert.equal((await token('nobody', '', `2001:db8:42:7::${(i + 2).toString(16)}`)).status, 400, `token attempt ${i + 1}`);
    const refused = await token('beheer', PW, '2001:db8:42:7:ffff::9');
    assert.equal(refused.status, 429, 'the 31st attempt, even with the right password');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await login(ip)).status, 429, '/login is closed for this network too');
    // Another /64 (a neighbour behind the same ISP) is another client.
    assert.equal((await token('beheer', PW, '2001:db8:42:8::1')).status, 200);
  });

  it('the editor works in Chromium under its CSP: sign-in, our nodes, the code editor, deploy', async () => {
    // The browser talks to the loopback address over http: the https-only cookies and HSTS do not apply here.
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text().slice(0, 200));
      });
      page.on('pageerror', (e) => violations.push(`page error: ${e.message.slice(0, 200)}`));
      await page.goto(`${rt.url}/admin/`);
      await page.fill('#node-dialog-login-username', 'beheer');
      await page.fill('#node-dialog-login-password', PW);
      await page.click('#node-dialog-login-submit');
      await page.waitForSelector('.red-ui-palette-node[data-palette-type="idv-book-appointment"]', { state: 'attached', timeout: 30_000 }).catch(async (e) => {
        await page.screenshot({ path: '/tmp/editor-fail.png' });
        throw e;
      });
      await page.waitForSelector('.red-ui-flow-node-group', { state: 'attached' });
      // A function node's editor is Monaco (web workers from blob: URLs).
      await page.evaluate(() => {
        const RED = (globalThis as unknown as { RED: Record<string, Record<string, (...a: unknown[]) => unknown>> }).RED;
        const node = { id: RED.nodes.id(), type: 'function', z: RED.workspaces.active(), x: 300, y: 300, name: 'csp-check', func: 'return msg;', outputs: 1, _def: RED.nodes.getType('function'), wires: [], changed: true, dirty: true };
        RED.nodes.add(node);
        RED.view.redraw(true);
        RED.editor.edit(node);
      });
      await page.locator('.red-ui-editor .monaco-editor .view-lines', { hasText: 'return msg;' }).first().waitFor({ timeout: 20_000 });
      await page.click('#node-dialog-ok');
      // The claim/attribute list both identification config nodes share (resources/idv-claim-list.js) under the CSP.
      for (const [type, rows] of [['idv-auth-method', 3], ['idv-idcontact-core', 2]] as const) {
        await page.evaluate((t) => (globalThis as unknown as { RED: { editor: { editConfig(n: string, t: string, id: string): void } } }).RED.editor.editConfig('', t, '_ADD_'), type);
        await page.locator('.red-ui-editor .idv-field-claim').nth(rows - 1).waitFor({ timeout: 10_000 });
        assert.equal(await page.locator('.red-ui-editor .idv-field-claim').count(), rows, `${type}: default mappings listed`);
        const cut = await page.locator('.red-ui-tray .idv-form .form-row > label').evaluateAll((labels) =>
          labels.filter((l) => (l as unknown as { offsetParent: unknown }).offsetParent !== null && l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent?.trim()),
        );
        assert.deepEqual(cut, [], `${type}: labels cut off`);
        await page.click('#node-config-dialog-cancel');
        await page.locator('.red-ui-editor .idv-field-claim').first().waitFor({ state: 'detached', timeout: 10_000 });
      }
      await page.click('#red-ui-header-button-deploy');
      await page.waitForSelector('.red-ui-notification-success, .red-ui-notification:has-text("Successfully deployed")', { timeout: 20_000 });
      assert.deepEqual(violations, []);
    } finally {
      await browser.close();
    }
  });
});
