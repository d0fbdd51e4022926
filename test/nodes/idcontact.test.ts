/**
 * Identification through an ID Contact core, with the nodes and real parts: a stand-in core and auth plugin on
 * loopback built from the published protocol (test/support/idcontact-core.ts, keys generated with jose), the call
 * service for the resident's pushes and the agent hub, SQLite for the processing log. Every bad input of issue 17
 * leaves nothing in the attribute cache and a reason code in the processing log. At the end every log line, Node-RED
 * message and file of the data dir is searched for the values.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { getCallService } from '../../lib/call/service';
import { eventsOf } from '../../lib/events/runtime';
import { loadConfig } from '../../lib/config';
import { ATTR_PATH, RETURN_PATH } from '../../lib/idcontact/flows';
import { identificationServiceOf, UNKNOWN_APPOINTMENT, type IdentificationService } from '../../lib/identification/service';
import { newToken } from '../../lib/security/tokens';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { Client, ownLoopbackAddress } from '../support/http-client';
import { appointmentNow, captureProcessOutput, openWs as openWsWith, residentClient, until } from '../support/identification-test';
import { startIdContactStandIn, type StandIn } from '../support/idcontact-core';
import { generateKeys, sealAuthResult, unsignedJws, type KeyPairPem } from '../support/idcontact-tokens';
import { helper } from '../support/node-red';
import { makeTestCert } from '../support/nginx';
import { tempDir } from '../support/runtime';
import { sqliteDb } from '../support/sqlite-rows';

/* eslint-disable @typescript-eslint/no-require-imports */
const settingsNode = require('../../nodes/idv-settings/idv-settings');
const coreNode = require('../../nodes/idv-idcontact-core/idv-idcontact-core');
const requestNode = require('../../nodes/idv-request-auth/idv-request-auth');
const receiveNode = require('../../nodes/idv-receive-attributes/idv-receive-attributes');
const showNode = require('../../nodes/idv-show-to-agent/idv-show-to-agent');
const sessionNode = require('../../nodes/idv-idcontact-session/idv-idcontact-session');
/* eslint-enable @typescript-eslint/no-require-imports */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;
const PASSWORD = 'idcontact-test-password';
const START_SECRET = 'a-start-secret-that-is-long-enough-1234';

/** The core's TLS client certificate (and another one), as makeTestCert makes them with openssl. */
function makeClientCert(): { pem: string; fingerprint: string; otherPem: string } {
  const dirs = [tempDir('idv-cert-'), tempDir('idv-cert-')];
  const [core, other] = dirs.map((d, i) => makeTestCert(d, i === 0 ? 'core.idcontact.example' : 'other.example').pem);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  return { pem: core, otherPem: other, fingerprint: new X509Certificate(core).fingerprint256 };
}
const PERSON = { bsn: '999993653', fullname: 'Jan Idcontact', email: 'jan.idcontact@example.test' };
const VALUES = [PERSON.bsn, PERSON.fullname, PERSON.email, 'NL91TEST0417164300', '123456789'];
const captured: string[] = [];

