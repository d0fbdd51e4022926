/**
 * Several instances behind one address (issue 12 part B), with real parts: two runtimes (`node dist/settings.js`, the
 * default flows) on the suite's PostgreSQL, Debian's nginx in front of them round-robin on loopback (config written
 * here, WebSocket upgrade), the test SMTP server for the access link. The call's signaling is driven over real
 * WebSockets the way the browser's call client does it (router capabilities, join, reconnect with backoff).
 *
 * - Resident and agent reach different instances and still meet in one room: the room exists on one instance only and
 *   the other passed the connection on (idv_instance_forwards_total).
 * - A request about the call (the agent's identification panel) is answered by the room's owner whichever instance
 *   nginx picks; a forged instance-forward header is refused.
 * - In Chromium (one browser, two contexts): media both ways; the agent asks for identification, nginx is told to send
 *   the provider's callback to the instance without the room, which passes it on to the owner: the agent sees the
 *   values; none of them in any PostgreSQL table, the WAL files or the runtimes' output.
 * - SIGKILL of the room's owner during the call: the browsers reconnect through nginx, the survivor takes the room
 *   over and media flows again; the time from the kill is measured and printed; the verified set died with the owner.
 * - SIGTERM with a drain period: not ready (503 on /readyz) while it finishes, alive, then a clean exit.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import sharp from 'sharp';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { Client } from '../support/http-client';
import { defaultFlowsOpenNow } from '../support/flows';
import { metric, startInstances, type Balancer, type Instances } from '../support/instances';
import { freshDatabase } from '../support/postgres';
import { DEMO_PASSWORD, ROOT, tempDir, type RuntimeHandle } from '../support/runtime';
import type { CensusEntry } from '../support/route-census';
import { isCallMemoryPath } from '../../lib/call/owner-forward';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { assertMediaFlows, mediaFlow, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { keepOrder } from '../support/test-order';

const BSN = '999993653';
const CHAT = 'Mijn paspoort is verlopen, kenmerk 4711-chat';

/**
 * The default flows, with the document link the flows' idv-fetch-document makes fetched by an http request node (as
 * a flow that files documents would) and the fetch's status posted to `collector`.
 */
function flowsFetchingDocuments(collector: string): Record<string, unknown>[] {
  const flows = defaultFlowsOpenNow(ROOT);
  const fetchNode = flows.find((n) => n.id === 'fetch-document')!;
  const z = fetchNode.z;
  fetchNode.wires = [['test-fetch-url']];
  flows.push(
    { id: 'test-fetch-url', type: 'change', z, rules: [{ t: 'set', p: 'url', pt: 'msg', to: 'document.url', tot: 'msg' }], wires: [['test-fetch']] },
    { id: 'test-fetch', type: 'http request', z, method: 'GET', ret: 'bin', paytoqs: 'ignore', url: '', wires: [['test-report']] },
    {
      id: 'test-report',
      type: 'change',
      z,
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '$string(statusCode)', tot: 'jsonata' },
        { t: 'set', p: 'url', pt: 'msg', to: collector, tot: 'str' },
        { t: 'delete', p: 'headers', pt: 'msg' },
      ],
      wires: [['test-post']],
    },
    { id: 'test-post', type: 'http request', z, method: 'POST', ret: 'txt', paytoqs: 'ignore', url: '', wires: [[]] },
  );
  return flows;
}

