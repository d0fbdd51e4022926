/**
 * idv-agent-dashboard in node-red-node-test-helper with the real media worker: the pages (supertest on httpNode), the
 * /ws upgrade on the helper's real HTTP server (RED.server) with real ws clients, the live hub, and the call events
 * the node sends. Hostile and broken clients included.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import WebSocket from 'ws';
import { linkServiceOf } from '../../lib/access/links';
import { appointmentStoreOf } from '../../lib/call/deps';
import { getCallService, type CallService } from '../../lib/call/service';
import type { Appointment } from '../../lib/appointments/store';
import type { Services } from '../../lib/services';
import { hashToken } from '../../lib/security/tokens';
import { hashPassword } from '../../lib/staff/password';
import { helper, httpNode, servicesLog, startServices, stopServices } from '../support/node-red';
import { sqliteDb } from '../support/sqlite-rows';
import { until } from '../support/identification-test';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dashboardNode = require('../../nodes/idv-agent-dashboard/idv-agent-dashboard');

const PASSWORD = 'dashboard-test-password';
type Msg = Record<string, unknown>;

interface Envelope {
  response?: boolean;
  notification?: boolean;
  id?: unknown;
  ok?: boolean;
  method?: string;
  type?: string;
  data?: Record<string, unknown>;
  error?: { code: string };
  [k: string]: unknown;
}

/** A real ws client that keeps every message it gets and can wait for one. */
class Client {
  readonly got: Envelope[] = [];
  private waiters: Array<{ match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }> = [];
  readonly closed: Promise<number>;
  private nextId = 1;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      let e: Envelope;
      try {
        e = JSON.parse(raw.toString()) as Envelope;
      } catch {
        return;
      }
      this.got.push(e);
      for (const w of [...this.waiters]) if (w.match(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }
  waitFor(match: (e: Envelope) => boolean, ms = 5000): Promise<Envelope> {
    const seen = this.got.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no such message')), ms);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }
  async request(method: string, data?: unknown): Promise<Envelope> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ request: true, id, method, data }));
    return this.waitFor((e) => e.response === true && e.id === id);
  }
  close(): void {
    this.ws.close();
  }
}