describe('identification through an ID Contact core (nodes, stand-in core)', function () {
  this.timeout(60_000);
  let services: Services;
  let id: IdentificationService;
  let server: http.Server;
  let base: string;
  let core: StandIn;
  let ours: KeyPairPem;
  let plugin: KeyPairPem;
  let stranger: KeyPairPem;
  const appointments = { a1: '', b1: '' };
  const outs: Msg[] = [];
  const verified: Msg[] = [];
  const failed: Msg[] = [];
  const started: Msg[] = [];
  let clientCert: { pem: string; fingerprint: string; otherPem: string };
  const nodeErrors: string[] = [];
  const agentMessages: Msg[] = [];
  const residentPushes: Msg[] = [];
  const sockets: WebSocket[] = [];
  const restore: (() => void)[] = [];
  let agentCookie = '';

  before(async () => {
    restore.push(captureProcessOutput(captured));
    [ours, plugin, stranger] = await Promise.all([generateKeys('rsa'), generateKeys('rsa'), generateKeys('rsa')]);
    // The public URL must be where this server listens: the stand-in plugin posts to our attr_url.
    let handler: http.RequestListener = (_req, res) => res.end();
    server = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dataDir = tempDir('idv-idcontact-');
    // A trusted proxy, so the client-certificate mode of start_communication can be tried (its headers count only then).
    const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '1880', IDV_PUBLIC_URL: base, IDV_MEDIA_WORKERS: '1', IDV_TRUST_PROXY: '1' });
    const log = { info: (m: string) => captured.push(m), warn: (m: string) => captured.push(m), error: (m: string) => captured.push(m) };
    services = initServices({ config, log });
    id = identificationServiceOf(services, { flows: { httpTimeoutMs: 1500 } });
    await services.staffStore.upsertUser({ username: 'agent1', displayName: 'agent1', roles: ['agent'], passwordHash: await hashPassword(PASSWORD) });
    for (const u of ['agent2', 'agent3', 'agent4']) await services.staffStore.upsertUser({ username: u, displayName: u, roles: ['agent'], passwordHash: await hashPassword(PASSWORD) });
    clientCert = makeClientCert();
    const login = await services.staff.login('agent1', PASSWORD);
    assert.ok(login.ok);
    agentCookie = `${services.staff.cookie}=${login.sessionId}`;

    core = await startIdContactStandIn({
      purpose: 'report_move',
      attributes: ['bsn', 'fullname'],
      authMethods: [{ tag: 'digid', name: 'DigiD' }, { tag: 'irma', name: 'Yivi' }],
      commPublicKey: ours.publicKey,
      pluginSignKey: plugin.privateKey,
      person: PERSON,
    });

    appointments.a1 = await appointmentNow(services, 'agent1', -5, 'idc-a1', 'Verhuizing doorgeven');
    appointments.b1 = await appointmentNow(services, 'agent2', -5, 'idc-b1', 'Verhuizing doorgeven');

    const attributes = JSON.stringify([
      { claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' },
      { claim: 'fullname', key: 'name', labelNl: 'Naam', labelEn: 'Name', kind: 'text' },
      { claim: 'email', key: 'email', labelNl: 'E-mailadres', labelEn: 'E-mail address', kind: 'text' },
    ]);
    const flow = [
      { id: 'c1', type: 'idv-settings', municipality: 'Gemeente Testdorp', fromAddress: 'video@testdorp.example', attributeTtlMinutes: 15 },
      { id: 'core1', type: 'idv-idcontact-core', coreUrl: core.coreUrl, purpose: 'report_move', methodPrefix: 'idc', attributes, allowInsecureLoopback: true, startAuth: 'secret' },
      { id: 'ra', type: 'idv-request-auth', settings: 'c1', idcontact: 'core1', attributes: 'bsn, name', purposes: 'Verhuizing controleren', wires: [['out']] },
      { id: 'rcv', type: 'idv-receive-attributes', settings: 'c1', wires: [['show', 'verified'], ['failed']] },
      { id: 'show', type: 'idv-show-to-agent', wires: [[]] },
      { id: 'core2', type: 'idv-idcontact-core', coreUrl: core.coreUrl, purpose: 'report_move', methodPrefix: 'idcc', attributes, allowInsecureLoopback: true, startAuth: 'client-cert', clientCertFingerprint: clientCert.fingerprint },
      { id: 'sess', type: 'idv-idcontact-session', core: 'core1', settings: 'c1', path: '/idcontact', topic: 'Videogesprek via ID Contact', agents: 'agent3, agent4', durationMinutes: 30, wires: [['started']] },
      { id: 'sess-cert', type: 'idv-idcontact-session', core: 'core2', settings: 'c1', path: '/idcontact-mtls', topic: 'Videogesprek via ID Contact', agents: 'agent3, agent4', durationMinutes: 30, wires: [['started']] },
      { id: 'out', type: 'helper' },
      { id: 'verified', type: 'helper' },
      { id: 'failed', type: 'helper' },
      { id: 'started', type: 'helper' },
    ];
    await helper.load([settingsNode, coreNode, requestNode, receiveNode, showNode, sessionNode], flow, {
      core1: { decryptionKey: ours.privatePem, signingKeys: plugin.publicPem, startSecret: START_SECRET },
      core2: { decryptionKey: ours.privatePem, signingKeys: plugin.publicPem },
    });
    helper.getNode('started').on('input', (m: Msg) => started.push(m));
    helper.getNode('out').on('input', (m: Msg) => outs.push(m));
    helper.getNode('verified').on('input', (m: Msg) => verified.push(m));
    helper.getNode('failed').on('input', (m: Msg) => failed.push(m));
    for (const n of ['ra', 'rcv', 'show', 'core1', 'core2', 'sess', 'sess-cert']) helper.getNode(n).on('call:error', (call: Msg) => nodeErrors.push(String((call.args[0] as Error)?.message ?? call.args[0])));
    const app = services.app();
    assert.ok(app);
    handler = app;
    (await getCallService(services)).attach(server);
    const ws = await openWs(`${base.replace('http', 'ws')}/ws?channel=agent`, agentCookie);
    ws.on('message', (d) => agentMessages.push(JSON.parse(String(d))));
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await helper.unload();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await core?.close();
    const dir = services?.config.dataDir;
    await services?.close();
    const onDisk = dir ? fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile()).map((f) => fs.readFileSync(f).toString('latin1')) : [];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    for (const r of restore) r();
    const everything = [...captured, ...onDisk, ...nodeErrors, JSON.stringify([outs, verified, failed, started, agentMessages, residentPushes]), JSON.stringify(helper.log().args ?? [])].join('\n');
    for (const v of VALUES) assert.ok(!everything.includes(v), `the value ${v.slice(0, 3)}… leaked into logs, messages or disk`);
    assert.ok(!everything.includes(ours.privatePem.slice(40, 80)), 'our private key never leaves the credentials');
  });

  const openWs = (url: string, cookie: string) => openWsWith(url, cookie, base, sockets);
  const resident = (appointmentId: string, connect = false) => residentClient(services, base, appointmentId, connect ? { onPush: (m) => residentPushes.push(m), sockets } : undefined);

  async function ask(appointmentId = appointments.a1, agent = 'agent1'): Promise<Msg> {
    const before = { outs: outs.length, errors: nodeErrors.length };
    helper.getNode('ra').receive({ appointment: { id: appointmentId }, agent, purpose: 'Verhuizing controleren' });
    await until('idv-request-auth to answer', () => outs.length > before.outs || nodeErrors.length > before.errors);
    if (nodeErrors.length > before.errors) throw new Error(nodeErrors[nodeErrors.length - 1]);
    return outs[outs.length - 1];
  }

  /** Asks, picks `method` in the resident's pop-up: returns the client_url, and the attr_url/comm_url the core got. */
  async function begin(c: Client, method = 'idc-digid'): Promise<{ clientUrl: string; attrUrl: string; commUrl: string; requestId: string }> {
    const { requestId } = await ask();
    const startsBefore = core.starts.length;
    const res = await c.get(`/auth/start?request=${encodeURIComponent(requestId)}&method=${method}`);
    assert.equal(res.status, 303, `start answered ${res.status}`);
    const body = core.starts[startsBefore];
    return { clientUrl: res.headers.get('location') ?? '', attrUrl: String(body.attr_url), commUrl: String(body.comm_url), requestId };
  }

  const postResult = (url: string, body: string, type = 'application/jwt') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  const sets = () => id.cache.stats().sets;
  const logOf = (appointmentId: string) => id.log.list({ appointmentId, limit: 1000 });
  const seal = (attributes: Record<string, unknown>, extra: Parameters<typeof sealAuthResult>[0] | object = {}) =>
    sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, attributes, ...extra });

  /** Back into the call through the comm_url: the outcome code of the 303 into /call. */
  async function comeBack(c: Client, location: string): Promise<string> {
    const u = new URL(location);
    const res = await c.get(`${u.pathname}${u.search}`);
    assert.equal(res.status, 303);
    const to = res.headers.get('location') ?? '';
    assert.match(to, /^\/call\?idv-auth=[a-z_]+$/, 'back into the call with a code only: the result is out of the address bar');
    return new URL(to, base).searchParams.get('idv-auth') ?? '';
  }

  async function expectRefused(appointmentId: string, reason: string): Promise<void> {
    assert.equal(sets(), 0, 'nothing in the attribute cache');
    const log = await logOf(appointmentId);
    assert.ok(log.some((r) => r.action === 'failed' && r.detail === reason), `the log has failed/${reason}: ${JSON.stringify(log.map((r) => `${r.action}/${r.detail}`))}`);
  }

  beforeEach(() => {
    core.faults = { sessionOptions: 'ok', start: 'ok' };
    core.delivery = 'attr_url';
    core.resultOverride = undefined;
  });
  let startedEnded = 0;
  // Every test leaves what it made behind it gone, so the next one (in any order, IDV_TEST_ORDER) starts the same:
  // the attribute cache empty, and the agent group of /start_communication free (its unplanned sessions cancelled).
  afterEach(async () => {
    for (const a of Object.values(appointments)) await id.callEnded(a);
    const store = appointmentStoreOf(services);
    for (const m of started.slice(startedEnded)) {
      await id.callEnded(m.appointment.id);
      if ((await store.get(m.appointment.id))?.status === 'booked') assert.ok(await store.cancel(m.appointment.id, null, new Date().toISOString()));
    }
    startedEnded = started.length;
  });

  it("the core's methods in the pop-up; /start with exactly the auth-only body; the plugin's POST to the attr_url; back in the call; values for the agent", async () => {
    const c = await resident(appointments.a1, true);
    const pushesBefore = residentPushes.length;
    const out = await ask();
    assert.deepEqual(out.methods, ['idc-digid', 'idc-irma', 'idc-elsewhere'], 'tags that break the rules are left out');
    const push = await until('the pop-up', () => residentPushes.slice(pushesBefore).find((m) => m.method === 'identificationRequest'));
    const [digid, irma, elsewhere] = push.data.methods as Msg[];
    assert.equal(digid.displayName, 'DigiD');
    assert.match(digid.logoUrl, /^\/auth\/logos\/idc\/[0-9a-f]{32}$/, "the core's image, served from our origin");
    assert.match(irma.logoUrl, /^\/auth\/logos\/idc\//);
    assert.equal(elsewhere.logoUrl, '/auth/logos/generic.svg', 'an image off the core origin is never fetched or shown');
    const logo = await c.get(digid.logoUrl);
    assert.equal(logo.headers.get('content-type'), 'image/svg+xml');
    assert.match(logo.headers.get('content-security-policy') ?? '', /default-src 'none'.*sandbox/);
    assert.ok(!JSON.stringify(push).includes('BEGIN'), 'no key in the pop-up');

    const startsBefore = core.starts.length;
    const res = await c.get(`/auth/start?request=${encodeURIComponent(out.requestId)}&method=idc-digid`);
    assert.equal(res.status, 303);
    const clientUrl = res.headers.get('location') ?? '';
    assert.ok(clientUrl.startsWith(`${core.pluginUrl}/confirm/`), 'the resident goes to the client_url of the core');
    const body = core.starts[startsBefore];
    assert.deepEqual(Object.keys(body).sort(), ['attr_url', 'auth_method', 'comm_url', 'purpose']);
    assert.equal(body.purpose, 'report_move');
    assert.equal(body.auth_method, 'digid');
    assert.match(String(body.attr_url), new RegExp(`^${base}${ATTR_PATH}[A-Za-z0-9_-]{43}$`));
    assert.match(String(body.comm_url), new RegExp(`^${base}${RETURN_PATH}[A-Za-z0-9_-]{43}$`));
    assert.equal(core.startHeaders.at(-1)?.accept, 'application/json');
    assert.deepEqual(core.schemaViolations, []);

    const back = await core.signIn(clientUrl);
    assert.equal(back, body.comm_url, 'the plugin sends the resident to the comm_url');
    assert.deepEqual(core.deliveries.at(-1), { attrUrl: body.attr_url, status: 200 });
    assert.equal(await comeBack(c, back), 'ok');
    const v = await until('verified', () => verified.find((m) => m.requestId === out.requestId));
    assert.deepEqual(Object.keys(v).sort(), ['_msgid', 'acr', 'appointment', 'attributeKeys', 'attributeSetId', 'method', 'purpose', 'requestId', 'topic'].sort());
    assert.equal(v.method, 'idc-digid');
    assert.deepEqual(v.attributeKeys, ['bsn', 'name']);
    const agent = new Client(base);
    const [k, val] = agentCookie.split('=');
    agent.cookies.set(k, val);
    const set = (await (await agent.get(`/auth/agent/sets/${v.attributeSetId}`)).json()) as Msg;
    assert.deepEqual(set.attributes.map((a: Msg) => [a.key, a.value]), [['bsn', PERSON.bsn], ['name', PERSON.fullname]]);
    assert.equal(set.methodName, 'DigiD');
    const log = await logOf(appointments.a1);
    assert.deepEqual(log.slice(-4).map((r) => `${r.action}:${r.methodId ?? ''}`), ['requested:', 'method_chosen:idc-digid', 'verified:idc-digid', 'shown:idc-digid']);

    // The plugin (or anyone holding the token) posting it again: 409, the first result stands, one set only.
    const replay = await postResult(String(body.attr_url), core.lastResult!.token);
    assert.equal(replay.status, 409);
    assert.equal(sets(), 1);
    assert.ok((await logOf(appointments.a1)).some((r) => r.detail === 'replayed'));
    // Reloading the comm_url in the same call session gives the same answer and changes nothing.
    assert.equal(await comeBack(c, back), 'ok');
    assert.equal(sets(), 1);
    assert.ok(await id.deleteByAgent(v.attributeSetId, 'agent1'), '"Verwijder nu"');
    assert.equal(sets(), 0);
  });

  it('the result in the comm_url instead (core: ?status=succes&attributes=, plugin: ?result=) is accepted once and taken out of the address bar', async () => {
    for (const delivery of ['inline-core', 'inline-result'] as const) {
      core.delivery = delivery;
      const c = await resident(appointments.a1);
      const { clientUrl, commUrl } = await begin(c);
      const back = await core.signIn(clientUrl);
      assert.ok(back.startsWith(`${commUrl}?`), 'the JWE comes in the query');
      assert.equal(await comeBack(c, back), 'ok');
      assert.equal(sets(), 1);
      await id.callEnded(appointments.a1);
    }
  });

  describe('bad input: nothing in the cache, a reason code in the processing log', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const tokenCases: [string, () => Promise<string>, number, string][] = [
      ['a JWE for another recipient key', () => sealAuthResult({ signKey: plugin.privateKey, encKey: stranger.publicKey, attributes: { bsn: PERSON.bsn } }), 400, 'decrypt_failed'],
      ['a JWS by an unknown key', () => sealAuthResult({ signKey: stranger.privateKey, encKey: ours.publicKey, attributes: { bsn: PERSON.bsn } }), 400, 'signature_invalid'],
      ['alg: none', () => seal({}, { innerJws: unsignedJws({ sub: 'id-contact-attributes', status: 'succes', attributes: { bsn: PERSON.bsn }, iat: now(), exp: now() + 300 }) }), 400, 'alg_not_allowed'],
      ['an expired exp', () => seal({ bsn: PERSON.bsn }, { iat: now() - 400, exp: now() - 90 }), 400, 'token_expired'],
      ['an iat in the future', () => seal({ bsn: PERSON.bsn }, { iat: now() + 900, exp: now() + 1200 }), 400, 'token_not_yet_valid'],
      ['status: failed', () => seal({}, { status: 'failed' }), 200, 'auth_failed'],
      ['a BSN failing the elfproef', () => seal({ bsn: '123456789', fullname: PERSON.fullname }), 400, 'bsn_invalid'],
      ['only attributes that were not asked for', () => seal({ iban: 'NL91TEST0417164300' }), 400, 'attributes_missing'],
      ['garbage', async () => 'eyJhbGciOi.garbage', 400, 'malformed_token'],
    ];
    for (const [what, make, status, reason] of tokenCases) {
      it(`${what} -> ${status} ${reason}`, async () => {
        const c = await resident(appointments.a1);
        const { attrUrl, commUrl } = await begin(c);
        const failedBefore = failed.length;
        const res = await postResult(attrUrl, await make());
        assert.equal(res.status, status);
        const text = await res.text();
        assert.ok(!/\sat \S+:\d+|\/work\/|jose|Error:/.test(text), `no internals in the answer: ${text}`);
        await expectRefused(appointments.a1, reason);
        const f = await until('the failure output', () => failed.slice(failedBefore).find((m) => m.reason === reason));
        assert.equal(f.method, 'idc-digid');
        assert.equal(f.attributeSetId, undefined);
        // The resident coming back reads the outcome; the one-time attr_url is spent.
        assert.notEqual(await comeBack(c, commUrl), 'ok');
        assert.equal((await postResult(attrUrl, await seal({ bsn: PERSON.bsn }))).status, 409, 'replay to the same attr_url');
        assert.equal(sets(), 0);
      });
    }

    it('a body of 1 MB -> 413 too_large; a wrong content type -> 415 wrong_content_type', async () => {
      for (const [body, type, status, reason] of [['x'.repeat(1024 * 1024), 'application/jwt', 413, 'too_large'], [JSON.stringify({ result: 'x' }), 'application/json', 415, 'wrong_content_type']] as const) {
        const c = await resident(appointments.a1);
        const { attrUrl } = await begin(c);
        const res = await postResult(attrUrl, body, type);
        assert.equal(res.status, status);
        await expectRefused(appointments.a1, reason);
      }
    });

    it('attributes not asked for are dropped: only the asked ones are kept, the log says so', async () => {
      const c = await resident(appointments.a1);
      const { attrUrl } = await begin(c);
      const res = await postResult(attrUrl, await seal({ bsn: PERSON.bsn, fullname: PERSON.fullname, email: PERSON.email, iban: 'NL91TEST0417164300' }));
      assert.equal(res.status, 200);
      const [setId] = id.cache.idsForAppointment(appointments.a1);
      assert.deepEqual(id.cache.get(setId)?.attributes.map((a) => a.key), ['bsn', 'name'], 'email is mapped but was not asked; iban is not mapped at all');
      const last = (await logOf(appointments.a1)).at(-1);
      assert.equal(last?.action, 'verified');
      assert.equal(last?.detail, 'unrequested_dropped');
    });

    it('a guessed attr_url -> 404, logged as unknown_attr_url; a flood of guesses is cut off before it fills the log', async () => {
      const unknownBefore = (await logOf(UNKNOWN_APPOINTMENT)).length;
      const res = await postResult(`${base}${ATTR_PATH}${newToken()}`, await seal({ bsn: PERSON.bsn }));
      assert.equal(res.status, 404);
      assert.equal(sets(), 0);
      const unknown = (await logOf(UNKNOWN_APPOINTMENT)).slice(unknownBefore);
      assert.ok(unknown.some((r) => r.detail === 'unknown_attr_url'));
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await postResult(`${base}${ATTR_PATH}${newToken()}`, 'x')).status);
      assert.ok(statuses.includes(429), 'guessing is rate limited');
      assert.ok((await logOf(UNKNOWN_APPOINTMENT)).length - unknownBefore <= 21, 'the log holds at most the budget of guesses');
    });

    it("the attr_url of a request the agent replaced -> 410 expired; a result brought to another call's comm_url -> wrong_session", async () => {
      const c = await resident(appointments.a1);
      const first = await begin(c);
      await begin(c); // the agent asks again: the first request and its attr_url are gone
      assert.equal((await postResult(first.attrUrl, await seal({ bsn: PERSON.bsn, fullname: PERSON.fullname }))).status, 410);
      await expectRefused(appointments.a1, 'expired');

      const other = await resident(appointments.b1);
      const again = await begin(c);
      const token = await seal({ bsn: PERSON.bsn, fullname: PERSON.fullname });
      assert.equal(await comeBack(other, `${again.commUrl}?result=${token}`), 'wrong_session');
      await expectRefused(appointments.a1, 'wrong_session');
      assert.equal((await postResult(again.attrUrl, token)).status, 409, 'that attempt is spent');
      assert.equal(sets(), 0);
    });

    for (const fault of ['down', 'garbage', 'html'] as const) {
      it(`a core that is ${fault} on /session_options: the agent and the resident read a plain message, nothing is asked`, async () => {
        core.faults.sessionOptions = fault;
        await resident(appointments.a1, true);
        const pushes = residentPushes.length;
        const messages = agentMessages.length;
        await assert.rejects(ask(), /ID Contact core cannot be reached/);
        const notice = await until('the agent notice', () => agentMessages.slice(messages).find((m) => m.state === 'unavailable'));
        assert.match(notice.text.nl, /niet bereikbaar/);
        await until('the resident notice', () => residentPushes.slice(pushes).find((m) => m.method === 'identificationUnavailable'));
        assert.equal(id.requests.forAppointment(appointments.a1), undefined);
        await expectRefused(appointments.a1, 'core_unavailable');
        agentMessages.length = 0;
      });

      it(`a core that is ${fault} on /start: the resident gets a page with the way back, the agent is told`, async () => {
        const c = await resident(appointments.a1);
        const { requestId } = await ask();
        core.faults.start = fault;
        const res = await c.get(`/auth/start?request=${encodeURIComponent(requestId)}&method=idc-digid`);
        assert.equal(res.status, 502);
        const page = await res.text();
        assert.match(page, /De inlogdienst is nu niet bereikbaar/);
        assert.match(page, /href="\/call"/);
        assert.ok(!/127\.0\.0\.1|garbage|Maintenance/.test(page), 'nothing of the core in the page');
        await until('the agent notice', () => agentMessages.find((m) => m.state === 'unavailable' && m.requestId === requestId));
        await expectRefused(appointments.a1, 'core_unavailable');
        agentMessages.length = 0;
      });
    }
  });

  describe('POST /start_communication: ID Video started by the core', () => {
    const basic = (secret: string, user = 'core') => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
    const pluginBase = () => `${base}/idcontact`;
    const mails = () => (sqliteDb(services).prepare('SELECT COUNT(*) AS n FROM mail_outbox').get() as { n: number }).n;
    const unplanned = async () => (await Promise.all(['agent3', 'agent4'].map((a) => appointmentStoreOf(services).listForAgent(a, new Date(Date.now() - 3600_000).toISOString(), new Date(Date.now() + 3600_000).toISOString())))).flat();
    const agentOf = (username: string) => {
      const c = new Client(base);
      return services.staff.login(username, PASSWORD).then((l) => {
        assert.ok(l.ok);
        c.cookies.set(services.staff.cookie, l.sessionId);
        return c;
      });
    };

    it('without auth_result: an unplanned appointment now for a free agent of the group, its link into the waiting room and an attr_url; no mail', async () => {
      const before = started.length;
      const res = await core.startCommunication(pluginBase(), { purpose: 'report_move' }, { authorization: basic(START_SECRET) });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(core.schemaViolations, []);
      assert.match(String(res.json?.client_url), new RegExp(`^${base}/v/[A-Za-z0-9_-]{43}$`));
      assert.match(String(res.json?.attr_url), new RegExp(`^${base}${ATTR_PATH}[A-Za-z0-9_-]{43}$`));
      const msg = await until('the started message', () => started[before]);
      assert.deepEqual(Object.keys(msg).sort(), ['_msgid', 'appointment', 'eventId', 'purpose', 'topic']);
      assert.equal(msg.appointment.channel, 'idcontact');
      assert.equal(msg.appointment.topic, 'Videogesprek via ID Contact');
      assert.ok(['agent3', 'agent4'].includes(msg.appointment.agent));
      const startsIn = Date.parse(msg.appointment.start) - Date.now();
      assert.ok(Math.abs(startsIn) < 5000, 'it starts now');
      const ev = await eventsOf(services).store.get(msg.eventId);
      assert.equal(ev?.kind, 'started');
      assert.equal(ev?.state, 'done', 'the link was stored with the event: the session is complete once answered');
      assert.equal(mails(), 0, 'no booking mails for an unplanned session');

      // The resident follows client_url: the access link becomes the call cookie, on to the call page (device check).
      const resident = new Client(base);
      const link = new URL(String(res.json?.client_url));
      const visit = await resident.get(link.pathname);
      assert.equal(visit.status, 303);
      assert.equal(visit.headers.get('location'), '/call');
      assert.ok(resident.cookies.get('idv_call'), 'the call cookie is set');
      const session = await linkServiceOf(services).getCallSession(resident.cookies.get('idv_call'));
      assert.equal(session?.appointmentId, msg.appointment.id);
      // The assigned agent's dashboard lists it (the dashboard reads listForAgent; the e2e test looks at the page).
      assert.ok((await unplanned()).some((a) => a.id === msg.appointment.id && a.agent === msg.appointment.agent && a.status === 'booked'));
      const agent = await agentOf(msg.appointment.agent);

      // The core's auth plugin delivers the attributes at the attr_url: kept for that appointment's agent.
      const posted = await postResult(String(res.json?.attr_url), await seal({ bsn: PERSON.bsn, fullname: PERSON.fullname }));
      assert.equal(posted.status, 200);
      const v = await until('verified', () => verified.find((m) => m.appointment.id === msg.appointment.id));
      assert.equal(v.method, 'idc-core');
      const set = (await (await agent.get(`/auth/agent/sets/${v.attributeSetId}`)).json()) as Msg;
      assert.deepEqual(set.attributes.map((a: Msg) => a.value), [PERSON.bsn, PERSON.fullname]);
      assert.equal((await postResult(String(res.json?.attr_url), await seal({ bsn: PERSON.bsn }))).status, 409, 'one-time attr_url');
    });

    it('with auth_result: verified as during the call, waiting for the agent who takes the call; the same auth_result again is refused', async () => {
      const before = started.length;
      const token = await seal({ bsn: PERSON.bsn, fullname: PERSON.fullname, email: PERSON.email, iban: 'NL91TEST0417164300' });
      const res = await core.startCommunication(pluginBase(), { purpose: 'report_move', auth_result: token }, { authorization: `Bearer ${START_SECRET}` });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(Object.keys(res.json ?? {}), ['client_url'], 'no attr_url: the attributes came along');
      const msg = await until('the started message', () => started[before]);
      assert.match(msg.attributeSetId, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(msg.attributeKeys, ['bsn', 'name', 'email']);
      const setIds = id.cache.idsForAppointment(msg.appointment.id);
      assert.deepEqual(setIds, [msg.attributeSetId]);
      const agent = await agentOf(msg.appointment.agent);
      const set = (await (await agent.get(`/auth/agent/sets/${msg.attributeSetId}`)).json()) as Msg;
      assert.deepEqual(set.attributes.map((a: Msg) => a.key), ['bsn', 'name', 'email'], 'iban was not mapped: dropped');
      const other = await agentOf(msg.appointment.agent === 'agent3' ? 'agent4' : 'agent3');
      assert.equal((await other.get(`/auth/agent/sets/${msg.attributeSetId}`)).status, 404, 'only the agent of the session');
      const log = await logOf(msg.appointment.id);
      assert.deepEqual(log.map((r) => [r.action, r.methodId, r.purpose, r.detail]), [['verified', 'idc-core', 'report_move', 'unrequested_dropped'], ['shown', 'idc-core', null, null]]);
      const count = (await unplanned()).length;
      const again = await core.startCommunication(pluginBase(), { purpose: 'report_move', auth_result: token }, { authorization: basic(START_SECRET) });
      assert.equal(again.status, 400);
      assert.equal(again.json?.error, 'replayed');
      assert.equal((await unplanned()).length, count, 'nothing created');
    });

    it('refuses callers and bodies that are not the core: wrong or missing secret, other content types, 1 MB, malformed JSON, another purpose, bad auth_result', async () => {
      const count = (await unplanned()).length;
      const setsBefore = sets();
      const unknownBefore = (await logOf(UNKNOWN_APPOINTMENT)).length;
      const none = await core.startCommunication(pluginBase(), { purpose: 'report_move' });
      assert.equal(none.status, 401);
      const wrong = await core.startCommunication(pluginBase(), { purpose: 'report_move' }, { authorization: basic(`${START_SECRET}x`) });
      assert.equal(wrong.status, 401);
      const post = (body: string, type: string) => fetch(`${pluginBase()}/start_communication`, { method: 'POST', headers: { 'content-type': type, authorization: basic(START_SECRET) }, body });
      assert.equal((await post('purpose=report_move', 'application/x-www-form-urlencoded')).status, 415);
      const big = await post(JSON.stringify({ purpose: 'report_move', auth_result: 'x'.repeat(1024 * 1024) }), 'application/json');
      assert.equal(big.status, 413);
      assert.ok(!/\sat \S+:\d+|\/work\/|body-parser|PayloadTooLarge/.test(await big.text()), 'no internals');
      assert.equal((await post('{"purpose":', 'application/json')).status, 400);
      assert.equal((await post('"report_move"', 'application/json')).status, 400, 'strict JSON: an object');
      const other = await core.startCommunication(pluginBase(), { purpose: 'request_passport' }, { authorization: basic(START_SECRET) });
      assert.equal(other.status, 404);
      const now = Math.floor(Date.now() / 1000);
      for (const [token, reason] of [
        [await sealAuthResult({ signKey: stranger.privateKey, encKey: ours.publicKey, attributes: { bsn: PERSON.bsn } }), 'signature_invalid'],
        [await sealAuthResult({ signKey: plugin.privateKey, encKey: stranger.publicKey, attributes: { bsn: PERSON.bsn } }), 'decrypt_failed'],
        [await seal({ bsn: PERSON.bsn }, { iat: now - 400, exp: now - 90 }), 'token_expired'],
        [await seal({}, { status: 'failed' }), 'auth_failed'],
        [await seal({ bsn: '123456789' }), 'bsn_invalid'],
      ] as const) {
        const r = await core.startCommunication(pluginBase(), { purpose: 'report_move', auth_result: token }, { authorization: basic(START_SECRET) });
        assert.equal(r.status, 400, reason);
        assert.equal(r.json?.error, reason);
        assert.ok((await logOf(UNKNOWN_APPOINTMENT)).slice(unknownBefore).some((l) => l.detail === reason), `log has ${reason}`);
      }
      assert.equal((await unplanned()).length, count, 'nothing created');
      assert.equal(sets(), setsBefore, 'nothing cached');
    });

    it('client-certificate mode: only the pinned certificate, passed on by a trusted proxy, gets through', async () => {
      const call = (headers: Record<string, string>) => core.startCommunication(`${base}/idcontact-mtls`, { purpose: 'other_purpose' }, headers);
      assert.equal((await call({})).status, 401);
      assert.equal((await call({ authorization: basic(START_SECRET) })).status, 401, 'the secret does not count in this mode');
      assert.equal((await call({ 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-cert': encodeURIComponent(clientCert.otherPem) })).status, 401, 'another certificate');
      assert.equal((await call({ 'x-ssl-client-verify': 'FAILED:unable to verify', 'x-ssl-client-cert': encodeURIComponent(clientCert.pem) })).status, 401, 'not verified by the proxy');
      assert.equal((await call({ 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-cert': 'garbage' })).status, 401);
      // Through: the purpose check answers (404), so nothing was created.
      assert.equal((await call({ 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-cert': encodeURIComponent(clientCert.pem) })).status, 404);
    });

    it('no agent of the group free now -> 503, nothing created', async () => {
      // This test fills the group itself: agent3 and agent4 each get a session of 30 minutes from now.
      const agents: string[] = [];
      for (let i = 0; i < 2; i++) {
        const before = started.length;
        const res = await core.startCommunication(pluginBase(), { purpose: 'report_move' }, { authorization: basic(START_SECRET) });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        agents.push((await until('the started message', () => started[before])).appointment.agent);
      }
      assert.deepEqual(agents.sort(), ['agent3', 'agent4'], 'one session for each agent of the group');
      const count = (await unplanned()).length;
      const res = await core.startCommunication(pluginBase(), { purpose: 'report_move' }, { authorization: basic(START_SECRET) });
      assert.equal(res.status, 503);
      assert.equal(res.json?.error, 'no_agent_available');
      assert.equal((await unplanned()).length, count);
    });

    it('a flood of calls is rate limited', async () => {
      // From its own loopback address (its own budget), so the other tests' calls as the core are never 429 whatever
      // the order they run in (IDV_TEST_ORDER).
      const flooder = new Client(pluginBase(), pluginBase(), { localAddress: ownLoopbackAddress() });
      const statuses: number[] = [];
      for (let i = 0; i < 130 && !statuses.includes(429); i++) {
        const res = await flooder.request('POST', '/start_communication', { json: { purpose: 'report_move' }, headers: { authorization: basic('wrong-secret-guess-000000000000000') } });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      assert.ok(statuses.includes(429));
    });
  });
});
