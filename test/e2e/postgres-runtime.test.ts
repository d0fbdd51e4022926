import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { Client } from '../support/http-client';
import { freshDatabase } from '../support/postgres';
import { DEMO_PASSWORD, ROOT, runRuntimeExpectingExit, startRuntime, tempDir, waitHealthy, type RuntimeHandle } from '../support/runtime';

/** An agent's live channel (/ws?channel=agent) on one runtime, collecting what it is pushed. */
async function agentChannel(rt: RuntimeHandle, cookie: string): Promise<{ got: { type: string }[]; ws: WebSocket; waitFor(type: string, ms: number): Promise<void> }> {
  const ws = new WebSocket(`${rt.url.replace('http', 'ws')}/ws?channel=agent`, { headers: { origin: rt.url, cookie } });
  const got: { type: string }[] = [];
  ws.on('message', (data) => got.push(JSON.parse(String(data)) as { type: string }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = async (type: string, ms: number) => {
    const end = Date.now() + ms;
    while (!got.some((m) => m.type === type)) {
      if (Date.now() > end) throw new Error(`no "${type}" push within ${ms} ms (got ${JSON.stringify(got)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor('hello', 5000);
  return { got, ws, waitFor };
}

async function signedIn(rt: RuntimeHandle, username: string): Promise<string> {
  const c = new Client(rt.url);
  const res = await c.signIn(username, DEMO_PASSWORD);
  assert.equal(res.status, 303, `${username} signs in on ${rt.url}`);
  return [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

describe('the runtime on PostgreSQL (IDV_DATABASE_URL)', function () {
  this.timeout(120_000);
  let url: string;
  const runtimes: RuntimeHandle[] = [];
  const dirs: string[] = [];

  before(async () => {
    url = await freshDatabase('runtime');
    // Two instances on one database, each with a data dir of its own (its own instance id), as in production.
    for (let i = 0; i < 2; i++) {
      const dataDir = tempDir(`idv-pg-runtime-${i}-`);
      dirs.push(dataDir);
      runtimes.push(await startRuntime({ dataDir, env: { IDV_DATABASE_URL: url, IDV_MEDIA_WORKERS: '1' } }));
    }
  });
  after(async () => {
    for (const rt of runtimes) await rt.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('starts on PostgreSQL, says so, keeps nothing in an SQLite file, and its health check writes there', async () => {
    for (const rt of runtimes) {
      assert.match(rt.output(), /store: PostgreSQL 127\.0\.0\.1:\d+\/idv_test_\d+/);
      assert.doesNotMatch(rt.output(), /geheim|password=/i);
      const res = await waitHealthy(rt.url);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, { ok: boolean; detail?: string }>;
      assert.deepEqual(body.store, { ok: true });
      assert.equal(fs.existsSync(path.join(rt.dataDir, 'idvideo.sqlite')), false, 'no SQLite database beside it');
    }
    const c = new PgClient({ connectionString: url });
    await c.connect();
    try {
      assert.equal((await c.query(`SELECT count(*)::int AS n FROM kv WHERE key = 'health.write-probe'`)).rows[0].n, 1);
      const accounts = (await c.query('SELECT username FROM staff_users ORDER BY username')).rows.map((r: { username: string }) => r.username);
      assert.deepEqual(accounts, ['admin', 'agent1', 'agent2', 'kcc1'], 'the demo accounts live in the shared database');
    } finally {
      await c.end();
    }
  });

  it("a booking made on one instance reaches the agent's dashboard on the other (LISTEN/NOTIFY), and a sign-in works on both", async () => {
    const [one, two] = runtimes;
    // The agent's dashboard is connected to instance 2 only.
    const channel = await agentChannel(two, await signedIn(two, 'agent1'));
    await signedIn(one, 'agent1');
    try {
      // A day with room: the resident books through instance 1 until one booking lands on agent1.
      const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.now() + 9 * 86_400_000).toISOString().slice(0, 10);
      const slots = (await (await fetch(`${one.url}/afspraak/slots?from=${from}&to=${to}`)).json()) as { start: string }[];
      assert.ok(slots.length > 0);
      let forAgent1 = false;
      for (let i = 0; i < 6 && !forAgent1; i++) {
        const res = await new Client(one.url).request('POST', '/afspraak', { json: { start: slots[i].start, name: `Inwoner ${i}`, email: `inwoner${i}@example.nl` } });
        const body = (await res.json()) as { id?: string };
        assert.equal(res.status, 201, JSON.stringify(body));
        const c = new PgClient({ connectionString: url });
        await c.connect();
        forAgent1 = (await c.query('SELECT agent FROM appointments WHERE id = $1', [body.id])).rows[0]?.agent === 'agent1';
        await c.end();
      }
      assert.ok(forAgent1, 'one of the bookings was planned for agent1');
      await channel.waitFor('appointments', 5000);
    } finally {
      channel.ws.close();
    }
  });

  it('the staff account command works on the same database', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'staff-account.js'), 'list'], {
      encoding: 'utf8',
      env: { ...process.env, IDV_DATA_DIR: dirs[0], IDV_DATABASE_URL: url },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^agent1\tagent\t/m);
  });

  it('refuses to start on a database it cannot reach, or a URL that is not PostgreSQL, saying why and without the password', async () => {
    const scratch = () => (dirs.push(tempDir()), dirs[dirs.length - 1]);
    const down = await runRuntimeExpectingExit({ IDV_DATA_DIR: scratch(), IDV_DATABASE_URL: 'postgres://idvideo:zeer-geheim@127.0.0.1:1/idvideo' });
    assert.notEqual(down.code, 0);
    assert.match(down.output, /PostgreSQL at 127\.0\.0\.1:1\/idvideo cannot be reached \(PG_ECONNREFUSED\)/);
    assert.doesNotMatch(down.output, /zeer-geheim/);
    const wrong = await runRuntimeExpectingExit({ IDV_DATA_DIR: scratch(), IDV_DATABASE_URL: 'mysql://idvideo:zeer-geheim@db/idvideo' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.output, /IDV_DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.doesNotMatch(wrong.output, /zeer-geheim/);
  });
});
