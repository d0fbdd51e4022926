import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { DEMO_PASSWORD, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { baseFlows } from '../support/flows';

// Code passed to page.evaluate runs in the browser; the test's tsconfig has no DOM types, so this is the slice it uses.
interface BrowserInput { id: string; value: string; matches(s: string): boolean; labels?: { textContent: string | null }[] }
declare const document: { activeElement: BrowserInput | null };

/** The flows this test runs: our own, so the test does not depend on what flows/flows.json holds today. */
function flows() {
  return [
    ...baseFlows('booking e2e'),
    {
      id: 'book',
      type: 'idv-book-appointment',
      z: 'tab',
      schedule: 'schedule',
      settings: 'settings',
      mode: 'resident',
      path: '/afspraak',
      topics: ['Paspoort aanvragen', 'Verhuizing doorgeven'],
      phone: 'optional',
      wires: [[]],
    },
    {
      id: 'kcc-booking',
      type: 'idv-book-appointment',
      z: 'tab',
      schedule: 'schedule',
      settings: 'settings',
      mode: 'kcc',
      path: '/kcc/afspraak',
      residentPath: '/afspraak',
      topics: ['Paspoort aanvragen'],
      phone: 'required',
      wires: [[]],
    },
  ];
}

async function expectNoViolations(page: Page, what: string) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
}