/** One participant's signaling connection, as web/call-client.ts drives it. */
class Signaling {
  ws!: WebSocket;
  readonly notes: { method: string; data: Record<string, unknown> }[] = [];
  /** Messages of the agent dashboard's live channel (`{type, …}`). */
  readonly pushes: Record<string, unknown>[] = [];
  private next = 1;
  private readonly waiting = new Map<number, (m: { ok: boolean; data?: unknown; error?: { code: string } }) => void>();
  closed = false;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** Opens the connection; rejects on a refused upgrade. */
  async open(): Promise<void> {
    this.closed = false;
    this.ws = new WebSocket(this.url, { headers: this.headers });
    this.ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { response?: boolean; id?: number; notification?: boolean; method?: string; data?: Record<string, unknown>; ok: boolean };
      if (m.notification) this.notes.push({ method: m.method ?? '', data: m.data ?? {} });
      else if (typeof (m as { type?: unknown }).type === 'string') this.pushes.push(m as unknown as Record<string, unknown>);
      else if (m.response && typeof m.id === 'number') this.waiting.get(m.id)?.(m);
    });
    this.ws.on('close', () => (this.closed = true));
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  request(method: string, data: unknown = {}): Promise<{ ok: boolean; data?: unknown; error?: { code: string } }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in 10 s`)), 10_000);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.ws.send(JSON.stringify({ request: true, id, method, data }));
    });
  }

  /** Router capabilities, then join with them (what a device that can do everything the router offers would send). */
  async join(): Promise<void> {
    const caps = await this.request('getRouterRtpCapabilities');
    assert.ok(caps.ok, JSON.stringify(caps));
    const joined = await this.request('join', { rtpCapabilities: caps.data });
    assert.ok(joined.ok, JSON.stringify(joined));
  }

  close(): void {
    this.ws?.terminate();
  }
}

describe('two instances behind nginx on one PostgreSQL (rooms pinned to an instance)', function () {
  // One call's story across two instances (starting both costs ~20 s): the booking step makes the appointment and the
  // sessions every later step uses, the call steps build on the room the previous one made, and the last two kill and
  // drain the instances (found by IDV_TEST_ORDER=reverse).
  keepOrder(this, 'the first step books the appointment the later steps call in; the last two steps stop the instances');
  this.timeout(150_000);
  let dbUrl: string;
  let walStart: { file_name: string; file_offset: number };
  let smtp: TestSmtpServer;
  let lb: Balancer;
  let base: string;
  let instances: Instances;
  let censusFile: string;
  /** What the flows' document fetch reported (the fetch's HTTP status), posted to this test's collector. */
  let collector: http.Server;
  const collected: string[] = [];
  const runtimes: RuntimeHandle[] = [];
  const sockets: Signaling[] = [];
  let appointmentId = '';
  let agentName = '';
  let resident: Client;
  let agent: Client;

  before(async () => {
    dbUrl = await freshDatabase('instances');
    // The run's cluster is shared by every test file; other files book residents with the same names on purpose.
    // The WAL search below reads only what was written from here on.
    const pgStart = new PgClient({ connectionString: dbUrl });
    await pgStart.connect();
    try {
      walStart = (await pgStart.query(`SELECT file_name, file_offset FROM pg_walfile_name_offset(pg_current_wal_lsn())`)).rows[0] as { file_name: string; file_offset: number };
    } finally {
      await pgStart.end();
    }
    smtp = await startTestSmtp();
    censusFile = path.join(tempDir('idv-instances-census-'), 'census.json');
    collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        collected.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    instances = await startInstances({
      dbUrl,
      smtpUrl: smtp.url,
      flows: flowsFetchingDocuments(`http://127.0.0.1:${(collector.address() as AddressInfo).port}/fetched`),
      // The route census (test/support/route-census.ts): every route the runtime mounts, with its handlers' names.
      nodeArgs: ['--require', path.join(ROOT, 'dist', 'test', 'support', 'route-census.js')],
      env: { IDV_ROUTE_CENSUS_FILE: censusFile },
    });
    ({ base, lb } = instances);
    runtimes.push(...instances.runtimes);
  });

  after(async () => {
    for (const s of sockets) s.close();
    await browser?.close();
    await instances?.stop();
    await smtp?.stop();
    if (censusFile) fs.rmSync(path.dirname(censusFile), { recursive: true, force: true });
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('a resident books through the balancer, gets the link by mail, and the agent signs in through it', async () => {
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const slots = (await (await fetch(`${base}/afspraak/slots?from=${from}&to=${from}`)).json()) as { start: string }[];
    assert.ok(slots.length > 0, 'the schedule is open around the clock');
    // Now-ish: the access link opens a day ahead in the test flows, so the call can start at once.
    const now = (await (await fetch(`${base}/afspraak/slots?from=${new Date().toISOString().slice(0, 10)}&to=${from}`)).json()) as { start: string }[];
    const res = await new Client(base).request('POST', '/afspraak', { json: { start: now[0].start, name: 'Inwoner Twee', email: 'inwoner.twee@example.nl' } });
    const body = (await res.json()) as { id: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    appointmentId = body.id;
    const link = await waitFor('the access link by mail', async () => {
      const mail = smtp.received.find((m) => m.envelope.to.includes('inwoner.twee@example.nl'));
      return mail ? new RegExp(`${base}(/v/[A-Za-z0-9_-]+)`).exec(String(mail.parsed.text))?.[1] : undefined;
    }, 30_000);
    resident = new Client(base);
    const visit = await resident.get(link);
    assert.equal(visit.status, 303);
    assert.ok(resident.cookies.size > 0, 'the link gave a call-session cookie');
    const pg = new PgClient({ connectionString: dbUrl });
    await pg.connect();
    try {
      agentName = (await pg.query('SELECT agent FROM appointments WHERE id = $1', [appointmentId])).rows[0].agent as string;
    } finally {
      await pg.end();
    }
    agent = new Client(base);
    assert.equal((await agent.signIn(agentName, DEMO_PASSWORD)).status, 303, 'sign-in through the balancer (both instances share the store and the secret)');
  });

  function connect(client: Client, query = ''): Signaling {
    const s = new Signaling(`${base.replace('http', 'ws')}/ws${query}`, { origin: base, cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') });
    sockets.push(s);
    return s;
  }

  let res: Signaling;
  let ag: Signaling;

  it("every mounted route that reads a call's memory (marked callMemory) is one owner-forward sends to the room's owner", async () => {
    runtimes[0].proc.kill('SIGUSR2');
    const entries = await waitFor('the route census', async () => (fs.existsSync(censusFile) ? (JSON.parse(fs.readFileSync(censusFile, 'utf8')) as CensusEntry[]) : undefined), 10_000, 50);
    const routes = entries.filter((e) => e.kind === 'route');
    const marked = routes.filter((e) => e.handlers?.includes('idvCallMemory'));
    // Identification (10), the agent's chat, documents and guest (10), the resident's chat, documents and withdrawal
    // (4), a flow's document fetch (1): if a router stops being mounted or loses its marks, this count says so.
    assert.ok(marked.length >= 25, `call-memory routes found: ${marked.map((e) => e.path).join(' ')}`);
    const sample = (p: string) => p.replace(/:[A-Za-z]+/g, 'x1');
    const missed = marked.filter((e) => !isCallMemoryPath(sample(e.path)));
    assert.deepEqual(missed.map((e) => `${e.methods.join(',')} ${e.path}`), [], 'marked routes that owner-forward does not send to the owner');
    // These pages need no call memory (the store and the directory answer them on any instance), so they carry no mark.
    for (const p of ['/agent/call/:id', '/agent/appointments.json', '/call', '/agent']) {
      const route = routes.find((e) => e.path === p);
      assert.ok(route, `${p} is mounted`);
      assert.equal(route.handlers?.includes('idvCallMemory'), false, `${p} reads no call memory`);
    }
  });

  it('resident and agent reach different instances and still meet on one router', async () => {
    // The dashboard's live channel, open on each instance straight (whichever one nginx would pick).
    const hubs = runtimes.map((rt) => new Signaling(`${rt.url.replace('http', 'ws')}/ws?channel=agent`, { origin: base, cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }));
    sockets.push(...hubs);
    for (const h of hubs) await h.open();
    res = connect(resident);
    await res.open();
    await res.join();
    // Whichever instance the agent's requests land on, the resident is seen waiting: live and on (re)load.
    for (const [i, h] of hubs.entries()) {
      await waitFor(`the waiting resident pushed to the dashboard on instance ${i + 1}`, async () => h.pushes.some((m) => m.type === 'presence' && m.appointmentId === appointmentId && m.resident === true), 10_000);
    }
    // The resident's chat reaches the agent's dashboard on both instances: text goes instance to instance, never
    // through the database (the search for values below looks for it too).
    const chat = await resident.request('POST', '/call/chat', { json: { text: CHAT } });
    assert.equal(chat.status, 201, await chat.text());
    for (const [i, h] of hubs.entries()) {
      await waitFor(`the chat pushed to the dashboard on instance ${i + 1}`, async () => h.pushes.some((m) => m.type === 'chat' && (m.message as { text?: string }).text === CHAT), 10_000);
    }
    const relay = await fetch(`${base}/_idv/instance/agent-push?sha256=x`, { method: 'POST', body: JSON.stringify({ username: agentName, message: { type: 'chat', message: { text: 'x' } } }), headers: { 'content-type': 'application/json' } });
    assert.equal(relay.status, 404, 'the relay takes nothing from outside');
    for (const rt of runtimes) {
      const list = (await (await fetch(`${rt.url}/agent/appointments.json`, { headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'application/json', 'x-forwarded-for': '127.0.0.1' } })).json()) as { appointments: { id: string; residentPresent: boolean; agentPresent: boolean }[] };
      const row = list.appointments.find((a) => a.id === appointmentId);
      assert.deepEqual([row?.residentPresent, row?.agentPresent], [true, false], `the dashboard list on ${rt.url} shows the resident waiting`);
      const page = await fetch(`${rt.url}/agent/call/${appointmentId}`, { redirect: 'manual', headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-forwarded-for': '127.0.0.1' } });
      assert.equal(page.status, 303);
      assert.equal(page.headers.get('location'), `/agent?call=${appointmentId}`, `the call page on ${rt.url}`);
    }
    const before = (await Promise.all(runtimes.map((rt) => metric(rt, /idv_instance_forwards_total\{kind="websocket"\}/)))).reduce((a, b) => a + b, 0);
    ag = connect(agent, `?appointment=${encodeURIComponent(appointmentId)}`);
    await ag.open();
    await ag.join();
    await waitFor('the resident told the agent joined', async () => res.notes.some((n) => n.method === 'peerJoined' && n.data.role === 'agent'), 10_000);
    const rooms = await Promise.all(runtimes.map((rt) => metric(rt, /idv_media_rooms/)));
    assert.deepEqual([...rooms].sort(), [0, 1], `one room on one instance (rooms per instance: ${rooms})`);
    const after = (await Promise.all(runtimes.map((rt) => metric(rt, /idv_instance_forwards_total\{kind="websocket"\}/)))).reduce((a, b) => a + b, 0);
    const log = lb.log().split('\n').filter((l) => l.startsWith('GET /ws'));
    assert.ok(after > before || new Set(log.map((l) => l.split(' ').pop())).size === 2, `the upgrades went to both instances (nginx: ${log.join(' | ')})`);
    const joins = await Promise.all(runtimes.map((rt) => metric(rt, /idv_call_joins_total\{role="agent"\}/)));
    assert.equal(joins[rooms.indexOf(1)], 1, 'the join counted on the owner');
  });

  it("the agent's identification panel is answered by the room's owner, whichever instance nginx picks; a forged forward is refused", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await agent.get(`/auth/agent/appointments/${encodeURIComponent(appointmentId)}`, { accept: 'application/json' });
      assert.equal(r.status, 200, await r.clone().text());
      await r.arrayBuffer();
    }
    const forwards = await Promise.all(runtimes.map((rt) => metric(rt, /idv_instance_forwards_total\{kind="request"\}/)));
    assert.ok(forwards.some((n) => n >= 1), `requests reached the owner through the other instance (${forwards})`);
    const forged = await agent.get(`/auth/agent/appointments/${encodeURIComponent(appointmentId)}`, { accept: 'application/json', 'x-idv-instance-forward': `x.${Date.now()}.${'A'.repeat(43)}` });
    assert.equal(forged.status, 403);
    assert.doesNotMatch(await forged.text(), /hmac|secret|stack|node_modules/i);
  });

  it("a flow's one-time document fetch through the balancer reaches the owner's memory from the other instance", async () => {
    const rooms = await Promise.all(runtimes.map((rt) => metric(rt, /idv_media_rooms/)));
    const other = runtimes[1 - rooms.indexOf(1)];
    await lb.pin('/idv/documents/', other.port);
    const before = await metric(other, /idv_instance_forwards_total\{kind="request"\}/);
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).jpeg().toBuffer();
    // A fresh connection: nginx's reload just closed the workers that held fetch's pooled keep-alive connections.
    const shared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/call/documents`, { method: 'POST', agent: false, headers: { 'content-type': 'image/jpeg', origin: base, cookie: [...resident.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(jpeg);
    });
    assert.equal(shared.status, 201, shared.body);
    // The owner's dashboard node emits the share, its flow's idv-fetch-document makes the link, an http request node
    // fetches it through nginx, which sends it to the instance without the document.
    const status = await waitFor('the flow fetched the document', async () => collected[0], 20_000);
    assert.equal(status, '200', 'the fetch got the document');
    // nginx writes a line after it answered: wait for it rather than read the log at once.
    const fetches = await waitFor('nginx logged the fetch', async () => {
      const lines = lb.log().split('\n').filter((l) => l.startsWith('GET /idv/documents/'));
      return lines.length > 0 ? lines : undefined;
    });
    assert.ok(fetches.length === 1 && fetches[0].endsWith(` 200 127.0.0.1:${other.port}`), `through the other instance (${fetches.join(' | ')})`);
    assert.ok((await metric(other, /idv_instance_forwards_total\{kind="request"\}/)) > before, 'which passed it on to the owner');
  });

  let browser: Browser;
  let residentPage: Page;
  let agentPage: Page;

  it('in Chromium (one browser, two contexts) the call has media both ways; identification with the callback on the other instance shows the values to the agent', async () => {
    for (const s of sockets) s.close();
    browser = await launchBrowser();
    const page = async (client: Client): Promise<Page> => {
      const ctx = await browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1366, height: 768 } });
      await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
      await ctx.addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
      return ctx.newPage();
    };
    residentPage = await page(resident);
    agentPage = await page(agent);
    await residentPage.goto(`${base}/call`);
    await residentPage.locator('#start-call:enabled').waitFor({ timeout: 30_000 });
    await residentPage.click('#start-call');
    await agentPage.goto(`${base}/agent`);
    const row = agentPage.locator(`li[data-appointment-id="${appointmentId}"] button`).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await agentPage.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await residentPage.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(residentPage, 'resident');
    await assertMediaFlows(agentPage, 'agent');
    const rooms = await Promise.all(runtimes.map((rt) => metric(rt, /idv_media_rooms/)));
    assert.deepEqual([...rooms].sort(), [0, 1], `one room (${rooms})`);
    const owner = rooms.indexOf(1);

    // The provider sends the resident back to /auth/callback: nginx now sends that to the instance without the room.
    await lb.callbackTo(runtimes[1 - owner].port);
    const forwardsBefore = await metric(runtimes[1 - owner], /idv_instance_forwards_total\{kind="request"\}/);
    await agentPage.selectOption('#idv-ident-purpose', { index: 0 });
    await agentPage.click('#idv-ident-ask');
    await residentPage.locator('dialog.idv-identify-dialog[open]').waitFor({ timeout: 15_000 });
    await residentPage.click('a.idv-identify-method[data-method="demo-digid"]');
    await residentPage.waitForURL((u) => u.pathname.startsWith('/interaction/'));
    await residentPage.check('input[name="account"][value="jan"]');
    await residentPage.click('button[name="do"][value="login"]');
    await residentPage.locator('button[name="do"][value="allow"]').click();
    await residentPage.waitForURL((u) => u.pathname === '/call', { timeout: 30_000 });
    const callbacks = await waitFor('nginx logged the callback', async () => {
      const lines = lb.log().split('\n').filter((l) => l.startsWith('GET /auth/callback'));
      return lines.length > 0 ? lines : undefined;
    });
    assert.ok(callbacks.length > 0 && callbacks.every((l) => l.endsWith(`:${runtimes[1 - owner].port}`)), `the callback landed on the other instance (${callbacks.join(' | ')})`);
    assert.ok((await metric(runtimes[1 - owner], /idv_instance_forwards_total\{kind="request"\}/)) > forwardsBefore, 'and was passed on to the owner');
    const verified = agentPage.locator('.idv-ident-verified');
    await verified.waitFor({ timeout: 30_000 });
    assert.equal(await verified.locator('dd[data-key="bsn"]').innerText(), BSN);
    assert.equal(await verified.locator('dd[data-key="name"]').innerText(), 'Jan Jansen');
    await residentPage.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await assertMediaFlows(residentPage, 'resident back in the call');
  });

  it('no attribute value and no chat text in PostgreSQL (every table, the WAL files) or in the logs', async () => {
    const pg = new PgClient({ connectionString: dbUrl });
    await pg.connect();
    try {
      const tables = (await pg.query(`SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)).rows as { table_schema: string; table_name: string }[];
      assert.ok(tables.length > 10);
      for (const t of tables) {
        const { rows } = await pg.query(`SELECT t::text AS row FROM "${t.table_schema}"."${t.table_name}" t`);
        for (const r of rows as { row: string }[]) assert.ok(!r.row.includes(BSN) && !r.row.includes('Jan Jansen') && !r.row.includes(CHAT), `a value or chat text in ${t.table_name}`);
      }
      await pg.query('CHECKPOINT').catch(() => undefined);
      const dataDir = (await pg.query('SHOW data_directory')).rows[0].data_directory as string;
      const wal = path.join(dataDir, 'pg_wal');
      // WAL file names sort in write order (timeline, segment); the first one is read from this suite's start on, the
      // last one up to where PostgreSQL has written now. Beyond that point a segment file holds stale bytes: PostgreSQL
      // recycles old segment files by renaming them ahead, so they still carry what earlier files of the run wrote.
      const walEnd = (await pg.query(`SELECT file_name, file_offset FROM pg_walfile_name_offset(pg_current_wal_insert_lsn())`)).rows[0] as { file_name: string; file_offset: number };
      const files = fs.readdirSync(wal).filter((n) => /^[0-9A-F]{24}$/.test(n) && n >= walStart.file_name && n <= walEnd.file_name);
      assert.ok(files.includes(walStart.file_name), 'the WAL written since the suite started is still there to search');
      assert.ok(files.includes(walEnd.file_name), 'the WAL written until now is there to search');
      for (const f of files) {
        const whole = fs.readFileSync(path.join(wal, f));
        const bytes = whole.subarray(f === walStart.file_name ? walStart.file_offset : 0, f === walEnd.file_name ? walEnd.file_offset : whole.length);
        assert.equal(bytes.indexOf(BSN), -1, `the BSN in WAL file ${f}`);
        assert.equal(bytes.indexOf('Jan Jansen'), -1, `the name in WAL file ${f}`);
        assert.equal(bytes.indexOf(CHAT), -1, `chat text in WAL file ${f}`);
      }
    } finally {
      await pg.end();
    }
    for (const rt of runtimes) assert.doesNotMatch(rt.output(), new RegExp(`${BSN}|Jan Jansen|4711-chat`));
  });

  it("SIGKILL of the room's owner during the call: the browsers reconnect through nginx and media flows again on the survivor, within a measured bound", async () => {
    const rooms = await Promise.all(runtimes.map((rt) => metric(rt, /idv_media_rooms/)));
    const ownerIndex = rooms.indexOf(1);
    const survivor = runtimes[1 - ownerIndex];
    const setId = (await agentPage.locator('.idv-ident-verified').first().getAttribute('data-set')) ?? '';
    assert.ok(setId);
    const pcs = await Promise.all([residentPage, agentPage].map((p) => mediaFlow(p)));
    const killedAt = Date.now();
    await runtimes[ownerIndex].stop('SIGKILL');
    await Promise.all([assertMediaFlows(residentPage, 'resident on the survivor', pcs[0].pcs + 1, 45_000), assertMediaFlows(agentPage, 'agent on the survivor', pcs[1].pcs + 1, 45_000)]);
    const tookMs = Date.now() - killedAt;
    console.log(`      media flows again on the survivor ${tookMs} ms after SIGKILL of the owner (room lease 6 s)`);
    assert.equal(await metric(survivor, /idv_media_rooms/), 1, 'the room was recreated on the survivor');
    assert.ok(tookMs < 45_000);
    // Values were in the dead owner's memory only: the agent's panel has nothing to show any more (fail closed).
    const set = await agent.get(`/auth/agent/sets/${encodeURIComponent(setId)}?appointment=${encodeURIComponent(appointmentId)}`, { accept: 'application/json' });
    assert.equal(set.status, 404, 'the set died with its owner');
    assert.doesNotMatch(await set.text(), new RegExp(BSN));
    assert.equal((await fetch(`${base}/afspraak`)).status, 200, 'the survivor serves the pages');
  });

  it('SIGTERM with IDV_DRAIN_SECONDS: the instance answers /readyz 503 (draining) while /healthz stays 200, then stops cleanly', async () => {
    const last = runtimes.find((rt) => rt.proc.exitCode === null && rt.proc.signalCode === null)!;
    const exit = last.stop('SIGTERM');
    const body = await waitFor('not ready while draining', async () => {
      const r = await fetch(`${last.url}/readyz`);
      const b = (await r.json()) as { status: string; draining?: { ok: boolean } };
      return r.status === 503 && b.draining?.ok === false ? b : undefined;
    }, 5000, 50);
    assert.equal(body.status, 'not ready');
    assert.equal((await fetch(`${last.url}/healthz`)).status, 200, 'alive while it drains');
    assert.equal(await exit, 0);
    assert.match(last.output(), /SIGTERM: draining for 2 s, then stopping/);
  });
});
