/**
 * Issue 13.4 from the KCC's side, from the default flows, in Debian's Chromium: the KCC invites a third participant
 * under the booking confirmation and from its list of appointments (the agent's GuestService.invite), with NL Design
 * System forms that say what is wrong per field, pass axe and fit a 360×640 phone and a 1366×768 laptop; a move and a
 * cancellation from the list tell the guest by mail too (real SMTP server). The guest's address never reaches the
 * runtime's log or a Node-RED message (every Debug node of the flows writes to the log here).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { waitFor } from '../support/call-media';
import { defaultFlowsOpenNow } from '../support/flows';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { signIn } from '../support/pages';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startTestSmtp, type ReceivedMail, type TestSmtpServer } from '../support/smtp';
import { keepOrder } from '../support/test-order';

const H = 3600_000;
const SHOTS = process.env.IDV_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : tempDir('idv-shots-');

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
const FIRST_GUEST = 'gebarentolk.kcc@example.nl';
const SECOND_GUEST = 'tolk.kcc@example.nl';

describe('the KCC invites a third participant; moves and cancellations tell the guest (default flows, Chromium)', function () {
  keepOrder(this, "one booking's story: the first step books and invites the guest the next steps replace, move and cancel, and the last searches the log for every address they used");
  this.timeout(240_000);
  let rt: RuntimeHandle;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let kcc: Page;

  before(async () => {
    smtp = await startTestSmtp();
    const dataDir = tempDir('idv-extras-kcc-');
    const flows = defaultFlowsOpenNow(ROOT);
    for (const n of flows) if (n.type === 'debug') Object.assign(n, { console: true, complete: 'true' });
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
    rt = await startRuntime({ dataDir, timeoutMs: 60_000, env: { SMTP_URL: smtp.url } });
    browser = await launchBrowser();
    kcc = await browser.newPage({ viewport: VIEWPORTS.laptop });
    await signIn(kcc, rt.url, 'kcc1', '/kcc/afspraak');
  });

  after(async () => {
    await browser?.close();
    await rt?.stop();
    await smtp?.stop();
    if (rt) fs.rmSync(rt.dataDir, { recursive: true, force: true });
  });

  const mailsTo = (address: string, subject: RegExp) => smtp.received.filter((m) => m.envelope.to[0] === address && subject.test(m.parsed.subject ?? ''));
  const mailTo = (address: string, subject: RegExp): Promise<ReceivedMail> =>
    waitFor(`a mail to ${address} (${subject.source})`, async () => mailsTo(address, subject)[0], 60_000);

  /** What people see and what axe sees, at a small phone and a laptop. */
  async function looksRight(page: Page, what: string): Promise<void> {
    for (const size of [VIEWPORTS.phoneSmall, VIEWPORTS.laptop]) {
      await page.setViewportSize(size);
      const v = await axeViolations(page);
      assert.equal(v.length, 0, `${what} at ${size.width}×${size.height}:\n${describeViolations(v)}`);
      assert.deepEqual(await layoutProblems(page), [], `${what} at ${size.width}×${size.height}`);
      assert.deepEqual(await smallTargets(page), [], `${what} at ${size.width}×${size.height}: touch targets`);
    }
  }

  let appointmentId = '';

  it('under the booking confirmation: errors per field, then the invitation goes out by mail', async () => {
    await kcc.goto(`${rt.url}/kcc/afspraak`);
    // The second day offered: a whole day of free times at any hour (the first may hold one late slot only).
    await kcc.check('#day-1');
    await Promise.all([kcc.waitForNavigation(), kcc.click('main button[type="submit"]')]);
    await kcc.check('#time-1');
    await kcc.fill('#name', 'Beller met Tolk');
    await kcc.fill('#email', 'beller.tolk@example.nl');
    await Promise.all([kcc.waitForNavigation(), kcc.click('main button[type="submit"]')]);
    await Promise.all([kcc.waitForNavigation(), kcc.click('button[value="confirm"]')]);
    const form = kcc.locator('section.idv-guest-invite form');
    await form.waitFor();
    appointmentId = /\/afspraken\/([^/]+)\/gast$/.exec((await form.getAttribute('action')) ?? '')?.[1] ?? '';
    assert.ok(appointmentId, 'the form posts to the booked appointment');
    await looksRight(kcc, 'confirmation with the invitation form');
    await shot(kcc, 'extras-6-kcc-invite');

    // Nothing chosen, an address that is none: both fields say what is wrong, the summary links to them.
    await kcc.fill('#guest-email', 'geen adres');
    await Promise.all([kcc.waitForNavigation(), form.locator('button[type="submit"]').click()]);
    assert.match(await kcc.locator('#error-summary').innerText(), /Kies wie u uitnodigt[\s\S]*geldig e-mailadres/);
    assert.equal(await kcc.getAttribute('#guest-email', 'aria-invalid'), 'true');
    assert.match((await kcc.getAttribute('#guest-email', 'aria-describedby')) ?? '', /guest-email-error/);
    assert.equal(await kcc.inputValue('#guest-email'), 'geen adres', 'what was typed stays');
    assert.equal(await kcc.locator('#guest-kind-error').count(), 1);
    await looksRight(kcc, 'invitation form with errors');
    await kcc.setViewportSize(VIEWPORTS.phone);
    await shot(kcc, 'extras-7-kcc-invite-errors');
    await kcc.setViewportSize(VIEWPORTS.laptop);
    assert.deepEqual(mailsTo('geen adres', /./), []);

    await kcc.check('#guest-kind-1');
    await kcc.fill('#guest-email', FIRST_GUEST);
    await Promise.all([kcc.waitForNavigation(), kcc.click('section.idv-guest-invite button[type="submit"]')]);
    assert.equal(new URL(kcc.url()).pathname, '/kcc/afspraak/afspraken');
    assert.match(await kcc.locator('main [role="status"]').innerText(), /uitnodiging is naar de derde deelnemer verstuurd/);
    const invitation = await mailTo(FIRST_GUEST, /^Uitnodiging: video-afspraak/);
    assert.match(invitation.parsed.text ?? '', /als gebarentolk deel te nemen[\s\S]*\/v\/[A-Za-z0-9_-]{43}/);
  });

  it('from the list: a new invitation replaces the first guest, whose link stops working', async () => {
    const firstLink = /https?:\/\/\S+\/v\/[A-Za-z0-9_-]{43}/.exec(mailsTo(FIRST_GUEST, /^Uitnodiging/)[0].parsed.text ?? '')?.[0] as string;
    await kcc.goto(`${rt.url}/kcc/afspraak/afspraken`);
    await looksRight(kcc, 'KCC list with the invitation link');
    await Promise.all([kcc.waitForNavigation(), kcc.click(`main a[href$="/afspraken/${appointmentId}/gast"]`)]);
    assert.match(await kcc.locator('main').innerText(), /Er is al een gebarentolk uitgenodigd/);
    await looksRight(kcc, 'invitation page from the list');
    await kcc.check('#guest-kind-0');
    await kcc.fill('#guest-email', SECOND_GUEST);
    await kcc.check('#guest-lang-en');
    await Promise.all([kcc.waitForNavigation(), kcc.click('main form button[type="submit"]')]);
    assert.equal(new URL(kcc.url()).pathname, '/kcc/afspraak/afspraken');
    const invitation = await mailTo(SECOND_GUEST, /^Invitation: video appointment/);
    assert.match(invitation.parsed.text ?? '', /as interpreter/);
    const res = await fetch(firstLink, { redirect: 'manual' });
    assert.ok(res.status >= 400, `the replaced guest's link is dead (${res.status})`);
  });

  it('hostile requests to the invitation are refused with a reason and change nothing', async () => {
    const url = `${rt.url}/kcc/afspraak/afspraken/${appointmentId}/gast`;
    await kcc.goto(url);
    const csrf = (await kcc.locator('main form input[name="_csrf"]').getAttribute('value')) ?? '';
    const before = smtp.received.length;
    const post = (target: string, form: Record<string, string>) => kcc.request.post(target, { form, headers: { origin: rt.url }, maxRedirects: 0 });
    assert.equal((await post(url, { kind: 'interpreter', email: 'zonder.token@example.nl' })).status(), 403, 'no CSRF token');
    assert.equal((await post(`${rt.url}/kcc/afspraak/afspraken/bestaat-niet/gast`, { _csrf: csrf, kind: 'interpreter', email: 'a@example.nl' })).status(), 404);
    const junk = await post(url, { _csrf: csrf, kind: "interpreter'; DROP TABLE call_guests;--", email: 'b@example.nl' });
    assert.equal(junk.status(), 400);
    assert.match(await junk.text(), /Kies wie u uitnodigt/);
    const injected = await post(url, { _csrf: csrf, kind: 'interpreter', email: 'c@example.nl\r\nBcc: d@example.nl' });
    assert.equal(injected.status(), 400);
    assert.match(await injected.text(), /geldig e-mailadres/);
    // The refused oversized body is logged as one short line (path with its id, never the body): expected here.
    rt.log.allow(/\[idv-book-appointment:[^\]]+\] refused \(413\) on POST \/kcc\/afspraak\/afspraken\/[A-Za-z0-9_-]+\/gast$/);
    assert.equal((await post(url, { _csrf: csrf, kind: 'interpreter', email: `${'x'.repeat(5000)}@example.nl` })).status(), 413, 'a body over 4 kB');
    const anonymous = await fetch(url, { redirect: 'manual' });
    assert.ok([302, 303, 401, 403].includes(anonymous.status), `signed out: ${anonymous.status}`);
    for (const r of [junk, injected]) assert.doesNotMatch(await r.text(), /at \w+ \(|node_modules|Error:/, 'no internals');
    // Nothing went out: a marker invitation after the refusals is the only new mail.
    assert.equal((await post(url, { _csrf: csrf, kind: 'interpreter', email: SECOND_GUEST, lang: 'en' })).status(), 303);
    await waitFor('the marker invitation', async () => smtp.received.length > before, 60_000);
    assert.deepEqual(smtp.received.slice(before).map((m) => m.envelope.to[0]), [SECOND_GUEST]);
  });

  it('a move from the list sends the guest a new link; a cancellation tells the guest too', async () => {
    await kcc.goto(`${rt.url}/kcc/afspraak/afspraken`);
    await Promise.all([kcc.waitForNavigation(), kcc.click(`main form[action$="/afspraken/${appointmentId}/wijzigen"] button`)]);
    // A day at least two days ahead: any free time there is a move, at any hour the test runs.
    const target = new Date(Date.now() + 50 * H).toISOString().slice(0, 10);
    const days = await kcc.locator('input[name="day"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    const chosen = days.find((d) => d >= target) ?? days[days.length - 1];
    assert.ok(chosen, 'days to move to');
    await kcc.check(`input[name="day"][value="${chosen}"]`);
    await Promise.all([kcc.waitForNavigation(), kcc.click('main form button[type="submit"]')]);
    await kcc.check('input[name="time"] >> nth=0');
    await Promise.all([kcc.waitForNavigation(), kcc.click('main form button[type="submit"]')]);
    assert.match((await kcc.textContent('main [role="status"]')) ?? '', /De afspraak is verplaatst/);
    const moved = await mailTo(SECOND_GUEST, /^Changed: video appointment/);
    assert.match(moved.parsed.text ?? '', /new link[\s\S]*\/v\/[A-Za-z0-9_-]{43}/);
    const ics = moved.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8').replace(/\r\n[ \t]/g, '') ?? '';
    assert.ok(ics.includes(`UID:${appointmentId}@`) && /\r\nSEQUENCE:1\r\n/.test(ics), 'the same calendar entry, one revision on');

    await Promise.all([kcc.waitForNavigation(), kcc.click(`main form[action$="/afspraken/${appointmentId}/annuleren"] button`)]);
    const cancelled = await mailTo(SECOND_GUEST, /^Cancelled: video appointment/);
    assert.match(cancelled.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8') ?? '', /METHOD:CANCEL/);
    assert.deepEqual(mailsTo(FIRST_GUEST, /^(Gewijzigd|Geannuleerd)/), [], 'the replaced guest hears nothing more');
    // A cancelled appointment takes no more invitations.
    await kcc.goto(`${rt.url}/kcc/afspraak/afspraken/${appointmentId}/gast`);
    assert.match(await kcc.locator('main').innerText(), /voorbij of geannuleerd/);
  });

  it("the guests' addresses never reach the runtime's log or a flow message", async () => {
    const out = rt.output();
    assert.match(out, /"event":"booked"|booked/, 'the flows ran (Debug nodes write to the log)');
    for (const address of [FIRST_GUEST, SECOND_GUEST]) assert.ok(!out.includes(address), `the runtime's output never holds ${address}`);
  });
});
