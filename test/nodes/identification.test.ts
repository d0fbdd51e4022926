/**
 * Identification through the nodes and routes, with real parts: the real OpenID provider on loopback (both client
 * authentication methods), a misbehaving one for the faults, the real call service (media signaling for the resident's
 * pop-up, the agent hub for the dashboard) on a loopback HTTP server, SQLite for the processing log. The resident and
 * the agent are plain HTTP/WebSocket clients with their own cookies. Every log line, Node-RED message and the database
 * file of the run are searched for attribute values at the end.
 */
import assert from 'node:assert/strict';
import { dataSubjectId } from '../../lib/trace/data-subject';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { getCallService } from '../../lib/call/service';
import { callServiceChannels, EVERYONE_LEFT_GRACE_MS } from '../../lib/identification/channels';
import { loadConfig } from '../../lib/config';
import { DEMO_ACCOUNTS, DIGID_ACR_ORDER, type DemoAccount } from '../../lib/demo/idp';
import { demoMethods } from '../../lib/identification/demo';
import { methodFromEditor } from '../../lib/identification/method-config';
import { identificationServiceOf, type IdentificationService } from '../../lib/identification/service';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { Client } from '../support/http-client';
import { appointmentNow, captureProcessOutput, openWs as openWsWith, residentClient, until as untilWith } from '../support/identification-test';
import { helper, startServices, stopServices } from '../support/node-red';
import { loginWithHttp, startTestOp, type TestOp } from '../support/oidc-provider';
import { tempDir } from '../support/runtime';
import { startHostileOp, type HostileOp } from '../unit/auth/hostile-op';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settingsNode = require('../../nodes/idv-settings/idv-settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const methodNode = require('../../nodes/idv-auth-method/idv-auth-method');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requestNode = require('../../nodes/idv-request-auth/idv-request-auth');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const receiveNode = require('../../nodes/idv-receive-attributes/idv-receive-attributes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const showNode = require('../../nodes/idv-show-to-agent/idv-show-to-agent');

// Messages and JSON answers are asserted field by field; their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;
const PASSWORD = 'identification-test-password';
const PUBLIC_URL = 'http://127.0.0.1:1880';
const REDIRECT_URI = `${PUBLIC_URL}/auth/callback`;
const ACTIVITY_PASPOORT = 'https://register.testdorp.example/verwerkingsactiviteiten/paspoort';
/** What the test OpenID provider received: method, path and the traceparent header. */
const providerCalls: { method: string; path: string; traceparent?: string }[] = [];
const HUGE = 'x'.repeat(40_000);
const ACCOUNTS: DemoAccount[] = [
  ...DEMO_ACCOUNTS,
  { id: 'nul', name: 'Nul Nulsen', givenName: 'Nul', familyName: 'Nulsen', bsn: '000000000', birthdate: '1970-01-01' },
  { id: 'laag', name: 'Laura Laag', givenName: 'Laura', familyName: 'Laag', bsn: '999990019', birthdate: '1990-02-02', acr: DIGID_ACR_ORDER[1] },
  { id: 'extra', name: 'Erik Extra', givenName: 'Erik', familyName: 'Extra', bsn: '999993653', birthdate: '1985-05-05', extraClaims: { geheim_kenmerk: 'GEHEIM-KENMERK-42' } },
  { id: 'groot', name: 'Greta Groot', givenName: 'Greta', familyName: 'Groot', bsn: '999990019', birthdate: '1960-06-06', extraClaims: { notes: HUGE } },
];
/** Values that must never show up outside the attribute cache and the agent's own GET. */
const VALUES = ['999993653', '999990019', '123456789', 'Jan Jansen', 'Sophie de Vries', 'Erik Extra', 'GEHEIM-KENMERK-42', '1980-01-01', '1992-07-15', '1985-05-05'];

/** Everything the run prints or logs, from every source we can reach. */
const captured: string[] = [];

describe('identification nodes and routes', function () {
  this.timeout(60_000);
  let services: Services;
  let id: IdentificationService;
  let server: http.Server;
  let base: string;
  let op: TestOp;
  let hop: HostileOp;
  /**
   * One misbehaving provider of its own for each fault test (method "hostile-<fault>" on idv-request-auth "ra-faults"):
   * the client caches a provider's discovery and JWKS, so a JWKS answering 500 proves its fault only where no other
   * test made the client fetch that provider's JWKS before (IDV_TEST_ORDER: any order).
   */
  const FAULTS = ['token', 'jwks', 'userinfo'] as const;
  const faultOps = {} as Record<(typeof FAULTS)[number], HostileOp>;
  let downIssuer: string;
  let skewMs = 0;
  const appointments: Record<'a1' | 'a2' | 'b1', string> = { a1: '', a2: '', b1: '' };
  const outs: Msg[] = [];
  const verified: Msg[] = [];
  const failed: Msg[] = [];
  const shown: Msg[] = [];
  const nodeErrors: string[] = [];
  const restore: (() => void)[] = [];

  const agentMessages: Record<string, Msg[]> = { agent1: [], agent2: [] };
  const residentPushes: Msg[] = [];
  const sockets: WebSocket[] = [];
  const staffCookies: Record<string, string> = {};

  before(async () => {
    restore.push(captureProcessOutput(captured));
    const dataDir = tempDir('idv-identification-');
    const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '1880', IDV_PUBLIC_URL: PUBLIC_URL, IDV_MEDIA_WORKERS: '1' });
    const log = { info: (m: string) => captured.push(m), warn: (m: string) => captured.push(m), error: (m: string) => captured.push(m) };
    services = initServices({ config, log });
    id = identificationServiceOf(services, { now: () => Date.now() + skewMs, flows: { httpTimeoutMs: 1500 } });
    const hash = await hashPassword(PASSWORD);
    for (const [username, roles] of [['agent1', ['agent']], ['agent2', ['agent']], ['admin', ['admin']]] as const) {
      await services.staffStore.upsertUser({ username, displayName: username, roles: [...roles], passwordHash: hash });
      const login = await services.staff.login(username, PASSWORD);
      assert.ok(login.ok);
      staffCookies[username] = `${services.staff.cookie}=${login.sessionId}`;
    }

    op = await startTestOp({ redirectUri: REDIRECT_URI, accounts: ACCOUNTS, onRequest: (r) => providerCalls.push(r) });
    hop = await startHostileOp('hostile-client');
    for (const f of FAULTS) faultOps[f] = await startHostileOp('hostile-client');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    downIssuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));

    appointments.a1 = await appointmentNow(services, 'agent1', -5, 'ident-a1');
    appointments.a2 = await appointmentNow(services, 'agent1', 40, 'ident-a2');
    appointments.b1 = await appointmentNow(services, 'agent2', -5, 'ident-b1');

    const claims = JSON.stringify([
      { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' },
      { claim: 'name', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
      { claim: 'birthdate', key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', kind: 'date' },
    ]);
    const digidMethod = { type: 'idv-auth-method', logo: 'digid', scopes: 'openid profile bsn', claims, allowInsecureLoopback: true, acrMinimum: DIGID_ACR_ORDER[2], acrOrder: DIGID_ACR_ORDER.join('\n') };
    const flow = [
      { id: 'c1', type: 'idv-settings', municipality: 'Gemeente Testdorp', fromAddress: 'video@testdorp.example', attributeTtlMinutes: 15 },
      { id: 'm-secret', ...digidMethod, methodId: 'digid', displayName: 'DigiD (test)', issuer: op.issuer, clientId: op.secretClient.clientId, clientAuth: 'client_secret_basic' },
      { id: 'm-jwt', ...digidMethod, methodId: 'digid-jwt', displayName: 'DigiD (test, private_key_jwt)', issuer: op.issuer, clientId: op.jwtClient.clientId, clientAuth: 'private_key_jwt' },
      { id: 'm-hostile', type: 'idv-auth-method', methodId: 'hostile', displayName: 'Hostile', logo: 'generic', issuer: hop.issuer, clientId: 'hostile-client', clientAuth: 'client_secret_basic', scopes: 'openid', claims, allowInsecureLoopback: true },
      { id: 'm-down', type: 'idv-auth-method', methodId: 'down', displayName: 'Down', logo: 'generic', issuer: downIssuer, clientId: 'down', clientAuth: 'client_secret_basic', scopes: 'openid', claims: JSON.stringify([{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }]), allowInsecureLoopback: true },
      ...FAULTS.map((f) => ({ id: `m-hostile-${f}`, type: 'idv-auth-method', methodId: `hostile-${f}`, displayName: `Hostile (${f})`, logo: 'generic', issuer: faultOps[f].issuer, clientId: 'hostile-client', clientAuth: 'client_secret_basic', scopes: 'openid', claims, allowInsecureLoopback: true })),
      { id: 'ra', type: 'idv-request-auth', settings: 'c1', method1: 'm-secret', method2: 'm-jwt', method3: 'm-hostile', method4: 'm-down', attributes: 'bsn, name, birthdate', purposes: 'Paspoort aanvragen\nAdres controleren', processingActivities: [{ purpose: 'Paspoort aanvragen', activity: ACTIVITY_PASPOORT }], wires: [['out']] },
      // The same request settings with the fault providers only; no panel button (that one is "ra"'s).
      { id: 'ra-faults', type: 'idv-request-auth', settings: 'c1', method1: 'm-hostile-token', method2: 'm-hostile-jwks', method3: 'm-hostile-userinfo', button: false, attributes: 'bsn, name, birthdate', purposes: 'Paspoort aanvragen\nAdres controleren', processingActivities: [{ purpose: 'Paspoort aanvragen', activity: ACTIVITY_PASPOORT }], wires: [['out']] },
      { id: 'rcv', type: 'idv-receive-attributes', settings: 'c1', wires: [['show', 'verified'], ['failed']] },
      { id: 'show', type: 'idv-show-to-agent', wires: [['shown']] },
      { id: 'out', type: 'helper' },
      { id: 'verified', type: 'helper' },
      { id: 'failed', type: 'helper' },
      { id: 'shown', type: 'helper' },
    ];
    await helper.load([settingsNode, methodNode, requestNode, receiveNode, showNode], flow, {
      'm-secret': { clientSecret: op.secretClient.clientSecret },
      'm-jwt': { privateKey: JSON.stringify(op.jwtClient.privateJwk) },
      'm-hostile': { clientSecret: 'a-long-enough-secret-1234' },
      'm-down': { clientSecret: 'a-long-enough-secret-1234' },
      ...Object.fromEntries(FAULTS.map((f) => [`m-hostile-${f}`, { clientSecret: 'a-long-enough-secret-1234' }])),
    });
    helper.getNode('out').on('input', (m: Msg) => outs.push(m));
    helper.getNode('verified').on('input', (m: Msg) => verified.push(m));
    helper.getNode('failed').on('input', (m: Msg) => failed.push(m));
    helper.getNode('shown').on('input', (m: Msg) => shown.push(m));
    for (const n of ['ra', 'ra-faults', 'rcv', 'show']) helper.getNode(n).on('call:error', (call: Msg) => nodeErrors.push(String((call.args[0] as Error)?.message ?? call.args[0])));

    const app = services.app();
    assert.ok(app, 'the nodes mounted their routes on httpNode');
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    (await getCallService(services)).attach(server);
    for (const agent of ['agent1', 'agent2'] as const) {
      const ws = await openWs(`${base.replace('http', 'ws')}/ws?channel=agent`, staffCookies[agent]);
      ws.on('message', (d) => agentMessages[agent].push(JSON.parse(String(d))));
    }
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await helper.unload();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await op?.close();
    await hop?.close();
    for (const f of FAULTS) await faultOps[f]?.close();
    const dir = services?.config.dataDir;
    const db = dir ? path.join(dir, 'idvideo.sqlite') : undefined;
    const files = db ? [db, `${db}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')) : [];
    await services?.close();
    const onDisk = dir ? fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile()).map((f) => fs.readFileSync(f).toString('latin1')) : [];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    for (const r of restore) r();
    // Across the whole run: no attribute value in any log line, message, node error or file on disk.
    const everything = [
      ...captured,
      ...files,
      ...onDisk,
      ...nodeErrors,
      JSON.stringify([outs, verified, failed, shown, agentMessages, residentPushes]),
      JSON.stringify(helper.log().args ?? []),
    ].join('\n');
    for (const v of VALUES) assert.ok(!everything.includes(v), `the value ${v.slice(0, 3)}… leaked into logs, messages or disk`);
  });

  const openWs = (url: string, cookie: string) => openWsWith(url, cookie, base, sockets);
  const until = <T>(what: string, fn: () => T | undefined | false, ms = 8000) => untilWith(what, fn, ms);
  const resident = (appointmentId: string, connect = false) => residentClient(services, base, appointmentId, connect ? { onPush: (m) => residentPushes.push(m), sockets } : undefined);

  function agentClient(username: string): Client {
    const c = new Client(base);
    const [k, v] = staffCookies[username].split('=');
    c.cookies.set(k, v);
    return c;
  }

  /** Sends msg into idv-request-auth; resolves with its output, or rejects with the node's error. */
  async function ask(appointmentId: string, extra: Msg = {}, node = 'ra'): Promise<Msg> {
    const before = { outs: outs.length, errors: nodeErrors.length };
    helper.getNode(node).receive({ appointment: { id: appointmentId }, agent: 'agent1', purpose: 'Paspoort aanvragen', ...extra });
    await until('idv-request-auth to answer', () => outs.length > before.outs || nodeErrors.length > before.errors);
    if (nodeErrors.length > before.errors) throw new Error(nodeErrors[nodeErrors.length - 1]);
    return outs[outs.length - 1];
  }

  /** The resident picks a method: /auth/start must redirect (303) to the provider. */
  async function start(c: Client, requestId: string, method: string): Promise<string> {
    const res = await c.get(`/auth/start?request=${encodeURIComponent(requestId)}&method=${encodeURIComponent(method)}`);
    assert.equal(res.status, 303, `start answered ${res.status}`);
    const location = res.headers.get('location') ?? '';
    assert.ok([op, hop, ...Object.values(faultOps)].some((p) => location.startsWith(p.issuer)), 'redirected to the provider');
    return location;
  }

  /** Back from the provider to our callback; returns the outcome code of the redirect into the call. */
  async function callback(c: Client, callbackUrl: string): Promise<string> {
    const u = new URL(callbackUrl);
    const res = await c.get(`${u.pathname}${u.search}`);
    assert.equal(res.status, 303);
    const location = res.headers.get('location') ?? '';
    assert.match(location, /^\/call\?idv-auth=[a-z_]+$/);
    return new URL(location, base).searchParams.get('idv-auth') ?? '';
  }

  async function fullRun(appointmentId: string, method: string, login: Partial<Parameters<typeof loginWithHttp>[1]> = {}): Promise<string> {
    const c = await resident(appointmentId);
    const { requestId } = await ask(appointmentId);
    const to = await start(c, requestId, method);
    return callback(c, await loginWithHttp(to, { ...login, redirectUri: REDIRECT_URI }));
  }

  const sets = () => id.cache.stats().sets;
  const logOf = async (appointmentId: string) => id.log.list({ appointmentId, limit: 1000 });

  // The appointments, the agents' live channels and the processing log outlive a test. Each test reads only what came
  // after its own start (or its last expectFailure), so a check cannot be satisfied by an earlier test's rows.
  const mark = { agent1: 0, agent2: 0, log: {} as Record<string, number> };
  async function takeMark(): Promise<void> {
    mark.agent1 = agentMessages.agent1.length;
    mark.agent2 = agentMessages.agent2.length;
    for (const a of Object.values(appointments)) mark.log[a] = (await logOf(a)).length;
  }
  const noticesOf = (agent: 'agent1' | 'agent2') => agentMessages[agent].slice(mark[agent]);
  const newLog = async (appointmentId: string) => (await logOf(appointmentId)).slice(mark.log[appointmentId]);
  const lastNotice = (agent: 'agent1' | 'agent2') => noticesOf(agent).filter((m) => m.type === 'identification').at(-1);

  async function expectFailure(outcome: string, reason: string, appointmentId = appointments.a1): Promise<void> {
    assert.equal(outcome, reason);
    assert.equal(sets(), 0, 'nothing in the attribute cache');
    const f = await until('the failure output', () => failed.find((m) => m.reason === reason && m.appointment.id === appointmentId));
    assert.equal(f.attributeSetId, undefined);
    const notice = await until('the agent to be told', () => noticesOf('agent1').find((m) => m.type === 'identification' && m.reason === reason && m.appointmentId === appointmentId));
    assert.match(notice.text.nl, reason === 'cancelled' ? /Identificatie geannuleerd/ : /niet gelukt, probeer opnieuw/);
    const log = await newLog(appointmentId);
    assert.ok(log.some((r) => r.action === 'failed' && r.detail === reason), `log has failed/${reason}`);
    // A second expectFailure in the same test must find its own output, notice and row.
    failed.length = 0;
    await takeMark();
  }

  beforeEach(async () => {
    failed.length = 0;
    skewMs = 0;
    id.setAttributeTtlMinutes(15);
    await takeMark();
  });
  afterEach(async () => {
    // Every test leaves the cache empty for the next one.
    for (const a of Object.values(appointments)) await id.callEnded(a);
  });

  describe('the happy path, both client authentication methods', () => {
    for (const method of ['digid', 'digid-jwt']) {
      it(`${method}: pop-up pushed to the resident only, 303 to the provider, values for the owning agent only, never in a message`, async () => {
        const c = await resident(appointments.a1, true);
        const pushesBefore = residentPushes.length;
        const out = await ask(appointments.a1);
        assert.match(out.requestId, /^[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(out.attributeKeys, ['bsn', 'name', 'birthdate']);
        assert.equal(out.delivered, true);
        const push = await until('the pop-up push', () => residentPushes.slice(pushesBefore).find((m) => m.method === 'identificationRequest'));
        assert.equal(push.data.requestId, out.requestId);
        assert.deepEqual(push.data.methods.map((m: Msg) => m.id), ['digid', 'digid-jwt', 'hostile', 'down']);
        assert.equal(push.data.methods[0].logoUrl, '/auth/logos/digid.svg');
        assert.deepEqual(push.data.attributes.map((a: Msg) => a.labelNl), ['BSN', 'Naam', 'Geboortedatum']);
        assert.ok(!JSON.stringify(push).includes(op.secretClient.clientSecret) && !JSON.stringify(push).includes('issuer'), 'no client config in the pop-up');
        assert.equal(lastNotice('agent1')?.state, 'requested');

        const to = new URL(await start(c, out.requestId, method));
        assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
        assert.ok(to.searchParams.get('state') && to.searchParams.get('nonce') && to.searchParams.get('code_challenge'));
        assert.equal(to.searchParams.get('redirect_uri'), REDIRECT_URI);
        const cb = await loginWithHttp(to.href, { redirectUri: REDIRECT_URI, account: 'jan' });
        const verifiedBefore = verified.length;
        assert.equal(await callback(c, cb), 'ok');

        const v = await until('the verified output', () => verified[verifiedBefore]);
        assert.deepEqual(Object.keys(v).filter((k) => k !== '_msgid').sort(), ['acr', 'appointment', 'attributeKeys', 'attributeSetId', 'method', 'purpose', 'requestId', 'topic']);
        assert.equal(v.method, method);
        assert.deepEqual(v.attributeKeys, ['bsn', 'name', 'birthdate']);
        assert.equal(v.acr, DIGID_ACR_ORDER[2]);
        assert.equal(v.appointment.id, appointments.a1);
        const s = await until('the show node output', () => shown.find((m) => m.attributeSetId === v.attributeSetId));
        assert.equal(s.shown, 1, "the agent's one dashboard was told");
        const notice = await until('the verified notice', () => noticesOf('agent1').find((m) => m.state === 'verified' && m.attributeSetId === v.attributeSetId));
        assert.deepEqual(notice.attributeKeys, ['bsn', 'name', 'birthdate']);
        assert.ok(!agentMessages.agent2.some((m) => m.attributeSetId === v.attributeSetId), 'no other agent hears of it');

        // The values: only over the owning agent's authenticated GET.
        const mine = await agentClient('agent1').get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' });
        assert.equal(mine.status, 200);
        assert.equal(mine.headers.get('cache-control'), 'no-store');
        const body = (await mine.json()) as Msg;
        assert.deepEqual(body.attributes.map((a: Msg) => [a.key, a.label, a.value]), [['bsn', 'BSN', '999993653'], ['name', 'Naam', 'Jan Jansen'], ['birthdate', 'Geboortedatum', '1980-01-01']]);
        assert.equal(body.acr, DIGID_ACR_ORDER[2]);
        assert.ok(Date.parse(body.expiresAt) - Date.parse(body.verifiedAt) === 15 * 60_000, 'TTL from idv-settings');
        assert.equal((await agentClient('agent2').get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).status, 404, "another agent: 404");
        assert.equal((await new Client(base).get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).status, 401, 'signed out: 401');
        assert.equal((await c.get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).status, 401, 'the resident cookie is no staff session');

        const log = await newLog(appointments.a1);
        const actions = log.map((r) => [r.action, r.actor]);
        assert.deepEqual(actions, [['requested', 'agent1'], ['method_chosen', 'resident'], ['verified', 'resident'], ['shown', 'agent1']], 'exactly these rows, in this order');
        assert.deepEqual(log.at(-2)?.attributeKeys, ['bsn', 'name', 'birthdate']);
        assert.equal(log.at(-2)?.methodId, method);
      });
    }
  });

  describe('deletion', () => {
    it('"Verwijder nu" (POST + CSRF) empties the cache at once; the agent screen follows; log "deleted"', async () => {
      assert.equal(await fullRun(appointments.a1, 'digid'), 'ok');
      const v = verified.at(-1) as Msg;
      const agent = agentClient('agent1');
      const state = (await (await agent.get(`/auth/agent/appointments/${appointments.a1}`, { accept: 'application/json' })).json()) as Msg;
      assert.deepEqual(state.sets.map((s: Msg) => s.attributeSetId), [v.attributeSetId]);
      assert.deepEqual(state.purposes, ['Paspoort aanvragen', 'Adres controleren']);
      const noCsrf = await agent.request('POST', `/auth/agent/sets/${v.attributeSetId}/delete`, { json: {} });
      assert.equal(noCsrf.status, 403, 'no CSRF token: refused');
      assert.equal((await agentClient('agent2').request('POST', `/auth/agent/sets/${v.attributeSetId}/delete`, { json: { _csrf: state.csrf } })).status, 403, "another agent's token does not fit their cookie");
      assert.ok(id.cache.has(v.attributeSetId));
      const res = await agent.request('POST', `/auth/agent/sets/${v.attributeSetId}/delete`, { json: { _csrf: state.csrf } });
      assert.equal(res.status, 200);
      assert.equal(id.cache.has(v.attributeSetId), false);
      assert.equal(id.cache.get(v.attributeSetId), undefined);
      assert.equal(sets(), 0);
      await until('the deleted notice', () => noticesOf('agent1').find((m) => m.state === 'deleted' && m.attributeSetId === v.attributeSetId));
      const gone = await agent.get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' });
      assert.equal(gone.status, 404);
      const last = (await newLog(appointments.a1)).at(-1);
      assert.equal(last?.action, 'deleted');
      assert.equal(last?.actor, 'agent1');
      assert.equal(last?.detail, 'agent_deleted');
    });

    it('the TTL deletes: gone from the cache itself after expiry; log "expired"; the agent is told', async () => {
      id.setAttributeTtlSeconds(1);
      assert.equal(await fullRun(appointments.a1, 'digid-jwt'), 'ok');
      const v = verified.at(-1) as Msg;
      assert.ok(id.cache.has(v.attributeSetId));
      await until('expiry', () => !id.cache.has(v.attributeSetId) && sets() === 0, 5000);
      await until('the expired notice', () => noticesOf('agent1').find((m) => m.state === 'expired' && m.attributeSetId === v.attributeSetId), 3000);
      const last = (await newLog(appointments.a1)).at(-1);
      assert.equal(last?.action, 'expired');
      assert.equal((await agentClient('agent1').get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).status, 404);
    });

    it('the end of the call (media room callEnded/roomClosed) deletes the sets and the open request', async () => {
      assert.equal(await fullRun(appointments.a1, 'digid'), 'ok');
      const v = verified.at(-1) as Msg;
      const c = await resident(appointments.a1);
      const open = await ask(appointments.a1);
      const call = await getCallService(services);
      call.media.events.emit('callEnded', { appointmentId: appointments.a1, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), durationMs: 60_000 });
      call.media.events.emit('roomClosed', { appointmentId: appointments.a1, reason: 'ended' });
      await until('deletion at call end', () => sets() === 0);
      await until('the call_ended notice', () => noticesOf('agent1').find((m) => m.state === 'call_ended' && m.attributeSetId === v.attributeSetId));
      const log = await newLog(appointments.a1);
      assert.ok(log.some((r) => r.action === 'deleted' && r.detail === 'call_ended'));
      const res = await c.get(`/auth/start?request=${open.requestId}&method=digid`);
      assert.equal(res.status, 404, 'the open request went with the call');
    });
    it('when both participants have left, the sets go after the short grace, before the media room closes', async () => {
      assert.equal(await fullRun(appointments.a1, 'digid'), 'ok');
      assert.ok(sets() > 0);
      const call = await getCallService(services);
      const peer = (role: 'resident' | 'agent') => ({ appointmentId: appointments.a1, role });
      call.media.events.emit('peerJoined', peer('resident'));
      call.media.events.emit('peerJoined', peer('agent'));
      call.media.events.emit('peerLeft', peer('resident'));
      assert.ok(sets() > 0, 'the agent is still in the call: the values stay');
      const left = Date.now();
      call.media.events.emit('peerLeft', peer('agent'));
      await until('deletion when everyone left', () => sets() === 0, EVERYONE_LEFT_GRACE_MS + 8000);
      assert.ok(Date.now() - left >= EVERYONE_LEFT_GRACE_MS - 50, `not before the grace (${Date.now() - left} ms)`);
      const log = await newLog(appointments.a1);
      assert.ok(log.some((r) => r.action === 'deleted' && r.detail === 'call_ended'));
    });

    it('nobody in the call for a moment (a reload while the other side reconnects) is not the end of the call; nobody for the grace is', async () => {
      // The channel itself, with a short grace, on this runtime's call service and its presence.
      const call = await getCallService(services);
      const ended: string[] = [];
      const listening = call.presence.listenerCount('presence');
      const channels = callServiceChannels(services, { everyoneLeftGraceMs: 300 });
      const stop = channels.onCallEnded((id) => ended.push(id));
      try {
        await until('the channel listening', () => call.presence.listenerCount('presence') > listening);
        const id = `blip-${randomBytes(4).toString('hex')}`;
        const peer = (role: 'resident' | 'agent') => ({ appointmentId: id, role });
        call.media.events.emit('peerJoined', peer('resident'));
        call.media.events.emit('peerJoined', peer('agent'));
        call.media.events.emit('peerLeft', peer('resident'));
        call.media.events.emit('peerLeft', peer('agent'));
        // Back within the grace: the call goes on.
        call.media.events.emit('peerJoined', peer('agent'));
        // Past the grace, seen by a control call that does end: its timer starts after this call's would have, with
        // the same grace, so this call's would have fired first (timers of one length fire in the order they were set).
        const other = `${id}-other`;
        call.media.events.emit('peerJoined', { appointmentId: other, role: 'resident' });
        call.media.events.emit('peerLeft', { appointmentId: other, role: 'resident' });
        await until('the control call ends after its grace', () => ended.includes(other), 5000);
        assert.deepEqual(ended.filter((e) => e === id), [], 'a moment with nobody connected did not end the call');
        // Now nobody for the whole grace: it ends, once.
        call.media.events.emit('peerLeft', peer('agent'));
        await until('the call ends after the grace', () => ended.includes(id), 5000);
        assert.equal(ended.filter((e) => e === id).length, 1);
      } finally {
        stop();
      }
    });
  });

  describe('hostile input and faults: nothing in the cache, the agent told in plain words', () => {
    it('the resident cancels at the provider (access_denied) -> "identificatie geannuleerd"', async () => {
      await expectFailure(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, login: 'cancel' }), 'cancelled');
    });

    it('"Annuleren" in the pop-up -> declined; same-origin JSON only', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const pending = (await (await c.get('/auth/pending', { accept: 'application/json' })).json()) as Msg;
      assert.equal(pending.request.requestId, requestId);
      assert.equal(pending.texts.cancel, 'Annuleren');
      assert.equal((await c.request('POST', '/auth/decline', { json: { requestId }, headers: { origin: 'https://evil.example' } })).status, 403);
      assert.equal((await c.post('/auth/decline', { requestId })).status, 403, 'a form post is refused');
      assert.equal((await c.request('POST', '/auth/decline', { json: { requestId } })).status, 200);
      const f = await until('the failure output', () => failed.find((m) => m.reason === 'declined'));
      assert.equal(f.appointment.id, appointments.a1);
      // The agent's notice comes on its own channel, after the failure output may have: wait for it (a busy machine).
      await until('the agent told of the cancel', () => (/Identificatie geannuleerd/.test(lastNotice('agent1')?.text.nl ?? '') ? true : undefined));
      assert.equal((await (await c.get('/auth/pending', { accept: 'application/json' })).json() as Msg).request, null);
    });

    it('the same call session returning again (reload, back, double submit) is the same success; another session is refused', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const cb = await loginWithHttp(await start(c, requestId, 'digid'), { redirectUri: REDIRECT_URI });
      const rowsBefore = (await logOf(appointments.a1)).length;
      // A double submit: both answers are the first one's.
      assert.deepEqual(await Promise.all([callback(c, cb), callback(c, cb)]), ['ok', 'ok']);
      assert.equal(await callback(c, cb), 'ok', 'a reload after success is the same success');
      assert.equal(sets(), 1, 'one set');
      const rows = (await logOf(appointments.a1)).slice(rowsBefore);
      assert.deepEqual(rows.map((r) => r.action), ['verified'], 'one verified row, no failed row after it');
      assert.ok(!failed.some((m) => m.requestId === requestId), 'no failure output');
      assert.ok(!noticesOf('agent1').some((m) => m.requestId === requestId && m.state === 'failed'), 'the agent is not told it failed');

      // The same callback in another call session (another device with the same link, or someone else): refused.
      const other = await resident(appointments.a1);
      assert.equal(await callback(other, cb), 'replayed');
      assert.equal(sets(), 1, 'the replay added nothing');
    });

    it('wrong nonce (an ID token for another request) -> validation_failed', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const to = new URL(await start(c, requestId, 'digid'));
      to.searchParams.set('nonce', randomBytes(32).toString('base64url'));
      await expectFailure(await callback(c, await loginWithHttp(to.href, { redirectUri: REDIRECT_URI })), 'validation_failed');
    });

    it('a foreign iss on the callback -> validation_failed', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const cb = new URL(await loginWithHttp(await start(c, requestId, 'digid-jwt'), { redirectUri: REDIRECT_URI }));
      cb.searchParams.set('iss', 'https://evil.example');
      await expectFailure(await callback(c, cb.href), 'validation_failed');
    });

    it('a request older than 10 minutes -> expired', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const cb = await loginWithHttp(await start(c, requestId, 'digid'), { redirectUri: REDIRECT_URI });
      skewMs = 10 * 60_000 + 1000;
      await expectFailure(await callback(c, cb), 'expired');
    });

    it("a callback in another resident's call session -> wrong_session; the victim's request is spent", async () => {
      const victim = await resident(appointments.a1);
      const thief = await resident(appointments.b1);
      const { requestId } = await ask(appointments.a1);
      const cb = await loginWithHttp(await start(victim, requestId, 'digid'), { redirectUri: REDIRECT_URI });
      await expectFailure(await callback(thief, cb), 'wrong_session');
      assert.equal(await callback(victim, cb), 'replayed', 'the state cannot be used afterwards either');
      assert.equal(sets(), 0);
    });

    it("starting another resident's request, without a call cookie, or with a method not offered is refused", async () => {
      const { requestId } = await ask(appointments.a1);
      const other = await resident(appointments.b1);
      assert.equal((await other.get(`/auth/start?request=${requestId}&method=digid`)).status, 404);
      assert.equal((await new Client(base).get(`/auth/start?request=${requestId}&method=digid`)).status, 401);
      const mine = await resident(appointments.a1);
      assert.equal((await mine.get(`/auth/start?request=${requestId}&method=yivi`)).status, 400);
      assert.equal((await mine.get(`/auth/start?request=${encodeURIComponent("'; DROP TABLE x;--")}&method=digid`)).status, 404);
      const restricted = await ask(appointments.a1, { methods: ['digid-jwt'] });
      assert.deepEqual(restricted.methods, ['digid-jwt']);
      assert.equal((await mine.get(`/auth/start?request=${restricted.requestId}&method=digid`)).status, 400, 'msg.methods narrowed the offer');
      assert.equal(sets(), 0);
    });

    // Titles name the accounts, not the numbers: mocha's own output is part of what is searched for values.
    for (const account of ['ongeldig', 'nul'] as const) {
      it(`a BSN failing the elfproef (test person "${account}") -> bsn_invalid`, async () => {
        await expectFailure(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, account }), 'bsn_invalid');
      });
    }

    it('a claim that is not on the list is dropped unseen', async () => {
      assert.equal(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, account: 'extra' }), 'ok');
      const v = verified.at(-1) as Msg;
      assert.deepEqual(v.attributeKeys, ['bsn', 'name', 'birthdate']);
      const body = (await (await agentClient('agent1').get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).json()) as Msg;
      assert.ok(!JSON.stringify(body).includes('GEHEIM') && !JSON.stringify(body).includes('geheim'));
    });

    it('a too-low acr -> acr_too_low (chosen on the login page, and forced by the account)', async () => {
      await expectFailure(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, acr: DIGID_ACR_ORDER[0] }), 'acr_too_low');
      failed.length = 0;
      await expectFailure(await fullRun(appointments.a1, 'digid-jwt', { redirectUri: REDIRECT_URI, account: 'laag' }), 'acr_too_low');
    });

    it('a huge userinfo answer -> too_large', async () => {
      await expectFailure(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, account: 'groot' }), 'too_large');
    });

    it('provider down at discovery: /auth/start answers a page with the way back to the call; the agent is told', async () => {
      const c = await resident(appointments.a1);
      const { requestId } = await ask(appointments.a1);
      const res = await c.get(`/auth/start?request=${requestId}&method=down`);
      assert.equal(res.status, 502);
      const page = await res.text();
      assert.match(page, /niet bereikbaar/);
      assert.match(page, /href="\/call"/);
      assert.equal(sets(), 0);
      await until('the agent to be told', () => noticesOf('agent1').find((m) => m.state === 'failed' && m.methodId === 'down'));
      assert.ok((await newLog(appointments.a1)).some((r) => r.action === 'failed' && r.methodId === 'down' && r.detail === 'provider_error'));
      assert.equal((await c.get('/auth/pending', { accept: 'application/json' }).then((r) => r.json()) as Msg).request.requestId, requestId, 'the resident may choose another method');
    });

    for (const [what, fault, set] of [
      ['a slow token endpoint', 'token', (h: HostileOp) => (h.mode.token = 'hang')],
      ['a JWKS answering 500', 'jwks', (h: HostileOp) => (h.mode.jwks = '500')],
      ['a userinfo endpoint answering 500', 'userinfo', (h: HostileOp) => (h.mode.userinfo = '500')],
    ] as const) {
      it(`${what} -> provider_error within the deadline`, async () => {
        // Its own provider: only this test's requests ever reach it (nothing cached from another test).
        const p = faultOps[fault];
        p.mode = { discovery: 'ok', token: 'ok', jwks: 'ok', userinfo: 'ok' };
        const jwksHits = p.hits['/jwks'] ?? 0;
        const c = await resident(appointments.a1);
        const { requestId } = await ask(appointments.a1, { methods: [`hostile-${fault}`] }, 'ra-faults');
        const to = new URL(await start(c, requestId, `hostile-${fault}`));
        assert.ok(to.href.startsWith(p.issuer), "to this test's own provider");
        p.nonce = to.searchParams.get('nonce') ?? '';
        set(p);
        const t0 = Date.now();
        const outcome = await callback(c, `${REDIRECT_URI}?code=code-1&state=${to.searchParams.get('state')}&iss=${encodeURIComponent(p.issuer)}`);
        assert.ok(Date.now() - t0 < 10_000, 'bounded by the 1.5 s deadline, far below the 30 s default');
        p.mode = { discovery: 'ok', token: 'ok', jwks: 'ok', userinfo: 'ok' };
        if (fault === 'jwks') assert.ok((p.hits['/jwks'] ?? 0) > jwksHits, 'the client asked for the JWKS (and got 500)');
        await expectFailure(outcome, 'provider_error');
      });
    }

    it("an agent asking in another agent's appointment: error on the node, a plain message to that agent", async () => {
      await assert.rejects(ask(appointments.a1, { agent: 'agent2' }), /may not ask for identification/);
      const n = await until('agent2 to be told', () => noticesOf('agent2').find((m) => m.state === 'not_your_appointment'));
      assert.match(n.text.nl, /alleen identificatie vragen in uw eigen gesprekken/);
      assert.ok(!noticesOf('agent1').some((m) => m.state === 'not_your_appointment'));
      const pending = (await (await (await resident(appointments.a1)).get('/auth/pending', { accept: 'application/json' })).json()) as Msg;
      assert.equal(pending.request, null, 'no pop-up for the resident');
    });

    it('bad messages are refused with a clear error and nothing recorded', async () => {
      const before = (await logOf(appointments.a1)).length;
      await assert.rejects(ask(appointments.a1, { purpose: '' }), /msg.purpose/);
      await assert.rejects(ask(appointments.a1, { purpose: 'x'.repeat(201) }), /msg.purpose/);
      await assert.rejects(ask(appointments.a1, { agent: undefined }), /msg.agent/);
      await assert.rejects(ask('../../etc', {}), /appointment/);
      await assert.rejects(ask(appointments.a1, { methods: ['yivi'] }), /does not offer: yivi/);
      await assert.rejects(ask(appointments.a1, { methods: 'digid' }), /list of method ids/);
      assert.equal((await logOf(appointments.a1)).length, before);
    });

    it('a forged callback without state, or with junk, stores nothing', async () => {
      const c = await resident(appointments.a1);
      assert.equal(await callback(c, `${REDIRECT_URI}?code=abc`), 'validation_failed');
      assert.equal(await callback(c, `${REDIRECT_URI}?state=${'A'.repeat(43)}&code=x`), 'expired');
      assert.equal(sets(), 0);
    });
  });

  describe('the panel button and the processing log page', () => {
    /**
     * An identification of the test's own on appointment a1 that the agent was shown ("shown" is logged when the
     * agent's side fetches the values, not when idv-show-to-agent sends): returns the trace id of its verification.
     */
    async function shownIdentification(): Promise<string> {
      const verifiedBefore = verified.length;
      assert.equal(await fullRun(appointments.a1, 'digid'), 'ok');
      const v = await until('the verified output', () => verified.slice(verifiedBefore).find((m) => m.appointment.id === appointments.a1));
      assert.equal((await agentClient('agent1').get(`/auth/agent/sets/${v.attributeSetId}`, { accept: 'application/json' })).status, 200);
      const log = await newLog(appointments.a1);
      assert.deepEqual(log.map((r) => r.action), ['requested', 'method_chosen', 'verified', 'shown']);
      assert.ok(log.every((r) => r.traceId === log[0].traceId), 'one trace');
      return String(log[0].traceId);
    }

    it('"Vraag identificatie" on the panel (CSRF, own appointment, listed purpose) runs through idv-request-auth', async () => {
      const agent = agentClient('agent1');
      const state = (await (await agent.get(`/auth/agent/appointments/${appointments.a1}`, { accept: 'application/json' })).json()) as Msg;
      assert.equal((await agent.request('POST', `/auth/agent/appointments/${appointments.a1}/request`, { json: { purpose: 'Paspoort aanvragen' } })).status, 403, 'no CSRF');
      assert.equal((await agent.request('POST', `/auth/agent/appointments/${appointments.a1}/request`, { json: { purpose: 'iets anders', _csrf: state.csrf } })).status, 400);
      assert.equal((await agent.request('POST', `/auth/agent/appointments/${appointments.b1}/request`, { json: { purpose: 'Paspoort aanvragen', _csrf: state.csrf } })).status, 404);
      assert.equal((await agentClient('agent2').get(`/auth/agent/appointments/${appointments.a1}`, { accept: 'application/json' })).status, 404);
      const n = outs.length;
      const res = await agent.request('POST', `/auth/agent/appointments/${appointments.a1}/request`, { json: { purpose: 'Adres controleren', _csrf: state.csrf } });
      assert.equal(res.status, 202);
      const out = await until('the node output', () => outs[n]);
      assert.equal(out.purpose, 'Adres controleren');
      assert.equal(out.agent, 'agent1');
    });

    it('an incoming traceparent on the panel\'s request is continued (same trace, new span); a malformed one starts a trace of its own', async () => {
      const agent = agentClient('agent1');
      const state = (await (await agent.get(`/auth/agent/appointments/${appointments.a1}`, { accept: 'application/json' })).json()) as Msg;
      const caller = { trace: '4bf92f3577b34da6a3ce929d0e0e4736', span: '00f067aa0ba902b7' };
      const ask = async (header: string | undefined) => {
        const n = outs.length;
        const res = await agent.request('POST', `/auth/agent/appointments/${appointments.a1}/request`, { json: { purpose: 'Adres controleren', _csrf: state.csrf }, ...(header !== undefined ? { headers: { traceparent: header } } : {}) });
        assert.equal(res.status, 202, `the request goes on whatever its traceparent (${header})`);
        await until('the node output', () => outs[n]);
        const log = await services.store.processingLog.list({ appointmentId: appointments.a1, limit: 1000 });
        return log.filter((r) => r.action === 'requested').at(-1)!;
      };
      const continued = await ask(`00-${caller.trace}-${caller.span}-01`);
      assert.equal(continued.traceId, caller.trace, 'the same trace');
      assert.equal(continued.parentSpanId, caller.span, 'the caller\'s span is the parent');
      assert.match(String(continued.spanId), /^[0-9a-f]{16}$/);
      assert.notEqual(continued.spanId, caller.span, 'a new span');
      // A later version with more fields is read by its first four (W3C Trace Context 4.3).
      assert.equal((await ask(`cc-${caller.trace}-${caller.span}-01-what-comes-later`)).traceId, caller.trace);
      const malformed = [
        `00-${caller.trace.toUpperCase()}-${caller.span}-01`, // upper-case hex
        `00-${'0'.repeat(32)}-${caller.span}-01`, // all-zero trace id
        `00-${caller.trace}-${'0'.repeat(16)}-01`, // all-zero parent id
        `ff-${caller.trace}-${caller.span}-01`, // version ff
        `00-${caller.trace}-${caller.span}-01-extra`, // version 00 with more
        `00-${caller.trace}-${caller.span}`, // no flags
        `00-${caller.trace}-${caller.span}-01,00-${caller.trace}-${caller.span}-01`, // sent twice
        'niet-een-traceparent',
        '',
      ];
      for (const header of malformed) {
        const r = await ask(header);
        assert.notEqual(r.traceId, caller.trace, `a new trace for ${header}`);
        assert.match(String(r.traceId), /^[0-9a-f]{32}$/);
        assert.equal(r.parentSpanId, null, `no parent for ${header}`);
      }
    });

    it('the Logboek mapping: one trace per identification, linked spans, traceparent to the provider, a JSON Lines export', async () => {
      const traceId = await shownIdentification();
      const admin = agentClient('admin');
      const res = await admin.get(`/admin-log/export.jsonl?appointment=${appointments.a1}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
      const text = await res.text();
      for (const v of VALUES) assert.ok(!text.includes(v), 'no attribute value in the export');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { attributes: { key: string; value: string }[] });
      assert.ok(lines.length > 3);
      for (const l of lines) {
        assert.match(String(l.trace_id), /^[0-9a-f]{32}$/);
        assert.match(String(l.span_id), /^[0-9a-f]{16}$/);
        assert.ok([0, 1, 2].includes(l.status_code as number));
        assert.ok(typeof l.start_time === 'number' && typeof l.end_time === 'number' && (l.end_time as number) >= (l.start_time as number));
        assert.ok(String(l.name).startsWith('idv.'));
      }
      // This test's identification: requested → method chosen → verified → shown, one trace, spans pointing at the request / verification.
      const trace = lines.filter((l) => l.trace_id === traceId);
      const verified = trace.find((l) => l.name === 'idv.verified')!;
      assert.ok(verified, "this test's verification is in the export");
      const requested = trace.find((l) => l.name === 'idv.requested')!;
      assert.ok(requested, 'the request is in the verification\'s trace');
      assert.equal(verified.parent_span_id, requested.span_id);
      assert.ok(trace.some((l) => l.name === 'idv.method_chosen' && l.parent_span_id === requested.span_id));
      const activity = requested.attributes.find((a) => a.key === 'dpl.core.processing_activity_id');
      assert.equal(activity?.value, ACTIVITY_PASPOORT);
      const shown = trace.find((l) => l.name === 'idv.shown');
      assert.ok(shown, 'the agent saw the set');
      assert.equal(shown.parent_span_id, verified.span_id);
      // The data subject from the verification on: a keyed pseudonym of the BSN, never the BSN (VALUES above).
      const subject = (l: { attributes: { key: string; value: string }[] }, k = 'dpl.core.data_subject_id') => l.attributes.find((a) => a.key === k)?.value;
      assert.ok(['999993653', '999990019', '123456789'].map((b) => dataSubjectId(services.secret, b)).includes(subject(verified)), 'the pseudonym of the verified BSN');
      assert.match(String(subject(verified)), /^[0-9a-f]{64}$/);
      assert.equal(subject(verified, 'dpl.core.data_subject_id_type'), 'BSN');
      assert.equal(subject(shown), subject(verified), 'the same person in the records that follow');
      assert.equal(subject(requested), undefined, 'not known before the verification');
      // The provider saw the verification's span on the token request (and a child of the trace on userinfo).
      const ours = `00-${String(verified.trace_id)}-${String(verified.span_id)}-01`;
      assert.ok(providerCalls.some((c) => c.method === 'POST' && /token/.test(c.path) && c.traceparent === ours), 'the token request names the verification');
      assert.ok(providerCalls.filter((c) => c.traceparent === ours).length >= 2, 'token and userinfo carry it');

      assert.equal((await admin.get('/admin-log/export.jsonl?from=gisteren')).status, 400);
      assert.equal((await admin.get('/admin-log/export.jsonl?appointment=a&appointment=b')).status, 400);
      assert.equal((await agentClient('agent1').get('/admin-log/export.jsonl')).status, 403);
    });

    it('/admin-log: admin only, names and codes, never values', async () => {
      // Its own rows: one verification the agent was shown, its deletion at the end of the call, and one cancelled at
      // the provider.
      await shownIdentification();
      await id.callEnded(appointments.a1);
      await expectFailure(await fullRun(appointments.a1, 'digid', { redirectUri: REDIRECT_URI, login: 'cancel' }), 'cancelled');
      const admin = agentClient('admin');
      const page = await admin.get(`/admin-log?appointment=${appointments.a1}`);
      assert.equal(page.status, 200);
      const text = await page.text();
      // This test's own appointment was cancelled, not left to expire (each test builds the state it needs).
      for (const word of ['requested', 'method_chosen', 'verified', 'shown', 'deleted', 'failed', 'cancelled', 'bsn, name, birthdate', 'Paspoort aanvragen', 'agent1', ACTIVITY_PASPOORT, 'export.jsonl']) assert.ok(text.includes(word), word);
      assert.match(text, /idv-log-trace[^>]*>[0-9a-f]{32}</, 'trace ids shown');
      for (const v of VALUES) assert.ok(!text.includes(v));
      assert.equal((await agentClient('agent1').get('/admin-log')).status, 403);
      assert.equal((await new Client(base).get('/admin-log')).status, 303, 'signed out: to the login page');
    });
  });
});

