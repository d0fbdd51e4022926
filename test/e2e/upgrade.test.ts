/**
 * An upgrade from the first landed release (commit e330064, migrations 001-004) with data in it: today's runtime
 * starts on that release's data dir (its rows, written by its own code, and its default flows.json; see
 * test/fixtures/release-e330064/make.sh) and everything that was promised there still works: staff sign in with
 * their old passwords and stay signed in, the access links and the call session open the call, a booking made by
 * phone cancels through its cancel link (and the cancellation is handed off: a mail goes out), the mail that was
 * waiting is sent, the processing log lists the old rows, and the KCC list shows the old bookings.
 *
 * The fixture's times are fixed; the runtime runs on a clock set to ten minutes after the fixture was made (the tests'
 * fake clock), so its links are open and its appointments still ahead whatever day this runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { allMigrations } from '../../lib/store/migrations';
import { waitFor } from '../support/call-media';
import { Client } from '../support/http-client';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { TEST_RTC_ENV } from '../support/ports';
import { keepOrder } from '../support/test-order';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'release-e330064');

interface Secrets {
  createdAt: string;
  demoPassword: string;
  staffCookie: { name: string; value: string; username: string };
  website: { id: string; agent: string; cancelToken: string; residentLink: string; agentLink: string };
  phone: { id: string; cancelToken: string; residentLink: string; callSession: string };
  cancelled: { id: string };
}

describe('upgrade from the first landed release (e330064) with data in it', function () {
  this.timeout(120_000);
  // One upgraded data set, checked step by step: the cancellation near the end ends the old phone booking whose links,
  // session and list entry the earlier steps check (found by IDV_TEST_ORDER=reverse).
  keepOrder(this, 'the cancellation step ends the old booking the earlier steps read');
  const secrets = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'secrets.json'), 'utf8')) as Secrets;
  let rt: RuntimeHandle;
  let db: Database.Database;

  before(async () => {
    const dataDir = tempDir('idv-upgrade-');
    const old = new Database(path.join(dataDir, 'idvideo.sqlite'));
    old.exec(fs.readFileSync(path.join(FIXTURE, 'data.sql'), 'utf8'));
    old.close();
    fs.copyFileSync(path.join(FIXTURE, 'flows.json'), path.join(dataDir, 'flows.json'));
    const offset = Date.parse(secrets.createdAt) + 10 * 60_000 - Date.now();
    rt = await startRuntime({
      dataDir,
      timeoutMs: 60_000,
      env: { ...TEST_RTC_ENV, IDV_DEMO_PASSWORD: secrets.demoPassword, IDV_TEST_CLOCK_OFFSET_MS: String(offset) },
      nodeArgs: ['--require', path.join(ROOT, 'dist', 'test', 'support', 'fake-clock.js')],
    });
    db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db?.close();
    await rt?.stop();
    if (rt) fs.rmSync(rt.dataDir, { recursive: true, force: true });
  });

  it('applies every newer migration once, keeping every row', () => {
    const ids = (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    assert.deepEqual(ids, allMigrations().map((m) => m.id));
    const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    assert.equal(count('appointments'), 3);
    assert.equal(count('staff_users'), 4);
    assert.ok(count('processing_log') >= 5);
  });

  it('staff sign in with the password of the old release, and an old session still works', async () => {
    const fresh = new Client(rt.url);
    const res = await fresh.signIn('agent1', secrets.demoPassword);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/agent');
    assert.equal((await fresh.get('/agent')).status, 200);
    const old = new Client(rt.url);
    old.cookies.set(secrets.staffCookie.name, secrets.staffCookie.value);
    const list = await old.get('/kcc/afspraak/afspraken');
    assert.equal(list.status, 200, 'the session made by the old release is still valid');
    const html = await list.text();
    assert.ok(html.includes(`/kcc/afspraak/afspraken/${secrets.website.id}/annuleren`), 'the old website booking is listed');
    assert.ok(html.includes(`/kcc/afspraak/afspraken/${secrets.phone.id}/annuleren`), 'the old phone booking is listed');
    assert.ok(!html.includes(secrets.cancelled.id), 'the booking cancelled in the old release is not');
  });

  it('the old access links and call session open the call page', async () => {
    for (const token of [secrets.website.residentLink, secrets.phone.residentLink]) {
      const c = new Client(rt.url);
      const visit = await c.get(`/v/${token}`);
      assert.equal(visit.status, 303, 'the link of the old release is valid');
      assert.equal(visit.headers.get('location'), '/call');
      assert.equal((await c.get('/call')).status, 200);
    }
    const agent = new Client(rt.url);
    await agent.signIn(secrets.website.agent, secrets.demoPassword);
    const agentVisit = await agent.get(`/v/${secrets.website.agentLink}`);
    assert.equal(agentVisit.status, 303);
    assert.match(agentVisit.headers.get('location') ?? '', new RegExp(`/agent/call/${secrets.website.id}$`));
    const session = new Client(rt.url);
    session.cookies.set('idv_call', secrets.phone.callSession);
    assert.equal((await session.get('/call')).status, 200, 'the call session made by the old release');
  });

  it('the mail that was waiting in the old outbox goes out, once', async () => {
    const staff = new Client(rt.url);
    await staff.signIn('admin', secrets.demoPassword);
    let html = '';
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      html = await (await staff.get('/dev/mail')).text();
      if (html.includes('wim@example.nl')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(html.includes('wim@example.nl'), 'the old pending confirmation reached the catcher');
    // The outbox marks a mail sent after the server took it: wait for the row, then count what arrived.
    const waiting = () => (db.prepare("SELECT count(*) AS n FROM mail_outbox WHERE status IN ('pending', 'sending')").get() as { n: number }).n;
    await waitFor('nothing left to send', async () => waiting() === 0, 30_000);
    html = await (await staff.get('/dev/mail')).text();
    assert.equal([...html.matchAll(/wim@example\.nl/g)].length, 1, 'one mail');
  });

  it('an old booking cancels through its cancel link; the new hand-off mails the cancellation', async () => {
    const c = new Client(rt.url);
    const page = await c.get(`/afspraak/annuleren/${secrets.phone.cancelToken}`);
    assert.equal(page.status, 200);
    const done = await c.post(`/afspraak/annuleren/${secrets.phone.cancelToken}`, { _csrf: Client.csrfFrom(await page.text()) });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /geannuleerd/);
    const row = db.prepare('SELECT status, cancelled_by FROM appointments WHERE id = ?').get(secrets.phone.id) as { status: string; cancelled_by: string | null };
    assert.deepEqual(row, { status: 'cancelled', cancelled_by: null });
    const staff = new Client(rt.url);
    await staff.signIn('admin', secrets.demoPassword);
    const end = Date.now() + 30_000;
    let handed = false;
    while (!handed && Date.now() < end) {
      handed = (db.prepare("SELECT count(*) AS n FROM appointment_events WHERE appointment_id = ? AND kind = 'cancelled' AND state = 'done'").get(secrets.phone.id) as { n: number }).n === 1;
      if (!handed) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(handed, 'the cancellation was handed off');
    const html = await (await staff.get('/dev/mail')).text();
    assert.ok(html.includes('petra@example.nl'), 'the resident gets the cancellation mail');
  });

  it('the processing log lists the rows of the old release', async () => {
    const admin = new Client(rt.url);
    await admin.signIn('admin', secrets.demoPassword);
    const res = await admin.get(`/admin-log?appointment=${secrets.website.id}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const word of ['requested', 'method_chosen', 'verified', 'shown', 'deleted', 'agent_deleted', 'bsn, name', 'Paspoort aanvragen']) assert.ok(text.includes(word), word);
  });

  it('is healthy', async () => {
    const res = await fetch(`${rt.url}/healthz`);
    assert.equal(res.status, 200, await res.text());
  });
});
