import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { waitFor } from './call-media';
import { defaultFlowsOpenNow } from './flows';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, type RuntimeHandle } from './runtime';

/** Signs a demo staff account in through the real sign-in form and lands on `next`. */
export async function signIn(page: Page, base: string, username: string, next: string): Promise<void> {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
  assert.equal(new URL(page.url()).pathname, next.split('?')[0], `${username} signed in`);
}

/**
 * Reads the caught mails in /dev/mail (as a signed-in employee) until one for `to` holds a link starting with
 * `base + prefix` (e.g. '/v/' for the access link, '/afspraak/annuleren/' for the cancel link).
 */
export async function linkFromMail(page: Page, base: string, to: string, prefix = '/v/'): Promise<string> {
  return waitFor(`a mail to ${to} with a link ${prefix}`, async () => {
    await page.goto(`${base}/dev/mail`);
    const hrefs = await page.locator('main a[href^="/dev/mail/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) {
      await page.goto(base + href);
      const text = (await page.textContent('main')) ?? '';
      if (!text.includes(to)) continue;
      const link = await page.locator(`main a[href^="${base}${prefix}"]`).first().getAttribute('href', { timeout: 1000 }).catch(() => null);
      if (link) return link;
    }
    return undefined;
  }, 30_000);
}

/** Today's date in Amsterdam plus `offsetDays`, as YYYY-MM-DD (the booking API's day format). */
export function amsterdamDay(offsetDays = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(new Date(Date.now() + offsetDays * 86_400_000));
}

/**
 * Books the first free slot of the next three days through the JSON API (as a gemeente's own front end would), so a
 * test has its own appointment and mails instead of reading another test's. Returns the appointment's id and start.
 * Throws (with the answer) unless the booking was confirmed with 201.
 */
export async function bookThroughApi(base: string, who: { name: string; email: string; topic?: string }): Promise<{ id: string; start: string }> {
  const slots = (await (await fetch(`${base}/afspraak/slots?from=${amsterdamDay(0)}&to=${amsterdamDay(2)}`)).json()) as Array<{ start: string }>;
  assert.ok(slots.length > 0, 'a free slot in the next three days');
  const res = await fetch(`${base}/afspraak`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ start: slots[0].start, topic: who.topic ?? 'Paspoort aanvragen', name: who.name, email: who.email }),
  });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  return { id: (JSON.parse(body) as { id: string }).id, start: slots[0].start };
}

/** A runtime with the default flows open now (see defaultFlowsOpenNow) and one browser, for a browser test file. */
export interface PagesHarness {
  rt: RuntimeHandle;
  browser: Browser;
  base: string;
  contexts: BrowserContext[];
  close(): Promise<void>;
}

export async function startWithDefaultFlows(prefix: string): Promise<PagesHarness> {
  const dataDir = tempDir(prefix);
  fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(defaultFlowsOpenNow(ROOT), null, 2));
  const rt = await startRuntime({ dataDir, timeoutMs: 60_000 });
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  return {
    rt,
    browser,
    base: rt.url,
    contexts,
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await rt.stop();
      fs.rmSync(rt.dataDir, { recursive: true, force: true });
    },
  };
}