/** Presses Tab until the element matching the selector has focus: the way a keyboard user gets there. */
async function tabTo(page: Page, selector: string, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${selector} with the keyboard`);
}

describe('booking in a real browser, surviving a restart', function () {
  this.timeout(120_000);
  let dataDir: string;
  let rt: RuntimeHandle | undefined;
  let browser: Browser | undefined;

  before(async () => {
    dataDir = tempDir('idv-booking-e2e-');
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows(), null, 2));
    rt = await startRuntime({ dataDir });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rt?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a KCC employee signs in, books for a caller and cancels from the list, all pages passing axe', async () => {
    const page = await (browser as Browser).newPage();
    const base = (rt as RuntimeHandle).url;
    await page.goto(`${base}/kcc/afspraak`);
    assert.match(page.url(), /\/login\?next=/, 'sign-in first');
    await page.fill('#username', 'kcc1');
    await page.fill('#password', DEMO_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    assert.match(page.url(), /\/kcc\/afspraak$/, await page.textContent('main') ?? '');
    await expectNoViolations(page, 'KCC day choice');
    // The second day offered: a whole day of free times at any hour (the first may hold one late slot only).
    await page.check('#day-1');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    await expectNoViolations(page, 'KCC time and details');
    await page.check('#time-1');
    await page.fill('#name', 'Beller Bakker');
    await page.fill('#email', 'beller@example.nl');
    await page.fill('#phone', '020 1234567');
    await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
    assert.match(await page.textContent('h1') ?? '', /Controleer de afspraak/);
    await expectNoViolations(page, 'KCC review');
    await Promise.all([page.waitForNavigation(), page.click('button[value="confirm"]')]);
    assert.match(await page.textContent('main') ?? '', /Beller Bakker/);
    await expectNoViolations(page, 'KCC confirmation');
    await page.goto(`${base}/kcc/afspraak/afspraken`);
    await expectNoViolations(page, 'KCC upcoming list');
    // The list holds every upcoming booking (the resident test's too, when it ran first): act on this caller's row.
    const row = page.locator('tbody tr', { hasText: 'Beller Bakker' });
    assert.equal(await row.count(), 1);
    const others = (await page.locator('tbody tr').count()) - 1;
    await Promise.all([page.waitForNavigation(), row.locator('form[action$="/annuleren"] button[type="submit"]').click()]);
    assert.match(page.url(), /geannuleerd=1/);
    assert.equal(await page.locator('tbody tr', { hasText: 'Beller Bakker' }).count(), 0, 'the cancelled booking left the list');
    assert.equal(await page.locator('tbody tr').count(), others, 'no other booking was cancelled');
    await page.close();
  });

  it('a resident books with the keyboard only, the pages pass axe, and the booking outlives the runtime', async () => {
    const page = await (browser as Browser).newPage();
    const base = (rt as RuntimeHandle).url;
    await page.goto(`${base}/afspraak`);
    assert.equal(await page.getAttribute('html', 'lang'), 'nl');
    await expectNoViolations(page, 'day choice');

    // Topic: second option with the arrow key; day: the second offered (a whole day of free times at any hour, where
    // the first may hold one late slot only); then on to the times.
    await tabTo(page, '#topic-0');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.isChecked('#topic-1'), true);
    await tabTo(page, 'input[name="day"]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.isChecked('#day-1'), true);
    const day = await page.evaluate(() => (document.activeElement as BrowserInput).value);
    await tabTo(page, 'button[type="submit"]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await expectNoViolations(page, 'time and details');

    // Choose the third time, fill in the name but forget the e-mail address.
    await tabTo(page, 'input[name="time"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const time = await page.evaluate(() => (document.activeElement as BrowserInput).value);
    const spoken = await page.evaluate(() => (document.activeElement as BrowserInput).labels?.[0]?.textContent ?? '');
    assert.match(spoken, /^\S+dag \d{1,2} \S+ \d{4}, \d\d:\d\d$/, 'the time is read out with its full date');
    await tabTo(page, '#name');
    await page.keyboard.type('Jan <b>Jansen</b>');
    await tabTo(page, 'button[type="submit"]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'error-summary', 'focus moves to the error summary');
    assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#name'), 'Jan <b>Jansen</b>', 'what was typed is kept, as text');
    await expectNoViolations(page, 'error state');

    // Follow the summary's link to the field, fix it and confirm.
    await tabTo(page, '#error-summary a[href="#email"]');
    await page.keyboard.press('Enter');
    await tabTo(page, '#email');
    await page.keyboard.type('jan@example.nl');
    assert.equal(await page.isChecked(`input[name="time"][value="${time}"]`), true, 'the chosen time is kept');
    await tabTo(page, 'button[type="submit"]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    // "Controleer uw afspraak": what was typed, then confirm with the keyboard too.
    assert.match(await page.textContent('h1') ?? '', /Controleer uw afspraak/);
    assert.match(await page.textContent('main') ?? '', /Jan <b>Jansen<\/b>/);
    await expectNoViolations(page, 'review');
    await tabTo(page, 'button[value="confirm"]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.match(page.url(), /\/afspraak\/bevestiging\?ref=/);
    assert.match(await page.textContent('main') ?? '', new RegExp(`om ${time}`));
    await expectNoViolations(page, 'confirmation');

    const start = `${day}T${time}`;
    const isGone = async (url: string) => {
      const slots = (await (await fetch(`${url}/afspraak/slots?from=${day}&to=${day}`)).json()) as { start: string }[];
      assert.ok(slots.length > 0, 'other slots of the day are still free');
      return !slots.some((s) => s.start.startsWith(start));
    };
    assert.equal(await isGone(base), true, 'the slot is taken (one agent)');

    const code = await (rt as RuntimeHandle).stop('SIGTERM');
    assert.equal(code, 0, (rt as RuntimeHandle).output());
    rt = await startRuntime({ dataDir });
    assert.equal(await isGone(rt.url), true, 'the booking survived the restart');
    const again = await fetch(`${rt.url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: `${start}:00${(await offsetOf(rt.url, day))}`, name: 'Iemand', email: 'iemand@example.nl' }),
    });
    assert.equal(again.status, 409, 'the slot cannot be booked again after the restart');
  });
});

/** The Amsterdam offset on a day, as the slots API gives it. */
async function offsetOf(url: string, day: string): Promise<string> {
  const slots = (await (await fetch(`${url}/afspraak/slots?from=${day}&to=${day}`)).json()) as { start: string }[];
  return slots[0].start.slice(-6);
}
