import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { waitFor } from '../support/call-media';
import { clockOffsetMs } from '../support/fake-clock';
import { defaultFlowsOpenNow } from '../support/flows';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { signIn } from '../support/pages';
import { freshDatabase } from '../support/postgres';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startTestSmtp, type ReceivedMail, type TestSmtpServer } from '../support/smtp';

const PRELOAD = path.join(ROOT, 'dist', 'test', 'support', 'fake-clock.js');
const H = 3600_000;

/**
 * The life of an appointment through the real runtime with the default flows, a real SMTP server and Chromium
 * (issue 14): the reschedule link in the confirmation, a move through the pages (without JavaScript), a cancelled
 * appointment, and the reminder a day ahead sent exactly once although the runtime is killed between selecting it and
 * handing it to SMTP. The day is skipped with a shifted clock (test/support/fake-clock.ts) given to the runtime only.
 */
for (const engine of ['sqlite', 'postgres'] as const) describe(`appointment life: reminders, moving, the agent's calendar and statistics, through the runtime [${engine}]`, function () {
  this.timeout(240_000);
  let smtp: TestSmtpServer;
  let browser: Browser;
  let rt: RuntimeHandle | undefined;
  let dataDir: string;
  /** PostgreSQL: this run's own database (test/support/postgres.ts); SQLite: the data dir's file. */
  let database: Record<string, string> = {};

  /** Starts the runtime on the same data dir; `at` = the instant its clock should show at start (default: now). */
  async function start(at?: number): Promise<RuntimeHandle> {
    const real = Date.now() - clockOffsetMs;
    const offset = at === undefined ? clockOffsetMs : Math.round(at - real);
    rt = await startRuntime({
      dataDir,
      timeoutMs: 90_000,
      nodeArgs: ['--require', PRELOAD],
      env: { SMTP_URL: smtp.url, IDV_TEST_CLOCK_OFFSET_MS: String(offset), ...database },
    });
    return rt;
  }

  before(async () => {
    smtp = await startTestSmtp();
    dataDir = tempDir('idv-life-');
    if (engine === 'postgres') database = { IDV_DATABASE_URL: await freshDatabase('life') };
    const flows = defaultFlowsOpenNow(ROOT);
    for (const n of flows) if (n.type === 'idv-session-link') n.openBeforeMinutes = 30;
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
    // The statistics need a manager; the README's account command makes one (password on standard input).
    const made = spawnSync(process.execPath, ['dist/scripts/staff-account.js', 'add', 'manager1', '--name', 'Mira Manager', '--roles', 'manager'], {
      cwd: ROOT,
      input: `${DEMO_PASSWORD}\n`,
      encoding: 'utf8',
      env: { ...process.env, IDV_DATA_DIR: dataDir, ...database },
    });
    assert.equal(made.status, 0, made.stderr);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rt?.stop('SIGKILL');
    await smtp.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const to = (m: ReceivedMail) => m.envelope.to[0];
  const mailsTo = (address: string, subject: RegExp) => smtp.received.filter((m) => to(m) === address && subject.test(m.parsed.subject ?? ''));
  const linkIn = (m: ReceivedMail, kind: 'v' | 'annuleren' | 'wijzigen') =>
    new RegExp(`https?://[^\\s/]+(/(?:afspraak/)?${kind}/[A-Za-z0-9_-]{43})`).exec(m.parsed.text ?? '')?.[1];
  const ics = (m: ReceivedMail) =>
    m.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8').replace(/\r\n[ \t]/g, '') ?? '';

  async function expectNoViolations(page: Page, what: string) {
    const v = await axeViolations(page);
    assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
    // What people see: nothing runs off a small phone or a laptop, and the controls are big enough to touch.
    for (const size of [VIEWPORTS.phoneSmall, VIEWPORTS.laptop]) {
      await page.setViewportSize(size);
      assert.deepEqual(await layoutProblems(page), [], `${what} at ${size.width}×${size.height}`);
    }
    assert.deepEqual(await smallTargets(page), [], `${what}: touch targets`);
  }

  it('books, moves through the pages (resident without JavaScript, KCC from its list), cancels; calendar feed and statistics; a day later the reminder goes out once across a kill between selection and sending', async () => {
    let r = await start();
    // Two places well beyond a day ahead (at any hour of the day the tests run), the later one to move to.
    const from = new Date(Date.now() + 26 * H);
    const days = [0, 1, 2].map((d) => new Date(from.getTime() + d * 24 * H).toISOString().slice(0, 10));
    const res = await fetch(`${r.url}/afspraak/slots?from=${days[0]}&to=${days[2]}`);
    const free = ((await res.json()) as { start: string }[]).map((s) => s.start).filter((s) => Date.parse(s) > from.getTime());
    assert.ok(free.length > 10, 'free places a day ahead');
    const [first, moveTo] = [free[0], free.find((s) => Date.parse(s) >= Date.parse(free[0]) + 3 * H) as string];
    const book = async (email: string) => {
      const b = await fetch(`${r.url}/afspraak`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ start: first, topic: 'Paspoort aanvragen', name: 'Jan Jansen', email }),
      });
      assert.equal(b.status, 201);
      return ((await b.json()) as { id: string }).id;
    };
    const idA = await book('jan@example.nl');
    await book('piet@example.nl');
    await waitFor('both confirmations', async () => (mailsTo('jan@example.nl', /^Bevestiging/).length && mailsTo('piet@example.nl', /^Bevestiging/).length ? true : undefined), 60_000);
    const confirmationA = mailsTo('jan@example.nl', /^Bevestiging/)[0];
    const confirmationB = mailsTo('piet@example.nl', /^Bevestiging/)[0];
    const rescheduleA = linkIn(confirmationA, 'wijzigen');
    assert.ok(rescheduleA && linkIn(confirmationA, 'annuleren') && linkIn(confirmationA, 'v'), 'the confirmation holds the access, change and cancel links');

    // The move pages pass axe (with B's link, which is cancelled afterwards).
    const page = await browser.newPage();
    await page.goto(`${r.url}${linkIn(confirmationB, 'wijzigen')}`);
    assert.equal(await page.textContent('h1'), 'Afspraak wijzigen');
    await expectNoViolations(page, 'days to move to');
    await page.click('main form button[type="submit"]');
    await page.waitForSelector('input[name="time"]');
    await expectNoViolations(page, 'times to move to');
    await page.goto(`${r.url}${linkIn(confirmationB, 'annuleren')}`);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
    assert.equal(await page.textContent('h1'), 'Uw afspraak is geannuleerd');

    // A resident without JavaScript moves A: a day, then a time, then the confirmation page.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const p = await noJs.newPage();
    await p.goto(`${r.url}${rescheduleA}`);
    const moveDay = moveTo.slice(0, 10);
    await p.check(`input[name="day"][value="${moveDay}"]`);
    await Promise.all([p.waitForNavigation(), p.click('main form button[type="submit"]')]);
    await p.check(`input[name="time"][value="${moveTo.slice(11, 16)}"]`);
    await Promise.all([p.waitForNavigation(), p.click('main form button[type="submit"]')]);
    assert.equal((await p.textContent('h1'))?.trim(), 'Uw afspraak is verplaatst');
    // The same link once more: dead, with a clear page.
    const again = await p.goto(`${r.url}${rescheduleA}`);
    assert.equal(again?.status(), 404);
    assert.equal(await p.textContent('h1'), 'Link ongeldig');
    await noJs.close();

    await waitFor('the moved confirmation', async () => (mailsTo('jan@example.nl', /^Uw video-afspraak is verplaatst/).length ? true : undefined), 60_000);
    const moved = mailsTo('jan@example.nl', /^Uw video-afspraak is verplaatst/)[0];
    const movedIcs = ics(moved);
    assert.ok(movedIcs.includes(`UID:${idA}@`) && /\r\nSEQUENCE:1\r\n/.test(movedIcs), 'same UID, higher SEQUENCE');
    assert.notEqual(linkIn(moved, 'v'), linkIn(confirmationA, 'v'), 'a new access link');
    const oldAccess = await fetch(`${r.url}${linkIn(confirmationA, 'v')}`, { redirect: 'manual' });
    assert.equal(oldAccess.status, 404, 'the old access link is dead');
    await oldAccess.arrayBuffer();
    await waitFor('the agent told', async () => (smtp.received.some((m) => /^Verplaatst: video-afspraak/.test(m.parsed.subject ?? '')) ? true : undefined), 60_000);
    // The agent's calendar feed: made on a page that passes axe, times and topic only, renewed and revoked.
    const toAgent = smtp.received.find((m) => /^Verplaatst: video-afspraak/.test(m.parsed.subject ?? ''));
    assert.ok(toAgent, 'the agent who has the moved appointment is told');
    const agent = to(toAgent).startsWith('anna.devries') ? 'agent1' : 'agent2';
    await signIn(page, r.url, agent, '/agent/agenda');
    await expectNoViolations(page, 'calendar subscription');
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
    const feedUrl = new URL(await page.inputValue('#feed-link'));
    assert.match(feedUrl.pathname + feedUrl.search, /^\/agenda\.ics\?access_token=[A-Za-z0-9_-]{43}$/);
    await expectNoViolations(page, 'calendar link made');
    const feed = await fetch(`${r.url}${feedUrl.pathname}${feedUrl.search}`);
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type') ?? '', /^text\/calendar/);
    const cal = (await feed.text()).replace(/\r\n[ \t]/g, '');
    const utc = (iso: string) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    assert.ok(cal.includes(`UID:${idA}-feed@`) && cal.includes(`DTSTART:${utc(moveTo)}`), 'the moved appointment at its new time');
    assert.ok(cal.includes('SUMMARY:Video-afspraak: Paspoort aanvragen'));
    for (const personal of ['Jan Jansen', 'jan@example.nl', '/v/', 'piet@example.nl']) assert.ok(!cal.includes(personal), `no ${personal} in the feed`);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"] >> nth=0')]);
    const renewed = new URL(await page.inputValue('#feed-link'));
    assert.equal((await fetch(`${r.url}${feedUrl.pathname}${feedUrl.search}`)).status, 404, 'the old link stops when renewed');
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"] >> nth=1')]);
    assert.equal((await fetch(`${r.url}${renewed.pathname}${renewed.search}`)).status, 404, 'revoked');
    assert.equal((await fetch(`${r.url}/agenda.ics?access_token=${'A'.repeat(43)}`)).status, 404);
    const refused = await page.goto(`${r.url}/statistiek`);
    assert.notEqual(await page.textContent('h1'), 'Statistiek videobellen', `an agent does not see the statistics (${refused?.status()})`);
    await page.close();

    // The manager's statistics: aggregates with the small counts hidden, a page that passes axe, the same as CSV.
    const manager = await browser.newPage();
    await signIn(manager, r.url, 'manager1', '/statistiek');
    assert.equal(await manager.textContent('h1'), 'Statistiek videobellen');
    await expectNoViolations(manager, 'statistics');
    const tables = (await manager.locator('main table').allTextContents()).join('\n');
    assert.ok(tables.includes('< 5'), 'two bookings show as "< 5"');
    for (const personal of ['Jan Jansen', 'jan@example.nl', 'piet@example.nl', idA]) assert.ok(!(await manager.content()).includes(personal));
    const csv = await manager.context().request.get(`${r.url}${await manager.getAttribute('main a[download]', 'href')}`);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'] ?? '', /^text\/csv/);
    const csvText = await csv.text();
    assert.match(csvText, /^table,period,key,value\r\nbookingsByChannel,\d{4}-\d{2}-\d{2},website,<5\r\n/);
    assert.ok(!csvText.includes('Jan Jansen') && !csvText.includes(idA));
    await manager.close();

    // The KCC moves a third appointment from its list: the move page passes axe, the list says it, the resident is told.
    const idC = await book('kees@example.nl');
    const kcc = await browser.newPage();
    await signIn(kcc, r.url, 'kcc1', '/kcc/afspraak/afspraken');
    await Promise.all([kcc.waitForNavigation(), kcc.click(`main form[action$="/afspraken/${idC}/wijzigen"] button`)]);
    assert.equal(await kcc.textContent('h1'), 'Afspraak verplaatsen');
    await expectNoViolations(kcc, 'KCC: days to move to');
    // Later than the moved appointment, so its reminders are not due in the part below.
    const kccTo = free.find((x) => Date.parse(x) >= Date.parse(moveTo) + 2 * H) as string;
    await kcc.check(`input[name="day"][value="${kccTo.slice(0, 10)}"]`);
    await Promise.all([kcc.waitForNavigation(), kcc.click('main form button[type="submit"]')]);
    await expectNoViolations(kcc, 'KCC: times to move to');
    await kcc.check(`input[name="time"][value="${kccTo.slice(11, 16)}"]`);
    await Promise.all([kcc.waitForNavigation(), kcc.click('main form button[type="submit"]')]);
    assert.equal(new URL(kcc.url()).pathname, '/kcc/afspraak/afspraken');
    assert.match((await kcc.textContent('main [role="status"]')) ?? '', /De afspraak is verplaatst/);
    await waitFor('the resident told of the KCC move', async () => (mailsTo('kees@example.nl', /^Uw video-afspraak is verplaatst/).length ? true : undefined), 60_000);
    assert.ok(ics(mailsTo('kees@example.nl', /^Uw video-afspraak is verplaatst/)[0]).includes(`UID:${idC}@`));
    await kcc.close();
    await r.stop();

    // A day later, 2 s after the moment of the 24 h reminder: the runtime selects it, SMTP holds it, the runtime dies.
    const sentBefore = smtp.received.length;
    smtp.hold = true;
    r = await start(Date.parse(moveTo) - 24 * H + 2000);
    await waitFor('the reminder in flight', async () => (smtp.heldCount > 0 ? true : undefined), 60_000);
    await r.stop('SIGKILL');
    await waitFor('the killed session closed', async () => (smtp.heldSessionsClosed() ? true : undefined), 10_000);
    smtp.releaseHeld();
    smtp.hold = false;
    assert.equal(smtp.received.length, sentBefore, 'nothing accepted from the killed run');

    r = await start(Date.parse(moveTo) - 24 * H + 30_000);
    await waitFor('the reminder', async () => (mailsTo('jan@example.nl', /^Herinnering/).length ? true : undefined), 60_000);
    // The outbox says nothing is waiting any more (only later reminders are scheduled): no second copy can follow.
    await waitFor('outbox settled', async () => {
      const h = (await (await fetch(`${r.url}/healthz`)).json()) as { mail?: { detail?: string } };
      return /^0 waiting, [1-9]\d* scheduled/.test(h.mail?.detail ?? '') ? true : undefined;
    }, 30_000);
    const reminders = mailsTo('jan@example.nl', /^Herinnering/);
    assert.equal(reminders.length, 1, 'exactly once');
    assert.equal(linkIn(reminders[0], 'v'), linkIn(moved, 'v'), 'the reminder has the moved appointment\'s access link');
    assert.equal(linkIn(reminders[0], 'wijzigen'), linkIn(moved, 'wijzigen'));
    assert.equal(reminders[0].parsed.attachments.length, 0, 'the invite is left alone');
    assert.equal(mailsTo('piet@example.nl', /^Herinnering/).length, 0, 'none for the cancelled appointment');
    await r.stop();
  });
});
