/**
 * Production as the README's checklist builds it, run for real: the shipped nginx site (deploy/nginx/idvideo.conf,
 * Debian's nginx in the foreground with a test certificate) in front of the runtime started with the shipped unit's
 * command line, working directory and environment (deploy/systemd/idvideo.service + idvideo.env, only the CHANGE values,
 * paths and ports replaced), staff accounts made with the README's commands. It proves issue 20's findings gone:
 * the demo set-up refused at start and on deploy, the editor's WebSocket through the proxy, a forged X-Forwarded-For
 * ignored and two residents limited apart, honest health that tells outsiders only up or down, an access log without
 * links or codes, private files and backups, a clean stop with nginx's maintenance page, and refusals at start
 * (credentials that do not decrypt, mail without TLS). A resident and an agent hold a call through the proxy.
 *
 * One runtime and one nginx for the file (the refusals at start are short-lived runs that exit).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { assertMediaFlows, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { productionFlows } from '../support/flows';
import { freePort, makeTestCert, NGINX, proxyRequest, siteFromShipped, startNginx, type NginxHandle, type TestCert } from '../support/nginx';
import { TEST_RTC_ENV } from '../support/ports';
import { ROOT, runRuntimeExpectingExit, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp';
import { keepOrder } from '../support/test-order';
import { skipBecause } from '../support/skip';

const HOST = 'video.gemeente.test';
const PASSWORD = 'een lang wachtwoord voor de test';
const SECRET = 'production-test-secret-0123456789abcdefghij';
const UNIT = path.join(ROOT, 'deploy', 'systemd', 'idvideo.service');
const ENV_FILE = path.join(ROOT, 'deploy', 'systemd', 'idvideo.env');

/** The [Service] settings of a unit file; keys that repeat (Environment=) keep every value. */
function unitSettings(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(t);
    if (s) section = s[1];
    else if (section === 'Service') {
      const i = t.indexOf('=');
      out.set(t.slice(0, i), [...(out.get(t.slice(0, i)) ?? []), t.slice(i + 1)]);
    }
  }
  return out;
}

/** KEY=value lines of an EnvironmentFile (comments and blank lines skipped). */
function envFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

