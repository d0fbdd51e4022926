/**
 * What people see on the pages without a call, in Debian's Chromium against the real runtime with the default flows:
 * booking (resident and KCC, with the review step), confirmation, cancel, sign-in with its error state, the demo mail
 * catcher, the link-not-valid and error pages, the processing log — at 360×640, 390×844, 1366×768 and 1920×1080.
 * Checked: no sideways scrolling, nothing reaching past the viewport, touch targets of 44 px, checked radios that look
 * checked, visible focus, disabled and error states, times in Amsterdam whatever the browser's zone, and axe.
 * One runtime, one browser; one context per viewport (the browser's time zone is New York on purpose).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations } from '../support/browser';
import { amsterdamClocksAroundNow, layoutProblems, lookOf, radioPairs, smallTargets, VIEWPORTS } from '../support/layout';
import { bookThroughApi, linkFromMail, signIn, startWithDefaultFlows, type PagesHarness } from '../support/pages';

type Viewport = { width: number; height: number };
const SIZES: Array<[string, Viewport]> = [
  ['360x640', VIEWPORTS.phoneSmall],
  ['390x844', VIEWPORTS.phone],
  ['1366x768', VIEWPORTS.laptop],
  ['1920x1080', VIEWPORTS.desktop],
];
const SHOTS = process.env.IDV_LAYOUT_SHOTS;

describe('pages at phone and laptop sizes: layout, control states, axe (Chromium)', function () {
  this.timeout(240_000);
  let browser: Browser;
  let base: string;

  let h: PagesHarness;

  before(async () => {
    h = await startWithDefaultFlows('idv-pages-layout-');
    ({ browser, base } = h);
  });

  after(async () => {
    await h?.close();
  });

  async function pageAt(viewport: Viewport): Promise<Page> {
    const ctx = await browser.newContext({ viewport, timezoneId: 'America/New_York', locale: 'en-US' });
    h.contexts.push(ctx);
    return ctx.newPage();
  }

  /** Layout and targets everywhere; axe where asked (it is the slow part, and the markup is the same per size). */
  async function check(page: Page, what: string, size: string, axe: boolean): Promise<void> {
    assert.deepEqual(await layoutProblems(page), [], `${what} at ${size}: layout`);
    assert.deepEqual(await smallTargets(page), [], `${what} at ${size}: touch targets`);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${what.replace(/\W+/g, '-')}-${size}.png`), fullPage: true });
    if (!axe) return;
    const v = await axeViolations(page);
    assert.equal(v.length, 0, `${what} at ${size}:\n${describeViolations(v)}`);
  }

  async function radiosLookChecked(page: Page, what: string): Promise<void> {
    const pairs = await radioPairs(page);
    assert.ok(pairs.length > 0, `${what}: a checked and an unchecked radio to compare`);
    for (const p of pairs) assert.notEqual(await lookOf(page, p.checked), await lookOf(page, p.unchecked), `${what}: ${p.checked} looks checked`);
  }

  it('resident booking: day, time (with errors), review, confirmation', async () => {
    let n = 0;
    for (const [size, viewport] of SIZES) {
      const axe = size === '390x844' || size === '1366x768';
      const page = await pageAt(viewport);
      await page.goto(`${base}/afspraak`);
      await page.check('#topic-2');
      await page.check('#day-1');
      await radiosLookChecked(page, `day choice ${size}`);
      await check(page, 'booking days', size, axe);

      await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
      // Errors first: nothing chosen, nothing typed.
      await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
      assert.equal(await page.getAttribute('#name', 'aria-invalid'), 'true');
      assert.notEqual(await lookOf(page, '#name'), await lookOf(page, '#phone'), 'a field in error looks different from a valid one');
      assert.match(await page.locator('#error-summary').innerText(), /Kies een tijd/);
      await check(page, 'booking error state', size, axe);

      // Focus is visible: the same field focused and not.
      const blurred = await lookOf(page, '#phone');
      await page.focus('#phone');
      assert.notEqual(await lookOf(page, '#phone'), blurred, 'a focused text field looks focused');
      await page.check('#time-1');
      await radiosLookChecked(page, `times ${size}`);
      // Disabled looks disabled (the submit buttons are disabled while a booking is on its way).
      const enabled = await lookOf(page, 'main form button[type="submit"]');
      await page.evaluate(`document.querySelector('main form button[type="submit"]').disabled = true`);
      assert.notEqual(await lookOf(page, 'main form button[type="submit"]'), enabled, 'a disabled button looks disabled');
      await page.evaluate(`document.querySelector('main form button[type="submit"]').disabled = false`);

      await page.fill('#name', `Inwoner ${size}`);
      await page.fill('#email', `inwoner.${++n}@example.nl`);
      await page.fill('#remarks', 'Een opmerking\nover twee regels, met een heel lang woord: Rijbewijsverlengingsaanvraagformulier.');
      await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
      assert.match(await page.locator('h1').innerText(), /Controleer uw afspraak/);
      assert.match(await page.locator('main').innerText(), new RegExp(`Inwoner ${size}`));
      await check(page, 'booking review', size, axe);

      // Keyboard: Tab reaches "Afspraak bevestigen" and its focus is visible.
      const confirmLook = await lookOf(page, 'button[value="confirm"]');
      for (let i = 0; i < 40 && !(await page.evaluate(`document.activeElement && document.activeElement.value === 'confirm'`)); i++) await page.keyboard.press('Tab');
      assert.notEqual(await lookOf(page, 'button[value="confirm"]'), confirmLook, 'a button focused with the keyboard looks focused');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.match(new URL(page.url()).pathname, /bevestiging/);
      await check(page, 'booking confirmation', size, axe);
      await page.context().close();
    }
  });

  it('KCC booking, review and the upcoming list', async () => {
    for (const [size, viewport] of [SIZES[1], SIZES[2]]) {
      const page = await pageAt(viewport);
      await signIn(page, base, 'kcc1', '/kcc/afspraak');
      await check(page, 'KCC days', size, true);
      await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
      await page.check('#time-2');
      await page.fill('#name', `Beller ${size}`);
      await page.fill('#email', `beller.${size}@example.nl`);
      await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
      assert.match(await page.locator('h1').innerText(), /Controleer de afspraak/);
      await check(page, 'KCC review', size, true);
      await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
      await check(page, 'KCC confirmation', size, false);
      await page.goto(`${base}/kcc/afspraak/afspraken`);
      await check(page, 'KCC upcoming list', size, true);
      await page.context().close();
    }
  });

  it('cancel, sign-in error, mail catcher (Amsterdam time), link not valid, error page, processing log', async () => {
    // Its own booking, so its mails (and their time) come from this test whatever ran before.
    await bookThroughApi(base, { name: 'Inwoner Annuleren', email: 'inwoner.annuleren@example.nl' });
    for (const [size, viewport] of [SIZES[0], SIZES[2]]) {
      const axe = true;
      const staff = await pageAt(viewport);
      await signIn(staff, base, 'agent1', '/dev/mail');
      const cancel = await linkFromMail(staff, base, 'inwoner.annuleren@example.nl', '/afspraak/annuleren/');
      await staff.goto(`${base}/dev/mail`);
      // The newest mail went out during this test: its time is Amsterdam's now (the browser is in New York).
      const listed = await staff.locator('main tbody tr').first().innerText();
      assert.ok(amsterdamClocksAroundNow(5).some((c) => listed.includes(c)), `mail list time in Amsterdam: ${listed}`);
      await check(staff, 'mail catcher', size, axe);
      await staff.click('main tbody a');
      await check(staff, 'caught mail', size, axe);

      const resident = await pageAt(viewport);
      await resident.goto(cancel);
      assert.match(await resident.locator('h1').innerText(), /Afspraak annuleren/);
      await check(resident, 'cancel question', size, axe);
      await resident.goto(`${base}/v/not-a-valid-token-at-all`);
      await check(resident, 'link not valid', size, axe);
      await resident.goto(`${base}/afspraak?day=2026-02-30`);
      await check(resident, 'bad day error page', size, axe);

      await resident.goto(`${base}/login`);
      await resident.fill('#username', 'agent1');
      await resident.fill('#password', 'not the password');
      await Promise.all([resident.waitForNavigation(), resident.click('main form button[type="submit"]')]);
      assert.equal(await resident.getAttribute('#password', 'aria-invalid'), 'true');
      await check(resident, 'sign-in error', size, axe);

      const admin = await pageAt(viewport);
      await signIn(admin, base, 'admin', '/admin-log');
      const field = await lookOf(admin, '#appointment');
      await admin.focus('#appointment');
      assert.notEqual(await lookOf(admin, '#appointment'), field, 'the filter field looks focused when focused');
      await check(admin, 'processing log', size, axe);
      await Promise.all([staff.context().close(), resident.context().close(), admin.context().close()]);
    }
  });
});