describe('idv-agent-dashboard node', function () {
  this.timeout(30_000);

  let services: Services;
  let call: CallService;
  let origin: string;
  let wsUrl: string;
  let mine: Appointment;
  let theirs: Appointment;
  let cancelled: Appointment;
  let agent1: string;
  let agent2: string;
  let kcc: string;
  const sent: Msg[] = [];
  const open: WebSocket[] = [];

  async function book(agent: string, minutesFromNow: number, key: string): Promise<Appointment> {
    const now = Date.now();
    const { appointment } = await appointmentStoreOf(services).create(
      {
        startUtc: new Date(now + minutesFromNow * 60_000).toISOString(),
        endUtc: new Date(now + (minutesFromNow + 30) * 60_000).toISOString(),
        topic: 'Rijbewijs verlengen',
        channel: 'phone',
        bookedBy: 'kcc1',
        resident: { name: 'Jan Geheim', email: 'jan.geheim@example.test', phone: '0612345678', remarks: null },
        cancelTokenHash: `hash-${key}`,
        idempotencyKey: key,
        createdAt: new Date(now).toISOString(),
      },
      { candidates: [agent], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
    );
    return appointment;
  }

  async function staffCookie(username: string): Promise<string> {
    const r = await services.staff.login(username, PASSWORD);
    assert.ok(r.ok, `sign-in of ${username}`);
    return `${services.staff.cookie}=${r.sessionId}`;
  }

  async function callCookie(appointmentId: string, role: 'resident' | 'agent' = 'resident', validMs = 3_600_000, agentUsername?: string): Promise<string> {
    const links = linkServiceOf(services);
    const now = Date.now();
    await links.issue({ appointmentId, role, agentUsername, validFrom: new Date(now - 60_000).toISOString(), validUntil: new Date(now + validMs).toISOString() });
    const id = await links.createCallSession({ appointmentId, role, agentUsername });
    return `idv_call=${id}`;
  }

  function connect(query: string, headers: Record<string, string>): Promise<Client> {
    const ws = new WebSocket(`${wsUrl}${query}`, { headers });
    open.push(ws);
    const c = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** The HTTP status an upgrade is refused with (fails if it is accepted). */
  function refusal(query: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}${query}`, { headers });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        ws.close();
        reject(new Error('upgrade accepted'));
      });
      ws.once('error', () => undefined);
    });
  }

  before(async () => {
    services = startServices({ IDV_MEDIA_WORKERS: '1' });
    for (const [username, roles] of [['agent1', ['agent']], ['agent2', ['agent']], ['kcc1', ['kcc']]] as const) {
      await services.staffStore.upsertUser({ username, displayName: username, roles: [...roles], passwordHash: await hashPassword(PASSWORD) });
    }
    await helper.startServer();
    await helper.load(dashboardNode, [
      { id: 'd1', type: 'idv-agent-dashboard', days: 14, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const out = helper.getNode('out') as unknown as { on(e: 'input', fn: (m: Msg) => void): void };
    out.on('input', (m) => sent.push(m));
    call = await getCallService(services);
    origin = (helper as unknown as { url(): string }).url();
    wsUrl = `${origin.replace('http:', 'ws:')}/ws`;
    mine = await book('agent1', 5, 'k1');
    theirs = await book('agent2', 5, 'k2');
    cancelled = await book('agent1', 60, 'k3');
    await appointmentStoreOf(services).cancel(cancelled.id, 'kcc1', new Date().toISOString());
    agent1 = await staffCookie('agent1');
    agent2 = await staffCookie('agent2');
    kcc = await staffCookie('kcc1');
  });

  after(async () => {
    for (const ws of open) ws.terminate();
    await helper.unload();
    await helper.stopServer();
    await stopServices();
  });

  describe('pages', () => {
    it('sends visitors without sign-in to the login page and refuses staff without the agent role', async () => {
      const anon = await httpNode().get('/agent');
      assert.equal(anon.status, 303);
      assert.match(anon.headers.location, /^\/login\?next=%2Fagent/);
      const json = await httpNode().get('/agent/appointments.json').set('accept', 'application/json');
      assert.equal(json.status, 401);
      const k = await httpNode().get('/agent').set('cookie', kcc);
      assert.equal(k.status, 403);
    });

    it('serves the dashboard shell with the identification mount point and a strict CSP', async () => {
      const res = await httpNode().get('/agent').set('cookie', agent1);
      assert.equal(res.status, 200);
      assert.match(res.text, /<section id="identification"[^>]*data-appointment-id=""/);
      assert.match(res.text, /<script src="\/idv\/static\/agent\.js" defer><\/script>/);
      assert.doesNotMatch(res.text, /<script>|style="/, 'no inline script or style');
      assert.match(res.headers['content-security-policy'], /script-src 'self'/);
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    it("lists only the signed-in agent's booked appointments, with nothing personal about the resident", async () => {
      const res = await httpNode().get('/agent/appointments.json').set('cookie', agent1).set('accept', 'application/json');
      assert.equal(res.status, 200);
      const ids = (res.body.appointments as Array<{ id: string }>).map((a) => a.id);
      const known = [mine.id, theirs.id, cancelled.id];
      assert.deepEqual(ids.filter((id) => known.includes(id)), [mine.id], 'not agent2\'s, not the cancelled one');
      // Another test of this file books one more for agent1 (the killed-worker call); when it ran first (IDV_TEST_ORDER)
      // that one is listed too: anything else listed must be agent1's and still booked.
      for (const id of ids.filter((i) => !known.includes(i))) {
        const other = await appointmentStoreOf(services).get(id);
        assert.ok(other && other.agent === 'agent1' && other.status === 'booked', `${id} is agent1's and booked`);
      }
      const row = res.body.appointments[ids.indexOf(mine.id)];
      assert.match(row.when, /^vandaag om \d\d:\d\d$|^morgen om \d\d:\d\d$/);
      assert.equal(row.topic, 'Rijbewijs verlengen');
      assert.equal(row.residentPresent, false);
      assert.match(row.start, /[+-]0[12]:00$/, 'Amsterdam offset');
      assert.doesNotMatch(res.text, /Geheim|example\.test|0612345678/);
    });

    it("opens an agent's own call from /agent/call/<id> and refuses other or malformed ids", async () => {
      const ok = await httpNode().get(`/agent/call/${mine.id}`).set('cookie', agent1);
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, `/agent?call=${mine.id}`);
      for (const bad of [theirs.id, cancelled.id, 'nope', '%00%0d%0a', 'x'.repeat(300)]) {
        const res = await httpNode().get(`/agent/call/${bad}`).set('cookie', agent1);
        assert.equal(res.status, 404, bad);
        assert.doesNotMatch(res.text, /at .*\.js:\d+/, 'no stack trace');
      }
    });

    it('shows the call page only with a live resident call session of a booked appointment', async () => {
      assert.equal((await httpNode().get('/call')).status, 403);
      assert.equal((await httpNode().get('/call').set('cookie', 'idv_call=garbage')).status, 403);
      assert.equal((await httpNode().get('/call').set('cookie', `idv_call=${'A'.repeat(43)}`)).status, 403);
      const ok = await httpNode().get('/call').set('cookie', await callCookie(mine.id));
      assert.equal(ok.status, 200);
      assert.match(ok.text, /De medewerker komt zo bij u/);
      assert.match(ok.text, /id="reconnecting"[^>]*role="alert"/);
      assert.doesNotMatch(ok.text, /Geheim|example\.test/);
      const en = await httpNode().get('/call?lang=en').set('cookie', await callCookie(mine.id));
      assert.match(en.text, /The employee will be with you shortly/);
    });
  });

  describe('/ws upgrade', () => {
    it('refuses without a cookie, with junk, cross-origin and without Origin', async () => {
      assert.equal(await refusal('', { origin }), 401);
      assert.equal(await refusal('', { origin, cookie: 'idv_call=junk' }), 401);
      const resident = await callCookie(mine.id);
      assert.equal(await refusal('', { origin: 'https://evil.example', cookie: resident }), 403);
      assert.equal(await refusal('', { origin: 'null', cookie: resident }), 403);
      assert.equal(await refusal('', { cookie: resident }), 403);
      assert.equal(await refusal('?appointment=' + mine.id, { origin: 'https://evil.example', cookie: agent1 }), 403);
    });

    it("refuses another appointment's session, an expired link's and a cancelled appointment's", async () => {
      // Agent1 signed in, asking for agent2's appointment; agent2's agent cookie without agent2 signed in.
      assert.equal(await refusal(`?appointment=${theirs.id}`, { origin, cookie: agent1 }), 401);
      assert.equal(await refusal(`?appointment=${cancelled.id}`, { origin, cookie: agent1 }), 401);
      assert.equal(await refusal(`?appointment=..%2F${mine.id}`, { origin, cookie: agent1 }), 401);
      assert.equal(await refusal(`?appointment=${mine.id}`, { origin, cookie: kcc }), 401);
      const agent2Cookie = await callCookie(theirs.id, 'agent', 3_600_000, 'agent2');
      assert.equal(await refusal('', { origin, cookie: `${agent2Cookie}; ${agent1}` }), 401);
      // A session whose time is up: made valid, then aged in the store, as the clock would (a session made to last
      // 1.2 s and waited out could expire before it was even made on a busy machine).
      const expiring = await callCookie(mine.id, 'resident');
      (await connect('', { origin, cookie: expiring })).close();
      const aged = sqliteDb(services).prepare('UPDATE call_sessions SET expires_at = ? WHERE id_hash = ?').run(new Date(Date.now() - 1000).toISOString(), hashToken(expiring.split('=')[1]));
      assert.equal(aged.changes, 1);
      assert.equal(await refusal('', { origin, cookie: expiring }), 401);
      await linkServiceOf(services).issue({ appointmentId: cancelled.id, role: 'resident', validFrom: new Date(Date.now() - 60_000).toISOString(), validUntil: new Date(Date.now() + 3_600_000).toISOString() });
      const cancelledSession = await linkServiceOf(services).createCallSession({ appointmentId: cancelled.id, role: 'resident' });
      assert.equal(await refusal('', { origin, cookie: `idv_call=${cancelledSession}` }), 401);
      // Still fine for the right people.
      (await connect(`?appointment=${mine.id}`, { origin, cookie: agent1 })).close();
      (await connect('', { origin, cookie: `${agent2Cookie}; ${agent2}` })).close();
    });

    it('answers garbage with errors, keeps the connection, and closes on oversized frames', async () => {
      const c = await connect('', { origin, cookie: await callCookie(mine.id) });
      c.ws.send('{not json');
      const e1 = await c.waitFor((e) => e.response === true && e.ok === false);
      assert.equal(e1.error?.code, 'bad_request');
      c.ws.send(Buffer.from([0, 1, 2, 3]));
      c.ws.send(JSON.stringify({ request: true, id: 7, method: '__proto__', data: {} }));
      const e2 = await c.waitFor((e) => e.id === 7);
      assert.equal(e2.error?.code, 'unknown_method');
      const ok = await c.request('getRouterRtpCapabilities');
      assert.equal(ok.ok, true, 'still usable');
      c.ws.send('x'.repeat(70 * 1024));
      assert.equal(await c.closed, 1009);
    });

    it('a silent client does not block the call, and a second connection of the same resident replaces it', async () => {
      const cookie = await callCookie(mine.id);
      // Raw TCP: completes the handshake, then never reads, never answers a ping, never sends.
      const raw = net.connect(Number(new URL(origin).port), '127.0.0.1');
      await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
      raw.write(
        `GET /ws HTTP/1.1\r\nHost: ${new URL(origin).host}\r\nOrigin: ${origin}\r\nCookie: ${cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const head = await new Promise<string>((resolve) => raw.once('data', (d: Buffer) => resolve(d.toString())));
      assert.match(head, /^HTTP\/1\.1 101/);
      raw.pause();
      const agent = await connect(`?appointment=${mine.id}`, { origin, cookie: agent1 });
      const caps = await agent.request('getRouterRtpCapabilities');
      const joined = await agent.request('join', { rtpCapabilities: caps.data });
      assert.equal(joined.ok, true, 'the agent gets in although the resident side is silent');
      const resident = await connect('', { origin, cookie });
      const rCaps = await resident.request('getRouterRtpCapabilities');
      assert.equal((await resident.request('join', { rtpCapabilities: rCaps.data })).ok, true);
      // Joining twice on one connection is refused; the call goes on.
      const again = await resident.request('join', { rtpCapabilities: rCaps.data });
      assert.equal(again.ok, false);
      assert.equal(again.error?.code, 'bad_request');
      // The resident's new connection replaced the silent one: it was told so (and is being closed).
      let told = '';
      await new Promise<void>((resolve) => {
        raw.on('data', (d: Buffer) => {
          told += d.toString('latin1');
          if (told.includes('"replaced"')) resolve();
        });
        raw.resume();
      });
      raw.destroy();
      // A second tab of the same resident takes over; the first is told and closed with 4001.
      const second = await connect('', { origin, cookie });
      assert.equal(await resident.closed, 4001);
      await agent.waitFor((e) => e.notification === true && e.method === 'peerLeft');
      second.close();
      agent.close();
    });
  });

  describe('booking details, messages and ending the call', () => {
    /** A signed-in agent's CSRF cookie and token, as the dashboard page hands them to its script. */
    async function agentCsrf(cookie: string): Promise<{ cookie: string; token: string }> {
      const page = await httpNode().get('/agent').set('cookie', cookie);
      const token = /data-csrf="([^"]+)"/.exec(page.text)?.[1];
      const csrfCookie = String(page.headers['set-cookie'] ?? '').match(/idv_csrf=[^;]+/)?.[0];
      assert.ok(token && csrfCookie, 'the page carries a CSRF token');
      return { cookie: `${cookie}; ${csrfCookie}`, token };
    }
    const logLines = (appointmentId: string) =>
      sqliteDb(services).prepare('SELECT actor, action, attribute_keys AS keys, detail FROM processing_log WHERE appointment_id = ? ORDER BY id').all(appointmentId) as Array<Record<string, string>>;

    it('shows the booking details to the assigned agent only, and logs each viewing with field names, never values', async () => {
      const before = logLines(mine.id).length;
      const res = await httpNode().get(`/agent/appointments/${mine.id}/booking.json?where=call`).set('cookie', agent1);
      assert.equal(res.status, 200);
      assert.deepEqual(
        { name: res.body.name, email: res.body.email, phone: res.body.phone, topic: res.body.topic, remarks: res.body.remarks, channel: res.body.channel },
        { name: 'Jan Geheim', email: 'jan.geheim@example.test', phone: '0612345678', topic: 'Rijbewijs verlengen', remarks: null, channel: 'phone' },
      );
      assert.equal(res.headers['cache-control'], 'no-store');
      const lines = logLines(mine.id).slice(before);
      assert.deepEqual(lines, [{ actor: 'agent1', action: 'booking_viewed', keys: '["name","email","phone","topic"]', detail: 'viewed_in_call' }]);
      assert.doesNotMatch(JSON.stringify(sqliteDb(services).prepare('SELECT * FROM processing_log').all()), /Geheim|example\.test|0612345678/);

      for (const [cookie, id] of [[agent2, mine.id], [agent1, theirs.id], [agent1, cancelled.id], [agent1, '..%2F..'], [agent1, 'x'.repeat(300)]]) {
        const other = await httpNode().get(`/agent/appointments/${id}/booking.json`).set('cookie', cookie);
        assert.equal(other.status, 404, `${id}`);
        assert.doesNotMatch(other.text, /Geheim|example\.test/);
      }
      assert.equal(logLines(mine.id).length, before + 1, 'a refused look is not a viewing');
      assert.equal(logLines(theirs.id).length, 0);
      assert.equal((await httpNode().get(`/agent/appointments/${mine.id}/booking.json`).set('cookie', kcc)).status, 403);
      assert.equal((await httpNode().get(`/agent/appointments/${mine.id}/booking.json`).set('accept', 'application/json')).status, 401);
    });

    it('chats with the waiting resident (live and for a later page), both ways, checked, limited and never logged', async () => {
      const { cookie, token } = await agentCsrf(agent1);
      const residentCookie = await callCookie(mine.id);
      const resident = await connect('', { origin, cookie: residentCookie });
      await resident.request('join', { rtpCapabilities: (await resident.request('getRouterRtpCapabilities')).data });
      const post = (text: unknown, headers: Record<string, string> = { 'x-csrf-token': token, cookie }) =>
        httpNode().post(`/agent/appointments/${mine.id}/message`).set(headers).set('accept', 'application/json').send({ text });

      assert.equal((await post('zonder token', { cookie })).status, 403);
      assert.equal((await post('andere site', { cookie, 'x-csrf-token': token, origin: 'https://evil.example' })).status, 403);
      assert.equal((await post('')).body.error, 'message_empty');
      assert.equal((await post('x'.repeat(501))).status, 400);
      assert.equal((await httpNode().post(`/agent/appointments/${theirs.id}/message`).set({ 'x-csrf-token': token, cookie }).send({ text: 'hallo' })).status, 404);
      const { cookie: cookie2, token: token2 } = await agentCsrf(agent2);
      assert.equal((await httpNode().post(`/agent/appointments/${mine.id}/message`).set({ 'x-csrf-token': token2, cookie: cookie2 }).send({ text: 'hallo' })).status, 404, "another agent's resident is not theirs to message");

      const sentAt = Date.now();
      const ok = await post('Ik kom over 5 minuten bij u. <script>');
      assert.equal(ok.status, 201);
      assert.equal(ok.body.delivered, 1);
      const pushed = await resident.waitFor((e) => e.notification === true && e.method === 'chatMessage');
      assert.equal(pushed.data?.text, 'Ik kom over 5 minuten bij u. <script>', 'text as typed; the page shows it as text');
      assert.ok(Math.abs(Date.parse(String(pushed.data?.at)) - sentAt) < 5000);
      const later = await httpNode().get('/call/chat.json').set('cookie', residentCookie);
      assert.equal(later.body.messages[0].text, 'Ik kom over 5 minuten bij u. <script>');
      assert.equal((await httpNode().get('/call/chat.json')).status, 401);
      const otherResident = await httpNode().get('/call/chat.json').set('cookie', await callCookie(theirs.id));
      assert.deepEqual(otherResident.body.messages, [], "another appointment's resident does not see it");
      // The waiting resident answers: JSON from the same origin only.
      const reply = await httpNode().post('/call/chat').set({ cookie: residentCookie, 'content-type': 'application/json' }).send({ text: 'Prima, ik wacht.' });
      assert.equal(reply.status, 201);
      assert.equal((await httpNode().post('/call/chat').set({ cookie: residentCookie, origin: 'https://evil.example' }).send({ text: 'x' })).status, 403);
      const history = await httpNode().get(`/agent/appointments/${mine.id}/chat.json`).set('cookie', cookie);
      assert.deepEqual(history.body.messages.map((m: { from: string }) => m.from), ['agent', 'resident']);

      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await post(`bericht ${i}`)).status);
      assert.ok(statuses.includes(429), `flooding is limited: ${statuses.join(',')}`);
      assert.doesNotMatch(JSON.stringify(sqliteDb(services).prepare('SELECT * FROM processing_log').all()), /Ik kom over/);
      resident.close();
    });

    it("the agent's end ends the call for the resident too (roomClosed by the agent); a resident cannot end it for the agent", async () => {
      const resident = await connect('', { origin, cookie: await callCookie(mine.id) });
      await resident.request('join', { rtpCapabilities: (await resident.request('getRouterRtpCapabilities')).data });
      const agent = await connect(`?appointment=${mine.id}`, { origin, cookie: agent1 });
      await agent.request('join', { rtpCapabilities: (await agent.request('getRouterRtpCapabilities')).data });
      const refused = await resident.request('end');
      assert.equal(refused.error?.code, 'forbidden');
      // A chat of this call of its own (not the earlier test's, which any order may put after this one), so the wipe
      // below is something that can be missed. Sent as the resident: the earlier test's flood used up the agent's limit.
      await call.chat.send(mine.id, 'resident', 'end-test-resident', 'Tot zo.');
      assert.notDeepEqual(call.chat.history(mine.id, 'agent'), [], 'a chat to wipe');
      agent.ws.send(JSON.stringify({ request: true, id: 'end-1', method: 'end', data: {} }));
      const note = await resident.waitFor((e) => e.notification === true && e.method === 'roomClosed');
      assert.deepEqual(note.data, { reason: 'ended', by: 'agent' });
      assert.equal(await resident.closed, 4002);
      assert.equal(await agent.closed, 4002);
      // Wiped when the room closes: waited for as a condition (bounded), not a pause after which it is looked at once.
      await until('the chat to go with the call', () => call.chat.history(mine.id, 'agent').length === 0, 15_000);
    });
  });

  describe('live hub and call events', () => {
    it("tells only the appointment's agent that the resident waits, and the node sends call events without personal data", async () => {
      sent.length = 0;
      const hub1 = await connect('?channel=agent', { origin, cookie: agent1 });
      const hub2 = await connect('?channel=agent', { origin, cookie: agent2 });
      await hub1.waitFor((e) => e.type === 'hello');
      await hub2.waitFor((e) => e.type === 'hello');
      const resident = await connect('', { origin, cookie: await callCookie(mine.id) });
      const caps = await resident.request('getRouterRtpCapabilities');
      await resident.request('join', { rtpCapabilities: caps.data });
      const p = await hub1.waitFor((e) => e.type === 'presence' && e.appointmentId === mine.id && e.resident === true);
      assert.equal(p.agent, false);
      const agent = await connect(`?appointment=${mine.id}`, { origin, cookie: agent1 });
      await agent.request('join', { rtpCapabilities: (await agent.request('getRouterRtpCapabilities')).data });
      await hub1.waitFor((e) => e.type === 'presence' && e.agent === true);
      assert.equal(call.hub.publish('agent1', { type: 'identification', appointmentId: mine.id }), 1);
      await hub1.waitFor((e) => e.type === 'identification');
      // A marker sent to agent2 now arrives after anything sent to agent2 before it (one socket, in order).
      assert.equal(call.hub.publish('agent2', { type: 'test-marker' }), 1);
      await hub2.waitFor((e) => e.type === 'test-marker');
      assert.deepEqual(hub2.got.map((e) => e.type), ['hello', 'test-marker'], 'agent2 hears nothing about agent1\'s calls');

      assert.equal(call.media.closeRoom(mine.id), true);
      const deadline = Date.now() + 5000;
      while (!sent.some((m) => m.event === 'callEnded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // The call's outcome follows its end (lib/outcomes): 'completed' with the same duration, ids only.
      while (!sent.some((m) => m.event === 'outcome') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const events = sent.map((m) => m.event);
      assert.deepEqual(events.filter((e) => e !== 'callEnded' && e !== 'outcome'), ['residentJoined', 'agentJoined']);
      const outcome = sent.find((m) => m.event === 'outcome') as Record<string, unknown> | undefined;
      assert.deepEqual(outcome && { ...outcome, _msgid: undefined, durationSeconds: undefined }, {
        _msgid: undefined,
        topic: 'outcome',
        event: 'outcome',
        appointment: { id: mine.id },
        outcome: 'completed',
        durationSeconds: undefined,
      });
      // The calls of one appointment add up (an earlier test's call of the same appointment counts too).
      const callSeconds = (sent.find((m) => m.event === 'callEnded') as { durationSeconds?: number }).durationSeconds ?? -1;
      assert.ok(typeof outcome?.durationSeconds === 'number' && outcome.durationSeconds >= callSeconds);
      const ended = sent.find((m) => m.event === 'callEnded');
      assert.ok(ended, 'callEnded sent');
      assert.equal(typeof ended.durationSeconds, 'number');
      for (const m of sent) {
        if (m.event === 'outcome') continue;
        assert.deepEqual(Object.keys(m).filter((k) => k !== '_msgid').sort(), m.event === 'callEnded' ? ['appointment', 'durationSeconds', 'event', 'topic'] : ['appointment', 'event', 'topic']);
        assert.deepEqual(m.appointment, { id: mine.id });
      }
      assert.equal(await resident.closed, 4002);
      hub1.close();
      hub2.close();
    });

    it('a killed media worker mid-call is one call to flows: no second "joined", one callEnded', async () => {
      const second = await book('agent1', 120, 'k4');
      sent.length = 0;
      const join = async (c: Client) => (await c.request('join', { rtpCapabilities: (await c.request('getRouterRtpCapabilities')).data })).ok;
      const resident = await connect('', { origin, cookie: await callCookie(second.id) });
      const agent = await connect(`?appointment=${second.id}`, { origin, cookie: agent1 });
      assert.equal(await join(resident), true);
      assert.equal(await join(agent), true);
      const pid = call.media.workerPidOf(second.id);
      assert.ok(pid);
      process.kill(pid, 'SIGKILL');
      await servicesLog().expectLine(new RegExp(`mediasoup worker ${pid} died`));
      await resident.waitFor((e) => e.notification === true && e.method === 'rejoin', 10_000);
      await agent.waitFor((e) => e.notification === true && e.method === 'rejoin', 10_000);
      // Until the fresh worker is up a join is refused ("media temporarily unavailable"): poll, and say the last answer.
      let rejoined = false;
      let last: unknown;
      for (let i = 0; i < 40 && !rejoined; i++) {
        rejoined = (await join(resident).catch((e: unknown) => ((last = e), false))) === true;
        if (!rejoined) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(rejoined, `the resident gets back in on a fresh worker (last refusal: ${String(last)})`);
      assert.equal(await join(agent), true);
      assert.notEqual(call.media.workerPidOf(second.id), pid);
      assert.deepEqual(call.presence.get(second.id), { resident: true, agent: true });
      call.media.closeRoom(second.id);
      await resident.closed;
      assert.deepEqual(sent.map((m) => m.event).filter((e) => e !== 'outcome'), ['residentJoined', 'agentJoined', 'callEnded']);
    });

    it('refuses the live channel to visitors, other roles and other origins, and closes it on oversized frames', async () => {
      assert.equal(await refusal('?channel=agent', { origin }), 401);
      assert.equal(await refusal('?channel=agent', { origin, cookie: kcc }), 401);
      assert.equal(await refusal('?channel=agent', { origin, cookie: await callCookie(mine.id) }), 401);
      assert.equal(await refusal('?channel=agent', { origin: 'https://evil.example', cookie: agent1 }), 403);
      const hub = await connect('?channel=agent', { origin, cookie: agent1 });
      hub.ws.send('x'.repeat(4096));
      assert.equal(await hub.closed, 1009);
    });

    it('reports the media server in the health checks', async () => {
      const h = await services.health();
      assert.equal(h.checks.media?.ok, true);
    });
  });
});