describe('identification configuration', function () {
  this.timeout(20_000);
  after(async () => {
    await helper.unload();
    await stopServices();
  });

  it('idv-auth-method is validated at runtime: every bad field named, the secret never echoed', () => {
    const secret = 'short-secret';
    const r = methodFromEditor(
      { methodId: 'Bad Id', displayName: '', logo: 'url', logoUrl: 'http://example.com/logo.png', issuer: 'http://idp.example', clientId: 'c', clientAuth: 'client_secret_basic', scopes: 'openid', extraAuthParams: 'state=x\nkc_idp_hint=digid', claims: '[{"claim":"bsn","key":"BSN","labelNl":"BSN","labelEn":"BSN","kind":"number"}]', acrMinimum: 'hoog', acrOrder: 'basis midden' },
      { clientSecret: secret },
    );
    assert.equal(r.ok, false);
    const text = r.ok ? '' : r.errors.join('\n');
    for (const field of ['id:', 'displayName:', 'logo:', 'issuer:', 'clientSecret:', 'extraAuthParams:', 'acr:', 'claims[0].key:', 'claims[0].kind:']) assert.ok(text.includes(field), `${field} in ${text}`);
    assert.ok(!text.includes(secret));
    const jwk = methodFromEditor({ methodId: 'x', displayName: 'X', logo: 'generic', issuer: 'https://idp.example', clientId: 'c', clientAuth: 'private_key_jwt', scopes: 'openid', claims: '[{"claim":"name","key":"name","labelNl":"Naam","labelEn":"Name"}]' }, { privateKey: '{"kty":"oct","k":"c2VjcmV0"}' });
    assert.equal(jwk.ok, false);
    assert.ok(!jwk.ok && !jwk.errors.join(' ').includes('c2VjcmV0'));
  });

  it('an invalid method makes idv-request-auth refuse every message with a clear error; demo methods never outside demo mode', async () => {
    startServices({ IDV_PUBLIC_URL: PUBLIC_URL });
    await helper.load([settingsNode, methodNode, requestNode], [
      { id: 'bad', type: 'idv-auth-method', methodId: 'digid', displayName: 'DigiD', logo: 'digid', issuer: 'http://idp.example', clientId: 'c', clientAuth: 'client_secret_basic', scopes: 'openid', claims: '[]' },
      { id: 'ra', type: 'idv-request-auth', method1: 'bad', wires: [[]] },
    ], { bad: { clientSecret: 'a-long-enough-secret-1234' } });
    const errors: string[] = [];
    helper.getNode('ra').on('call:error', (call: Msg) => errors.push(String(call.args[0]?.message ?? call.args[0])));
    helper.getNode('ra').receive({ appointment: { id: 'x' }, agent: 'agent1', purpose: 'p' });
    // Wait for the refusal itself, not a fixed time: a busy machine may take longer than any sleep.
    await untilWith('the refusal', () => errors.length > 0, 8000);
    assert.match(errors.join('\n'), /not configured: the method "bad" is invalid: .*issuer/);
    await assert.rejects(demoMethods({ config: { mode: 'production' } } as unknown as Services, REDIRECT_URI), /demo mode only/);
  });
});