describe('production behind the shipped nginx site and systemd unit (issue 20)', function () {
  // One production set-up, checked step by step: the first steps start the runtime, the last stops it with SIGTERM
  // (found by IDV_TEST_ORDER=reverse under the CPU burner).
  keepOrder(this, 'the first steps start the production runtime and the last one stops it');
  this.timeout(300_000);

  let dir: string;
  let dataDir: string;
  let cert: TestCert;
  let smtp: TestSmtpServer;
  let rt: RuntimeHandle | undefined;
  let nginx: NginxHandle;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let tlsPort: number;
  let runtimePort: number;
  let publicUrl: string;
  let env: Record<string, string>;
  let unit: Map<string, string[]>;
  let adminToken = '';
  let residentLink = '';
  let cancelLink = '';

  const via = (localAddress: string) => ({ port: tlsPort, host: HOST, ca: cert.pem, localAddress });
  const inside = () => via('127.0.0.1');
  const direct = (p: string) => fetch(`http://127.0.0.1:${runtimePort}${p}`);
  /** The README's staff-account command: `IDV_DATA_DIR=… node dist/scripts/staff-account.js …`, password on stdin. */
  const staffAccount = (args: string[], input = '') =>
    spawnSync(process.execPath, ['dist/scripts/staff-account.js', ...args], { cwd: ROOT, input, encoding: 'utf8', env: { ...process.env, IDV_DATA_DIR: dataDir } });
  const deploy = (flows: unknown[]) =>
    proxyRequest(inside(), '/admin/flows', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify(flows),
    });
  const detail = async () => (await (await direct('/healthz')).json()) as Record<string, { ok: boolean; detail?: string }> & { status: string };
  const prodFlows = () => productionFlows(ROOT, { username: 'anna', displayName: 'Anna de Vries', email: 'anna@testdorp.test' });

  before(async function () {
    if (!fs.existsSync(NGINX)) throw new Error('nginx is not installed: scripts/ensure-test-deps.js installs it (apt-get install nginx)');
    dir = tempDir('idv-prod-');
    dataDir = path.join(dir, 'data');
    const logDir = path.join(dir, 'nginx');
    fs.mkdirSync(logDir);
    cert = makeTestCert(dir, HOST);
    smtp = await startTestSmtp();
    [tlsPort, runtimePort] = [await freePort(), await freePort()];
    publicUrl = `https://${HOST}:${tlsPort}`;

    // The unit's command line and environment, as systemd would start it.
    unit = unitSettings(UNIT);
    assert.deepEqual(unit.get('ExecStart'), ['/usr/bin/node dist/settings.js'], 'the unit runs node directly, not npm');
    assert.deepEqual(unit.get('WorkingDirectory'), ['/opt/idvideo']);
    assert.deepEqual(unit.get('EnvironmentFile'), ['/etc/idvideo/idvideo.env']);
    const fromUnit = Object.fromEntries((unit.get('Environment') ?? []).map((e) => e.split('=') as [string, string]));
    assert.equal(fromUnit.IDV_DATA_DIR, '/var/lib/idvideo');
    const shipped = envFile(ENV_FILE);
    const changed: Record<string, string> = {
      IDV_PUBLIC_URL: publicUrl,
      PORT: String(runtimePort),
      IDV_CREDENTIAL_SECRET: SECRET,
      SMTP_URL: smtp.url,
      IDV_MEDIA_LISTEN_IP: '127.0.0.1',
      IDV_MEDIA_ANNOUNCED_IP: '127.0.0.1',
    };
    for (const k of Object.keys(changed)) assert.ok(k in shipped, `the shipped environment file sets ${k}`);
    // Media ports apart from a running instance's (test/support/ports.ts); not in the shipped file (defaults).
    env = { ...shipped, ...changed, ...fromUnit, IDV_DATA_DIR: dataDir, ...TEST_RTC_ENV };
    for (const [k, v] of Object.entries(env)) assert.doesNotMatch(v, /CHANGE/, `${k} still says CHANGE`);
    assert.equal(env.IDV_MODE, 'production');
    assert.equal(env.IDV_TRUST_PROXY, '1');

    // Staff accounts with the README's commands, before the first start.
    for (const [user, name, roles] of [['anna', 'Anna de Vries', 'agent'], ['beheer', 'Beheerder', 'admin']]) {
      const r = staffAccount(['add', user, '--name', name, '--roles', roles], `${PASSWORD}\n`);
      assert.equal(r.status, 0, r.stderr);
    }

    // The default flows, as a first start puts them in the data dir: production keeps them stopped.
    rt = await startRuntime({ env, dataDir, script: 'dist/settings.js', cwd: ROOT, waitFor: /Flows stopped in safe mode/, timeoutMs: 60_000 });
    // The refusal of the demo set-up is said on purpose, on stderr (the next tests check its words).
    rt.log.allow(/^\[idv\] production: flows not started: the flows still hold the demo set-up/, /^\[idv\] {3}- idv-(settings|schedule|session-link) "/, /^\[idv\] production: the editor is open at \/admin; /);
    nginx = await startNginx(logDir, siteFromShipped({ tlsPort, httpPort: await freePort(), runtimePort, cert, logDir }), tlsPort);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await rt?.stop();
    await nginx?.stop();
    await smtp?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the unit file passes systemd-analyze verify', function () {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    if (r.error) skipBecause(this, 'systemd-analyze is not installed here: the unit was not verified');
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warnings');
    assert.deepEqual(unit.get('UMask'), ['0077']);
    assert.deepEqual(unit.get('KillMode'), ['mixed']);
  });

  it('refuses to run the demo set-up at start: flows stopped, health red, the log says what to change', async () => {
    const out = rt?.output() ?? '';
    assert.match(out, /flows not started: the flows still hold the demo set-up/);
    assert.match(out, /agent1, agent2 are the demo agents/);
    assert.match(out, /gemeente-voorbeeld\.example/);
    assert.match(out, /municipality is still "Gemeente Voorbeeld"/);
    const outside = await proxyRequest(via('127.0.0.2'), '/healthz');
    assert.equal(outside.status, 503);
    assert.deepEqual(JSON.parse(outside.body), { status: 'unavailable' }, 'outsiders learn up or down only');
    const local = await detail();
    assert.equal(local.flows?.ok, false, 'a probe on the machine sees which part');
    assert.equal((await proxyRequest(via('127.0.0.2'), '/afspraak')).status, 404, 'no booking form while the flows are stopped');
  });

  it('the flow editor works through the proxy from inside only; its WebSocket connects; demo deploys are refused', async () => {
    const signIn = (from: string) =>
      proxyRequest(via(from), '/admin/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'beheer', password: PASSWORD }),
      });
    assert.equal((await signIn('127.0.0.2')).status, 403, 'nginx keeps the editor to the allowed networks');
    const res = await signIn('127.0.0.1');
    assert.equal(res.status, 200, res.body);
    adminToken = (JSON.parse(res.body) as { access_token: string }).access_token;

    // The editor's comms WebSocket, upgraded by nginx: Node-RED answers the token with auth ok.
    // ws hands TLS options (servername: the name the certificate is for) to https.request.
    const tls: WebSocket.ClientOptions & { servername: string } = { ca: cert.pem, servername: HOST, headers: { host: `${HOST}:${tlsPort}` }, localAddress: '127.0.0.1' };
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/admin/comms`, tls);
    const answer = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ auth: adminToken })));
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
    });
    ws.close();
    assert.deepEqual(JSON.parse(answer), { auth: 'ok' });

    // The editor offers no "http on loopback" for identity providers in production.
    const settings = JSON.parse((await proxyRequest(inside(), '/admin/settings', { headers: { authorization: `Bearer ${adminToken}` } })).body) as Record<string, unknown>;
    assert.equal(settings.idvAuthMethodLoopbackHttp, false);

    const flowsFile = path.join(dataDir, 'flows.json');
    const before = fs.readFileSync(flowsFile, 'utf8');
    const refused = await deploy(JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'flows.json'), 'utf8')) as unknown[]);
    rt!.log.allow(/^\[idv\] deploy refused: the flows still hold the demo set-up \(4 problem\(s\)\)$/);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /demo set-up/);
    assert.match(refused.body, /agent1, agent2 are the demo agents/);
    assert.equal(fs.readFileSync(flowsFile, 'utf8'), before, 'nothing saved');

    // The production flows have no identification method yet: the node says so (the next test checks health).
    rt!.log.allow(
      / - \[warn\] \[idv-request-auth:Vraag identificatie\] idv-request-auth: the demo methods exist in demo mode only; they are not offered$/,
      / - \[error\] \[idv-request-auth:Vraag identificatie\] idv-request-auth: select at least one authentication method or an ID Contact core$/,
    );
    const accepted = await deploy(prodFlows());
    assert.ok(accepted.status === 200 || accepted.status === 204, `${accepted.status} ${accepted.body}`);
    await waitFor('the flows running', async () => (await detail()).runtime?.ok, 30_000);
    assert.equal((await detail()).flows?.ok, true);
  });

  it('health is honest: no usable identification method means "identification unavailable", outsiders see up or down', async () => {
    const noMethod = await detail();
    assert.equal(noMethod.identification?.ok, false);
    assert.match(noMethod.identification?.detail ?? '', /identification unavailable: select at least one authentication method/);
    assert.deepEqual(JSON.parse((await proxyRequest(via('127.0.0.2'), '/healthz')).body), { status: 'unavailable' });

    // A provider over plain http is refused in production, even on loopback with the demo option set.
    const method = (issuer: string) => ({
      id: 'digid-method', type: 'idv-auth-method', name: 'DigiD', methodId: 'digid', displayName: 'DigiD', logo: 'digid', issuer,
      clientId: 'idvideo', clientAuth: 'client_secret_basic', scopes: 'openid', extraAuthParams: '',
      acrMinimum: 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
      acrOrder: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
      claims: JSON.stringify([{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }]),
      allowInsecureLoopback: true, credentials: { clientSecret: 'client-secret-for-the-test' },
    });
    const withMethod = (issuer: string) => prodFlows().map((n) => (n.type === 'idv-request-auth' ? { ...n, method1: 'digid-method' } : n)).concat([method(issuer)]);
    assert.equal((await deploy(withMethod('http://127.0.0.1:9/'))).status < 300, true);
    const http = await waitFor('the http method refused', async () => {
      const d = await detail();
      return /must use https/.test(d.identification?.detail ?? '') ? d : undefined;
    });
    assert.equal(http.identification?.ok, false);
    await rt!.log.expectLine(/ - \[error\] \[idv-request-auth:Vraag identificatie\] idv-request-auth: the method "DigiD" is invalid: issuer: the issuer must use https /);

    assert.equal((await deploy(withMethod('https://idp.gemeente.test/broker'))).status < 300, true);
    const ok = await waitFor('identification available', async () => ((await detail()).identification?.ok ? true : undefined));
    assert.ok(ok);
    const publicOk = await waitFor('public health ok', async () => {
      const r = await proxyRequest(via('127.0.0.2'), '/healthz');
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual(JSON.parse(publicOk.body), { status: 'ok' });
    assert.ok(fs.existsSync(path.join(dataDir, 'flows_cred.json')), 'the client secret is stored encrypted');
  });

  it('counts each client by the address nginx saw: a forged X-Forwarded-For is ignored, two residents are limited apart', async () => {
    const bad = () => `/v/${Math.random().toString(36).slice(2).padEnd(43, 'x')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const forged = `10.${i}.${i}.${i}`;
      statuses.push((await proxyRequest(via('127.0.0.2'), bad(), { headers: { 'x-forwarded-for': forged } })).status);
    }
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(404), 'thirty bad links are answered');
    assert.equal(statuses[30], 429, 'the thirty-first from the same address is refused, whatever address it claims');
    assert.equal((await proxyRequest(via('127.0.0.2'), bad(), { headers: { 'x-forwarded-for': '127.0.0.3' } })).status, 429);
    assert.equal((await proxyRequest(via('127.0.0.3'), bad())).status, 404, 'another resident is not locked out');

    // A request that reaches the runtime without the proxy's header is noticed (once a minute, not per request).
    await direct('/login');
    await rt!.log.expectLine(/^\[idv\] IDV_TRUST_PROXY=1, but 1 request\(s\) arrived without X-Forwarded-For \(from 127\.0\.0\.1\): the proxy must set it /, 20_000);
  });

  it('a resident and an agent hold a call through the proxy (pages, WebSocket signaling, __Host- cookies)', async () => {
    const from = new Date().toISOString().slice(0, 10);
    const to = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const slots = JSON.parse((await proxyRequest(via('127.0.0.3'), `/afspraak/slots?from=${from}&to=${to}`)).body) as { start: string; available: number }[];
    const slot = slots.find((s) => s.available > 0);
    assert.ok(slot, 'a free slot');
    const booked = await proxyRequest(via('127.0.0.3'), '/afspraak', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin: publicUrl },
      body: JSON.stringify({ start: slot.start, name: 'Jan de Vries', email: 'jan@testdorp.test', topic: 'Paspoort aanvragen' }),
    });
    assert.equal(booked.status, 201, booked.body);
    await smtp.waitFor(2, 30_000);
    const mail = smtp.received.find((m) => m.envelope.to[0] === 'jan@testdorp.test');
    const text = mail?.parsed.text ?? '';
    residentLink = new RegExp(`${publicUrl.replace(/[.:/]/g, '\\$&')}/v/[A-Za-z0-9_-]{43}`).exec(text)?.[0] ?? '';
    cancelLink = new RegExp(`${publicUrl.replace(/[.:/]/g, '\\$&')}/afspraak/annuleren/[A-Za-z0-9_-]{43}`).exec(text)?.[0] ?? '';
    assert.ok(residentLink && cancelLink, 'the mail links go to the public https address');

    browser = await launchBrowser([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, '--ignore-certificate-errors']);
    const newPage = async (): Promise<Page> => {
      const ctx = await browser!.newContext({ ignoreHTTPSErrors: true, permissions: ['camera', 'microphone'], viewport: { width: 1200, height: 800 } });
      contexts.push(ctx);
      await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
      return ctx.newPage();
    };
    const resident = await newPage();
    await resident.goto(residentLink);
    assert.equal(new URL(resident.url()).pathname, '/call');
    assert.ok((await resident.context().cookies()).some((c) => c.name.startsWith('__Host-') && c.secure), 'the call cookie is __Host- and Secure');
    await resident.locator('#start-call:enabled').waitFor({ timeout: 30_000 });
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });

    const agent = await newPage();
    await agent.goto(`${publicUrl}/login?next=${encodeURIComponent('/agent')}`);
    await agent.fill('#username', 'anna');
    await agent.fill('#password', PASSWORD);
    await Promise.all([agent.waitForNavigation(), agent.click('main form button[type="submit"]')]);
    assert.equal(new URL(agent.url()).pathname, '/agent');
    const row = agent.locator('li[data-appointment-id][data-waiting="true"]').first();
    await row.waitFor({ timeout: 30_000 });
    await row.locator('button').first().click();
    await agent.locator('#call').waitFor({ state: 'visible' });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(resident, 'resident through nginx');
    await assertMediaFlows(agent, 'agent through nginx');
    for (const c of contexts.splice(0)) await c.close();
  });

  it('the access log holds no personal link, cancel token, OIDC code or state, confirmation ref or editor token', async () => {
    const secrets = ['CODE-5ecret-c0de', 'STATE-5ecret-st4te', 'REF-5ecret-r3f', 'TOKEN-5ecret-t0ken'];
    await proxyRequest(via('127.0.0.3'), `/auth/callback?code=${secrets[0]}&state=${secrets[1]}&iss=x`);
    await proxyRequest(via('127.0.0.3'), `/afspraak/bevestiging?lang=nl&ref=${secrets[2]}`);
    await proxyRequest(inside(), `/admin/flows?access_token=${secrets[3]}`);
    await proxyRequest(via('127.0.0.3'), new URL(cancelLink).pathname);
    // The change link ("Afspraak wijzigen") carries the same token; the agent's calendar feed its own in the query.
    await proxyRequest(via('127.0.0.3'), new URL(cancelLink).pathname.replace('/annuleren/', '/wijzigen/'));
    secrets.push('FEED-5ecret-t0ken');
    await proxyRequest(via('127.0.0.3'), '/agenda.ics?access_token=FEED-5ecret-t0ken');
    // Where an agent's link sends someone who is not signed in yet.
    await proxyRequest(via('127.0.0.3'), `/login?next=${encodeURIComponent(new URL(residentLink).pathname)}`);
    // ID Contact: the one-time return address with an auth result (JWE) in its query.
    const idcToken = 'IDCTOKEN5ecret0123456789012345678901234567';
    secrets.push(idcToken, 'JWE-5ecret-result', 'JWE-5ecret-attributes');
    await proxyRequest(via('127.0.0.3'), `/auth/idcontact/return/${idcToken}?result=JWE-5ecret-result`);
    await proxyRequest(via('127.0.0.3'), `/auth/idcontact/return/${idcToken}?status=succes&attributes=JWE-5ecret-attributes`);
    const log = await waitFor('the log lines', async () => {
      const text = nginx.accessLog();
      // nginx writes a line after it answered, so the last request's line can come after its answer: wait for it too.
      const returns = text.split('\n').filter((l) => l.includes('/auth/idcontact/return/')).length;
      return /access_token=\*\*\*/.test(text) && /annuleren\/\*\*\*/.test(text) && returns >= 2 ? text : undefined;
    });
    const residentToken = residentLink.split('/v/')[1];
    const cancelToken = cancelLink.split('/annuleren/')[1];
    for (const s of [...secrets, residentToken, cancelToken]) assert.ok(!log.includes(s), `the access log does not hold ${s.slice(0, 8)}…`);
    assert.match(log, /"GET \/v\/\*\*\* HTTP\/[\d.]+" 303 /, 'the link visit is logged, masked');
    assert.match(log, /\/auth\/callback\?code=\*\*\*&state=\*\*\*&iss=x/);
    assert.match(log, /\/afspraak\/bevestiging\?lang=nl&ref=\*\*\*/);
    assert.match(log, /"GET \/login\?next=\*\*\* /);
    assert.match(log, /"GET \/afspraak\/wijzigen\/\*\*\* /);
    assert.match(log, /"GET \/agenda\.ics\?access_token=\*\*\* /);
    assert.match(log, /"GET \/auth\/idcontact\/return\/\*\*\*\?result=\*\*\* /);
    assert.match(log, /"GET \/auth\/idcontact\/return\/\*\*\*\?status=succes&attributes=\*\*\* /);
    assert.match(log, /"GET \/v\/\*\*\* HTTP\/[\d.]+" 429 /);
  });

  it('keeps every file in the data dir private (0600/0700); the backup command writes 0700/0600 too', () => {
    const loose: string[] = [];
    const walk = (d: string) => {
      for (const name of fs.readdirSync(d)) {
        const p = path.join(d, name);
        const st = fs.lstatSync(p);
        if (st.isSymbolicLink()) continue;
        if ((st.mode & 0o077) !== 0) loose.push(`${path.relative(dataDir, p)} ${(st.mode & 0o777).toString(8)}`);
        if (st.isDirectory()) walk(p);
      }
    };
    assert.equal(fs.statSync(dataDir).mode & 0o077, 0);
    walk(dataDir);
    assert.deepEqual(loose, []);
    for (const f of ['idvideo.sqlite', 'idvideo.sqlite-wal', 'idvideo.sqlite-shm', 'flows.json', 'flows_cred.json', '.flows.json.backup']) {
      assert.ok(fs.existsSync(path.join(dataDir, f)), `${f} exists (and was checked)`);
    }

    // The README's backup command, as the service user would run it (here: the test's user, who owns the data dir).
    const backups = path.join(dir, 'backups');
    const r = spawnSync(process.execPath, ['dist/scripts/backup.js', backups, '--keep', '2'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, IDV_DATA_DIR: dataDir } });
    assert.equal(r.status, 0, r.stderr);
    const [folder] = fs.readdirSync(backups);
    assert.match(folder, /^idvideo-\d{8}T\d{6}Z$/);
    assert.equal(fs.statSync(path.join(backups, folder)).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(path.join(backups, folder)).sort(), ['.instance-id', 'flows.json', 'flows_cred.json', 'idvideo.sqlite']);
    for (const f of fs.readdirSync(path.join(backups, folder))) assert.equal(fs.statSync(path.join(backups, folder, f)).mode & 0o777, 0o600, f);
    const copy = new Database(path.join(backups, folder, 'idvideo.sqlite'), { readonly: true });
    try {
      assert.equal((copy.prepare('SELECT COUNT(*) AS n FROM appointments').get() as { n: number }).n, 1, 'the booking is in the backup');
    } finally {
      copy.close();
    }
  });

  it('stops on SIGTERM within the unit\'s timeout; meanwhile nginx shows the maintenance page and logs no token', async () => {
    const started = Date.now();
    assert.deepEqual(unit.get('KillSignal'), ['SIGTERM']);
    const code = await rt?.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 20_000, 'within TimeoutStopSec=20s');
    rt = undefined;

    const token = residentLink.split('/v/')[1];
    const down = await proxyRequest(via('127.0.0.3'), `/v/${token}`);
    assert.equal(down.status, 502);
    assert.match(down.body, /<html lang="nl">/);
    assert.match(down.body, /Videobellen is even niet bereikbaar/);
    assert.match(down.body, /lang="en"[\s\S]*Video appointments are briefly unavailable/);
    assert.equal(down.headers['retry-after'], '30');
    assert.equal(down.headers['strict-transport-security'], 'max-age=300', 'nginx adds HSTS to its own answers');
    assert.ok(!nginx.errorLog().includes(token), 'the error log does not quote the link');
    // The 502's own line first (nginx writes it after answering), so the check below reads it.
    const logged = await waitFor('the 502 in the access log', async () => (/"GET \/v\/\*\*\* HTTP\/[\d.]+" 502 /.test(nginx.accessLog()) ? nginx.accessLog() : undefined));
    assert.ok(!logged.includes(token));

    // What a resident sees: the page on a phone, accessible, nothing cut off.
    const ctx = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 360, height: 640 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const shown = await page.goto(`${publicUrl}/afspraak`);
    assert.equal(shown?.status(), 502);
    const v = await axeViolations(page);
    assert.equal(v.length, 0, describeViolations(v));
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling at 360 px');
    assert.match(await page.locator('h1').innerText(), /Videobellen is even niet bereikbaar/);
  });

  it('refuses to start with credentials it cannot decrypt, and with mail that would go without TLS', async () => {
    const cred = fs.readFileSync(path.join(dataDir, 'flows_cred.json'));
    const flows = fs.readFileSync(path.join(dataDir, 'flows.json'));
    const wrong = await runRuntimeExpectingExit({ ...env, IDV_CREDENTIAL_SECRET: 'restored-with-another-secret-0123456789abc' }, 60_000);
    assert.equal(wrong.code, 1, wrong.output);
    assert.match(wrong.output, /cannot be decrypted with this IDV_CREDENTIAL_SECRET/);
    assert.ok(fs.readFileSync(path.join(dataDir, 'flows_cred.json')).equals(cred), 'the credentials file is untouched');
    assert.ok(fs.readFileSync(path.join(dataDir, 'flows.json')).equals(flows));

    const plain = await runRuntimeExpectingExit({ ...env, SMTP_URL: 'smtp://relay:secret@smtp.gemeente.test:587' });
    assert.equal(plain.code, 1);
    assert.match(plain.output, /SMTP_URL sends the password and the mail without TLS/);
    assert.ok(!plain.output.includes('secret@'), 'the URL with its password is not printed');
  });
});
