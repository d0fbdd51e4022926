import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { waitFor } from '../support/call-media';
import { clockOffsetMs } from '../support/fake-clock';
import { defaultFlowsOpenNow } from '../support/flows';
import { Client } from '../support/http-client';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { signIn } from '../support/pages';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';

const PRELOAD = path.join(ROOT, 'dist', 'test', 'support', 'fake-clock.js');
const H = 3600_000;

/**
 * The default flows in demo mode with SMS on through the demo gateway (issue 14): the resident's confirmation SMS is
 * shown at /dev/sms to signed-in staff; a day later (the runtime's clock moved with the fake-clock preload) the SMS
 * reminder goes out once; past the retention period the runtime's own retention job erases the resident's name,
 * e-mail, phone and remarks and writes the erasure in the processing log, and the 1 h reminder whose moment passed
 * while the runtime was down is never sent. SQLite; the store rows are read beside the runtime (read-only).
 */
describe('demo SMS at /dev/sms, the SMS reminder and retention through the runtime', function () {
  this.timeout(240_000);
  let dataDir: string;
  let rt: RuntimeHandle | undefined;
  let browser: Browser;

  /** Starts the runtime on the same data dir; `at` = the instant its clock should show at start (default: now). */
  async function launch(at?: number, env: Record<string, string> = {}): Promise<RuntimeHandle> {
    const real = Date.now() - clockOffsetMs;
    const offset = at === undefined ? clockOffsetMs : Math.round(at - real);
    rt = await startRuntime({ dataDir, timeoutMs: 90_000, nodeArgs: ['--require', PRELOAD], env: { IDV_TEST_CLOCK_OFFSET_MS: String(offset), ...env } });
    return rt;
  }

  function rows<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  before(async () => {
    dataDir = tempDir('idv-life-demo-');
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(defaultFlowsOpenNow(ROOT)));
    // The statistics need a manager; the README's account command makes one (password on standard input).
    const made = spawnSync(process.execPath, ['dist/scripts/staff-account.js', 'add', 'manager1', '--name', 'Mira Manager', '--roles', 'manager'], {
      cwd: ROOT,
      input: `${DEMO_PASSWORD}\n`,
      encoding: 'utf8',
      env: { ...process.env, IDV_DATA_DIR: dataDir },
    });
    assert.equal(made.status, 0, made.stderr);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rt?.stop('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function expectNoViolations(page: Page, what: string) {
    const v = await axeViolations(page);
    assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
    for (const size of [VIEWPORTS.phoneSmall, VIEWPORTS.phone, VIEWPORTS.laptop]) {
      await page.setViewportSize(size);
      assert.deepEqual(await layoutProblems(page), [], `${what} at ${size.width}×${size.height}`);
    }
    assert.deepEqual(await smallTargets(page), [], `${what}: touch targets`);
  }

  it('shows the confirmation SMS at /dev/sms, sends the reminder once a day later, and erases the resident past the retention period', async () => {
    let r = await launch();
    // A place well beyond a day ahead, at any hour the tests run.
    const from = new Date(Date.now() + 26 * H);
    const to = new Date(from.getTime() + 2 * 24 * H);
    const slots = (await (await fetch(`${r.url}/afspraak/slots?from=${from.toISOString().slice(0, 10)}&to=${to.toISOString().slice(0, 10)}`)).json()) as { start: string }[];
    const start = slots.map((s) => s.start).find((s) => Date.parse(s) > from.getTime());
    assert.ok(start, 'a free place a day ahead');
    const booked = await fetch(`${r.url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start, topic: 'Paspoort aanvragen', name: 'Saskia Sms', email: 'saskia@example.nl', remarks: 'Graag met tolk', sms: 'ja', phone: '06-13572468' }),
    });
    assert.equal(booked.status, 201, await booked.clone().text());
    const { id, end } = (await booked.json()) as { id: string; end: string };

    // /dev/sms: sign-in first; then the confirmation with the access link, as the resident would read it.
    const staff = new Client(r.url);
    assert.equal((await staff.get('/dev/sms')).status, 303, 'sign-in first');
    assert.equal((await staff.signIn('kcc1', DEMO_PASSWORD)).status, 303);
    const list = await waitFor('the confirmation SMS at /dev/sms', async () => {
      const html = await (await staff.get('/dev/sms')).text();
      return /uw video-afspraak is op/.test(html) ? html : undefined;
    }, 30_000);
    assert.match(list, /06 13572468/);
    assert.match(list, new RegExp(`href="${r.url.replace(/[.]/g, '\\.')}/v/[A-Za-z0-9_-]{43}"`), 'the access link, clickable');
    const page = await browser.newPage();
    await signIn(page, r.url, 'kcc1', '/dev/sms');
    assert.equal(await page.textContent('h1'), 'Opgevangen sms (demo)');
    await expectNoViolations(page, '/dev/sms');
    await page.close();
    assert.deepEqual(
      rows<{ kind: string; n: number }>(`SELECT kind, COUNT(*) AS n FROM sms_outbox WHERE appointment_id = ? GROUP BY kind`, id),
      [{ kind: 'sms-reminder', n: 2 }],
      'the two reminders wait for their moment',
    );
    assert.ok(!/\/v\/[A-Za-z0-9_-]{43}/.test(r.output()), 'no access link in the log');
    assert.ok(!r.output().includes('13572468'), 'no phone number in the log');
    await r.stop();

    // 23 hours before the start: the day-ahead reminder goes out once; the hour-ahead one waits.
    r = await launch(Date.parse(start) - 23 * H);
    const sent = () => rows<{ kind: string }>(`SELECT kind FROM sms_deliveries WHERE appointment_id = ? ORDER BY accepted_at`, id).map((x) => x.kind);
    await waitFor('the SMS reminder accepted by the (demo) gateway', async () => (sent().includes('sms-reminder') ? true : undefined), 60_000);
    const demo = new Client(r.url);
    assert.equal((await demo.signIn('kcc1', DEMO_PASSWORD)).status, 303);
    const reminderPage = await (await demo.get('/dev/sms')).text();
    assert.match(reminderPage, /Herinnering Gemeente Voorbeeld: video-afspraak/);

    // Connection quality: the resident's call page reports three totals; stored per side for the statistics.
    // (Planned at booking time: the address is the first runtime's, on another port; the path is what counts.)
    const link = /href="http:\/\/127\.0\.0\.1:\d+(\/v\/[A-Za-z0-9_-]{43})"/.exec(reminderPage)?.[1];
    assert.ok(link, 'the reminder carries the access link');
    const resident = new Client(r.url);
    assert.ok([302, 303].includes((await resident.get(link)).status), 'the link opens the call');
    const report = (c: Client, json: unknown) => c.request('POST', '/call/quality', { json });
    assert.equal((await report(new Client(r.url), { good: 1000 })).status, 401, 'no call session, nothing taken');
    for (const bad of [{ good: -5 }, { good: '1000' }, {}, [1000], { good: 1000, device: 'iPhone' }, { good: 1000, pad: 'x'.repeat(8000) }]) {
      const res = await report(resident, bad);
      assert.ok([400, 413].includes(res.status), `${JSON.stringify(bad).slice(0, 40)}: ${res.status}`);
    }
    assert.equal((await report(resident, { good: 50_000, poor: 5_000, none: 1_000 })).status, 204);
    assert.equal((await report(resident, { good: 10_000 })).status, 204, 'a reload reports again: added up');
    assert.deepEqual(rows(`SELECT side, good_ms, poor_ms, none_ms FROM call_quality WHERE appointment_id = ?`, id), [{ side: 'resident', good_ms: 60_000, poor_ms: 5_000, none_ms: 1_000 }]);
    // The manager sees the quality table; one call is fewer than 5, so its shares are not shown (nor exported).
    const manager = new Client(r.url);
    assert.equal((await manager.signIn('manager1', DEMO_PASSWORD)).status, 303);
    const range = `van=${new Date(Date.parse(start) - 24 * H).toISOString().slice(0, 10)}&tot=${new Date(Date.parse(start) + 24 * H).toISOString().slice(0, 10)}&per=week`;
    const stats = await (await manager.get(`/statistiek?${range}`)).text();
    assert.match(stats, /Verbindingskwaliteit per kant/);
    assert.match(stats, /inwoner<\/td><td[^>]*>&lt; 5<\/td><td[^>]*>niet getoond</);
    const csv = await (await manager.get(`/statistiek?${range}&formaat=csv`)).text();
    assert.match(csv, /\r\nquality,\d{4}-\d\d-\d\d,resident_calls,<5\r\nquality,\d{4}-\d\d-\d\d,resident_good_pct,\r\n/);
    const statsPage = await browser.newPage();
    await signIn(statsPage, r.url, 'manager1', `/statistiek?${range}`);
    await expectNoViolations(statsPage, '/statistiek with connection quality');
    await statsPage.close();
    await r.stop();
    assert.deepEqual(sent(), ['sms-confirmation', 'sms-reminder']);

    // A day and a minute after the end, retention 1 day: the runtime's own job (first run 30 s after the start)
    // erases the resident. The hour-ahead reminder's moment passed while the runtime was down: dropped, never sent.
    r = await launch(Date.parse(end) + 24 * H + 60_000, { IDV_RETENTION_DAYS: '1' });
    const erased = await waitFor('the retention job', async () => {
      const [a] = rows<Record<string, unknown>>(`SELECT resident_name, resident_email, resident_phone, remarks, sms_opt_in, erased_at FROM appointments WHERE id = ?`, id);
      return a.erased_at ? a : undefined;
    }, 90_000, 500);
    assert.deepEqual({ ...erased, erased_at: undefined }, { resident_name: '', resident_email: '', resident_phone: null, remarks: null, sms_opt_in: 0, erased_at: undefined });
    assert.deepEqual(rows(`SELECT action, actor FROM processing_log WHERE appointment_id = ? AND action = 'resident_data_erased'`, id), [{ action: 'resident_data_erased', actor: 'system' }]);
    assert.deepEqual(rows(`SELECT id FROM sms_outbox WHERE appointment_id = ?`, id), [], 'nothing left to send');
    assert.deepEqual(sent(), ['sms-confirmation', 'sms-reminder'], 'the late reminder never went out');
  });
});
