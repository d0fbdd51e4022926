/**
 * Reload, back and a second tab on every flow that redirects or answers a form post, in Chromium against the real
 * runtime with the default flows: the booking's review and confirmation (resident and KCC), the resident's cancel
 * link, the KCC's cancel from the list, the sign-in with next=, and the access link /v/<token> -> /call. (The OIDC
 * return is in runtime-call.test.ts, which has a call to return to.)
 *
 * What a person may do there: reload (Chromium posts a form again on reload), go back (to a page that was a form's
 * answer, which Chromium will not show without posting again: ERR_CACHE_MISS, then a reload posts), and open the same
 * page in a second tab and use both. Each time: no error page of ours above 499, a page that says in words what
 * happened, and nothing done twice (the store is read directly: one booking, one cancellation event).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Page, Response } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { linkFromMail, signIn, startWithDefaultFlows, type PagesHarness } from '../support/pages';
import { DEMO_PASSWORD } from '../support/runtime';

describe('reload, back and a second tab on every redirect flow (default flows, Chromium)', function () {
  this.timeout(180_000);
  let h: PagesHarness;
  let db: Database.Database;

  before(async () => {
    h = await startWithDefaultFlows('idv-redirects-');
    // Read only, beside the running runtime (WAL lets a reader in): the truth behind the pages.
    db = new Database(path.join(h.rt.dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db?.close();
    await h?.close();
  });

  async function newPage(): Promise<Page> {
    const ctx = await h.browser.newContext({ permissions: ['camera', 'microphone'] });
    h.contexts.push(ctx);
    return ctx.newPage();
  }

  const bookingsOf = (email: string) => db.prepare('SELECT id, status FROM appointments WHERE resident_email = ?').all(email) as { id: string; status: string }[];
  const eventsOf = (id: string, kind: string) => (db.prepare('SELECT count(*) AS n FROM appointment_events WHERE appointment_id = ? AND kind = ?').get(id, kind) as { n: number }).n;

  /**
   * Our page, not an error of ours: a heading, no stack or path, and the status given (where a step can answer more
   * than one way, e.g. a race between two tabs, any status below 500). Returns the text of main.
   */
  async function sane(page: Page, res: Response | null, what: string, status?: number): Promise<string> {
    assert.ok(res, `${what}: a response`);
    if (status === undefined) assert.ok(res.status() < 500, `${what}: answered ${res.status()}`);
    else assert.equal(res.status(), status, `${what}: answered ${res.status()}`);
    const text = (await page.locator('main').innerText()).trim();
    assert.match(await page.locator('main h1').first().innerText(), /\S/, `${what}: a heading`);
    assert.doesNotMatch(text, /\bat \S+ \(|node_modules|\/dist\/|Error:/, `${what}: no internals`);
    return text;
  }

  /**
   * Back to the entry before, which was a form's answer: Chromium refuses to show it from history (ERR_CACHE_MISS,
   * its own "confirm resubmission" page), so no stale page with a live confirm button appears. Posting it again is
   * the same request as confirming in a second tab, which the tests do; driving Chromium's resubmission itself
   * through the DevTools protocol is not reliable (the error page changes process).
   */
  async function backIsRefused(page: Page): Promise<void> {
    await page.goBack().then(
      () => assert.fail('expected the browser to refuse showing a form answer from history'),
      (e: Error) => assert.match(e.message, /ERR_CACHE_MISS/),
    );
    // The browser's error page commits after the refusal: let it, before navigating on.
    await page.waitForURL((u) => u.protocol === 'chrome-error:', { timeout: 10_000 });
  }

  /** The resident form up to "Controleer uw afspraak" (first free time). */
  async function toReview(page: Page, base: string, email: string, time?: string): Promise<string> {
    await page.goto(`${h.base}${base}`);
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    const radio = time ? page.locator(`input[name="time"][value="${time}"]`) : page.locator('input[name="time"]').first();
    const chosen = (await radio.getAttribute('value')) ?? '';
    await radio.check();
    await page.fill('#name', 'Tab Test');
    await page.fill('#email', email);
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    assert.match(await page.locator('main h1').innerText(), /Controleer/);
    return chosen;
  }

  for (const [who, base] of [['resident', '/afspraak'], ['KCC', '/kcc/afspraak']] as const) {
    it(`${who} booking: reload of the review, confirm in two tabs, reload and back after the confirmation: one booking`, async () => {
      const email = `tabs-${who.toLowerCase()}@example.nl`;
      const a = await newPage();
      if (who === 'KCC') await signIn(a, h.base, 'kcc1', base);
      const time = await toReview(a, base, email);
      // Reload of the review (posts the details again): the same review, nothing booked yet.
      assert.match(await sane(a, await a.reload(), 'review reloaded', 200), /Controleer/);
      assert.equal(bookingsOf(email).length, 0, 'a review books nothing');
      // The same details in a second tab of the same browser, up to the review.
      const b = await a.context().newPage();
      await toReview(b, base, email, time);
      await Promise.all([a.waitForNavigation(), a.click('button[value="confirm"]')]);
      assert.match(new URL(a.url()).pathname, /\/bevestiging$/);
      const confirmed = await sane(a, await a.reload(), 'confirmation reloaded', 200);
      assert.match(confirmed, /afspraak is gemaakt|Afspraak gemaakt|bevestig/i);
      const [second] = await Promise.all([b.waitForNavigation(), b.click('button[value="confirm"]')]);
      await sane(b, second, 'second tab confirmed');
      assert.equal(bookingsOf(email).length, 1, 'the second tab confirmed the same booking');
      // Back from the confirmation: the browser will not show the review again from history; the confirmation
      // itself can be opened again and still says the same.
      const confirmation = a.url();
      await backIsRefused(a);
      assert.match(await sane(a, await a.goto(confirmation), 'confirmation opened again after back', 200), /afspraak is gemaakt|Afspraak gemaakt|bevestig/i);
      const rows = bookingsOf(email);
      assert.equal(rows.length, 1, 'one booking, whatever the tabs and reloads');
      assert.equal(eventsOf(rows[0].id, 'booked'), 1, 'one booking event: one confirmation mail');
      const axe = await axeViolations(a);
      assert.equal(axe.length, 0, describeViolations(axe));
    });
  }

  it("the resident's cancel link: reload after cancelling, back, and a second tab: cancelled once, said in words", async () => {
    const email = 'tabs-cancel@example.nl';
    const a = await newPage();
    await toReview(a, '/afspraak', email);
    await Promise.all([a.waitForNavigation(), a.click('button[value="confirm"]')]);
    const [{ id }] = bookingsOf(email);
    const reader = await newPage();
    await signIn(reader, h.base, 'agent1', '/dev/mail');
    const cancelLink = await linkFromMail(reader, h.base, email, '/afspraak/annuleren/');
    // Tab 1 and tab 2 both show the question.
    await sane(a, await a.goto(cancelLink), 'cancel question', 200);
    const b = await a.context().newPage();
    await sane(b, await b.goto(cancelLink), 'cancel question in a second tab', 200);
    const [done] = await Promise.all([a.waitForNavigation(), a.click('main form button[type="submit"]')]);
    assert.match(await sane(a, done, 'cancelled', 200), /geannuleerd/);
    assert.equal(bookingsOf(email)[0].status, 'cancelled');
    // Reload of "geannuleerd" (the browser posts again): it must say so in words, and cancel nothing more.
    assert.match(await sane(a, await a.reload(), 'cancelled page reloaded', 404), /ongeldig of verlopen/);
    // The second tab still shows the question: its answer must say the link is used up, not cancel again.
    const [answer] = await Promise.all([b.waitForNavigation(), b.click('main form button[type="submit"]')]);
    const second = await sane(b, answer, 'second tab submitted', 404);
    assert.match(second, /ongeldig of verlopen/);
    // Back to the question page (a plain GET): it says the link no longer works.
    assert.match(await sane(a, await a.goBack(), 'back to the question', 404), /ongeldig of verlopen/);
    assert.equal(eventsOf(id, 'cancelled'), 1, 'one cancellation event: one cancellation mail');
    const axe = await axeViolations(b);
    assert.equal(axe.length, 0, describeViolations(axe));
  });

  it('the KCC cancels from the list in two tabs, reloads and goes back: cancelled once, the second told in words', async () => {
    const email = 'tabs-kcc-cancel@example.nl';
    const a = await newPage();
    await signIn(a, h.base, 'kcc1', '/kcc/afspraak');
    await toReview(a, '/kcc/afspraak', email);
    await Promise.all([a.waitForNavigation(), a.click('button[value="confirm"]')]);
    const [{ id }] = bookingsOf(email);
    const list = `${h.base}/kcc/afspraak/afspraken`;
    const form = `form[action="/kcc/afspraak/afspraken/${id}/annuleren"] button[type="submit"]`;
    await sane(a, await a.goto(list), 'list', 200);
    const b = await a.context().newPage();
    await sane(b, await b.goto(list), 'list in a second tab', 200);
    await Promise.all([a.waitForNavigation(), a.click(form)]);
    assert.equal(new URL(a.url()).searchParams.get('geannuleerd'), '1');
    await sane(a, await a.reload(), 'list reloaded after cancelling', 200);
    assert.equal(await a.locator(form).count(), 0, 'the cancelled appointment left the list');
    const res = await Promise.all([b.waitForNavigation(), b.click(form)]).then(([r]) => r);
    const text = await sane(b, res, 'the second tab cancels the same appointment');
    assert.equal(res?.status(), 409);
    assert.match(text, /al geannuleerd|niet meer|geannuleerd/i);
    await sane(a, await a.goBack(), 'back to the list before cancelling', 200);
    assert.equal(eventsOf(id, 'cancelled'), 1);
  });

  it('sign-in with next=: reload, back to the form and a form from a second tab opened before', async () => {
    const a = await newPage();
    await a.goto(`${h.base}/login?next=${encodeURIComponent('/agent')}`);
    const b = await a.context().newPage();
    await sane(b, await b.goto(`${h.base}/login?next=${encodeURIComponent('/kcc/afspraak')}`), 'a second sign-in tab', 200);
    await a.fill('#username', 'agent1');
    await a.fill('#password', DEMO_PASSWORD);
    await Promise.all([a.waitForNavigation(), a.click('main form button[type="submit"]')]);
    assert.equal(new URL(a.url()).pathname, '/agent');
    await sane(a, await a.reload(), 'dashboard reloaded', 200);
    assert.equal(new URL(a.url()).pathname, '/agent', 'still signed in');
    // Back to the sign-in page (a GET): no error; signing in again from it lands on the dashboard again.
    await sane(a, await a.goBack(), 'back to the sign-in page', 200);
    // The second tab's form was issued before the sign-in: using it must not fail with an error of ours.
    await b.fill('#username', 'kcc1');
    await b.fill('#password', DEMO_PASSWORD);
    const res = await Promise.all([b.waitForNavigation(), b.click('main form button[type="submit"]')]).then(([r]) => r);
    await sane(b, res, 'a sign-in form from before another sign-in');
    // A hostile next= is never followed off the site.
    await a.goto(`${h.base}/login?next=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(new URL(a.url()).host, new URL(h.base).host);
  });

  it('the error pages pass axe: unknown and malformed paths, a refused form, a cancelled booking, a used cancel link', async () => {
    const page = await newPage();
    const check = async (what: string, status: number) => {
      const text = await page.locator('main').innerText();
      assert.match(text, /\S/, `${what}: says something`);
      const v = await axeViolations(page);
      assert.equal(v.length, 0, `${what} (${status}):\n${describeViolations(v)}`);
    };
    let res = await page.goto(`${h.base}/bestaat-niet`);
    assert.equal(res?.status(), 404);
    await check('unknown path', 404);
    h.rt.log.allow(/^\[idv\] refused \(400\) on GET \/afspraak\/%E0%A4%A$/);
    res = await page.goto(`${h.base}/afspraak/%E0%A4%A`);
    assert.equal(res?.status(), 400);
    await check('malformed path', 400);
    // A form whose CSRF token went missing (an old page, a blocked cookie): refused with a page, not a blank 403.
    await page.goto(`${h.base}/afspraak`);
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await page.locator('input[name="time"]').first().check();
    await page.fill('#name', 'Zonder Token');
    await page.fill('#email', 'zonder-token@example.nl');
    await page.evaluate(`document.querySelectorAll('input[name="_csrf"]').forEach((e) => e.remove())`);
    res = await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]).then(([r]) => r);
    assert.equal(res?.status(), 403);
    await check('refused form', 403);
    // The cancel pages: the question, the answer, and the used link.
    const email = 'axe-cancel@example.nl';
    await toReview(page, '/afspraak', email);
    await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
    const reader = await newPage();
    await signIn(reader, h.base, 'agent1', '/dev/mail');
    const cancelLink = await linkFromMail(reader, h.base, email, '/afspraak/annuleren/');
    await page.goto(cancelLink);
    await check('cancel question', 200);
    res = await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]).then(([r]) => r);
    assert.equal(res?.status(), 200);
    await check('cancelled', 200);
    res = await page.goto(cancelLink);
    assert.equal(res?.status(), 404);
    await check('used cancel link', 404);
  });

  it('the access link: reload of /call, the link again in a second tab and a second browser, back', async () => {
    const email = 'tabs-link@example.nl';
    const booker = await newPage();
    await toReview(booker, '/afspraak', email);
    await Promise.all([booker.waitForNavigation(), booker.click('button[value="confirm"]')]);
    const reader = await newPage();
    await signIn(reader, h.base, 'agent1', '/dev/mail');
    const link = await linkFromMail(reader, h.base, email);
    const a = await newPage();
    await a.goto(`${h.base}/afspraak`);
    const first = await a.goto(link);
    assert.equal(first?.status(), 200);
    assert.equal(new URL(a.url()).pathname, '/call', 'the token left the address bar');
    await a.locator('#start-call').waitFor({ state: 'attached' });
    const reloaded = await a.reload();
    assert.equal(reloaded?.status(), 200, 'reload of /call keeps the call session');
    await a.locator('#start-call').waitFor({ state: 'attached' });
    const b = await a.context().newPage();
    const again = await b.goto(link);
    assert.equal(again?.status(), 200, 'the link works again in a second tab');
    assert.equal(new URL(b.url()).pathname, '/call');
    const other = await newPage();
    const device = await other.goto(link);
    assert.equal(device?.status(), 200, 'and on another device');
    // Back from /call: the page before the link (the redirect left no entry of its own).
    await a.goBack();
    assert.equal(new URL(a.url()).pathname, '/afspraak');
  });
});
