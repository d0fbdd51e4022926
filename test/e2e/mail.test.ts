/**
 * The mail journey through the real embedded runtime (`node dist/settings.js`) in demo mode: a booking on the JSON
 * API produces the confirmation and the announcement in the built-in catcher, /dev/mail shows them to signed-in
 * staff, and the resident's link opens the call page in Chromium. Then the fault the issue names: the SMTP server
 * (SMTP_URL) is down while someone books and the runtime restarts before it is back; no mail is lost.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { Client } from '../support/http-client';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { clockOffsetMs } from '../support/fake-clock';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp';
import { baseFlows } from '../support/flows';

/** Our own flows, so the test does not depend on what flows/flows.json holds today. */
function flows() {
  return [
    ...baseFlows('mail e2e'),
    {
      id: 'book',
      type: 'idv-book-appointment',
      z: 'tab',
      schedule: 'schedule',
      settings: 'settings',
      mode: 'resident',
      path: '/afspraak',
      topics: ['Paspoort aanvragen'],
      phone: 'off',
      wires: [['link']],
    },
    {
      id: 'link',
      type: 'idv-session-link',
      z: 'tab',
      settings: 'settings',
      // A week: the first free slot is at least an hour away, and the test wants to open the link now.
      openBeforeMinutes: 10080,
      validAfterMinutes: 60,
      sendResident: true,
      sendAgent: true,
      agentEmails: 'agent1 = anna@testdorp.example',
      wires: [[], []],
    },
    // The call pages the mailed links lead to (/call, the agent's call) are the dashboard node's routes.
    { id: 'dash', type: 'idv-agent-dashboard', z: 'tab', settings: 'settings', days: 14, wires: [[]] },
  ];
}

async function bookFirstSlot(base: string, email: string, daysAhead = 0): Promise<string> {
  const from = new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
  const to = new Date(Date.now() + (daysAhead + 6) * 86_400_000).toISOString().slice(0, 10);
  const slots = (await (await fetch(`${base}/afspraak/slots?from=${from}&to=${to}`)).json()) as { start: string; available: number }[];
  const slot = slots.find((s) => s.available > 0);
  assert.ok(slot, 'a free slot within the week');
  const res = await fetch(`${base}/afspraak`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ start: slot.start, name: 'Jan de Vries', email, topic: 'Paspoort aanvragen' }),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function expectNoViolations(page: Page, what: string) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
}

describe('mail journey through the runtime (demo mode)', function () {
  this.timeout(150_000);

  describe('with the built-in mail catcher', () => {
    let dataDir: string;
    let rt: RuntimeHandle | undefined;
    let browser: Browser | undefined;

    before(async () => {
      dataDir = tempDir('idv-mail-e2e-');
      fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows(), null, 2));
      rt = await startRuntime({ dataDir });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await rt?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('a booking puts both mails in the catcher, /dev/mail shows them, and the links open the call pages in Chromium', async () => {
      const base = (rt as RuntimeHandle).url;
      const id = await bookFirstSlot(base, 'jan@example.org');

      const staff = new Client(base);
      assert.equal((await staff.get('/dev/mail')).status, 303, 'sign-in first');
      assert.equal((await staff.signIn('kcc1', DEMO_PASSWORD)).status, 303);
      const list = await until('two caught mails', async () => {
        const html = await (await staff.get('/dev/mail')).text();
        const ids = [...html.matchAll(/href="\/dev\/mail\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
        return ids.length >= 2 ? { html, ids } : undefined;
      }, 20_000);
      assert.match(list.html, /Bevestiging van uw video-afspraak/);
      assert.match(list.html, /Nieuwe video-afspraak/);

      const details = await Promise.all(list.ids.map(async (m) => (await staff.get(`/dev/mail/${m}`)).text()));
      const resident = details.find((d) => d.includes('jan@example.org'));
      const agent = details.find((d) => d.includes('anna@testdorp.example'));
      assert.ok(resident && agent);
      const linkRe = new RegExp(`href="(${base.replace(/[.]/g, '\\.')}/v/[A-Za-z0-9_-]{43})"`);
      const residentLink = linkRe.exec(resident)?.[1];
      const agentLink = linkRe.exec(agent)?.[1];
      assert.ok(residentLink && agentLink, 'both mails carry a clickable access link on this runtime');
      assert.notEqual(residentLink, agentLink);
      assert.match(resident, new RegExp(`UID:${id}@127\\.0\\.0\\.1`), 'the invite has the appointment UID');

      const b = browser as Browser;
      // The resident: a fresh browser, straight from the mail to the call page; the token leaves the address bar.
      const residentContext = await b.newContext();
      const residentPage = await residentContext.newPage();
      const response = await residentPage.goto(residentLink);
      assert.equal(new URL(residentPage.url()).pathname, '/call');
      assert.equal(response?.status(), 200, 'the call page itself, not an error page');
      await residentPage.locator('#start-call').waitFor({ state: 'attached' });
      assert.match((await residentPage.textContent('h1')) ?? '', /\S/, 'the device check page with its heading');
      const cookie = (await residentContext.cookies()).find((c) => c.name === 'idv_call');
      assert.ok(cookie, 'the call-session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      await residentPage.goto(`${base}/v/not-a-token`);
      await expectNoViolations(residentPage, 'link not valid page');
      await residentContext.close();

      // A booking beyond the week the links open ahead: its link shows when the call opens.
      await bookFirstSlot(base, 'later@example.org', 10);
      const laterLink = await until('the later confirmation', async () => {
        const html = await (await staff.get('/dev/mail')).text();
        for (const m of [...html.matchAll(/href="\/dev\/mail\/([0-9a-f-]{36})"/g)].map((x) => x[1])) {
          const d = await (await staff.get(`/dev/mail/${m}`)).text();
          if (d.includes('later@example.org')) return linkRe.exec(d)?.[1];
        }
        return undefined;
      }, 20_000);
      const earlyContext = await b.newContext();
      const early = await earlyContext.newPage();
      const earlyResponse = await early.goto(laterLink);
      assert.equal(earlyResponse?.status(), 200);
      assert.match((await early.textContent('main')) ?? '', /Het gesprek is nog niet geopend/);
      assert.equal((await earlyContext.cookies()).some((c) => c.name === 'idv_call'), false);
      await expectNoViolations(early, 'too early page');
      await earlyContext.close();

      // The agent: signs in in the browser, reads the mail in /dev/mail and clicks the link there.
      const agentContext = await b.newContext();
      const page = await agentContext.newPage();
      await page.goto(`${base}/login?next=/dev/mail`);
      await page.fill('#username', 'agent1');
      await page.fill('#password', DEMO_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      assert.equal(new URL(page.url()).pathname, '/dev/mail', (await page.textContent('main')) ?? '');
      await expectNoViolations(page, '/dev/mail list');
      const agentMail = list.ids[details.indexOf(agent)];
      await page.goto(`${base}/dev/mail/${agentMail}`);
      await expectNoViolations(page, '/dev/mail detail');
      await Promise.all([page.waitForNavigation(), page.click(`a[href="${agentLink}"]`)]);
      // The agent's link leads through /agent/call/<id> to the dashboard with that call opened.
      const landed = new URL(page.url());
      assert.equal(landed.pathname, '/agent');
      assert.equal(landed.searchParams.get('call'), id);
      await agentContext.close();
    });
  });

  describe('with SMTP_URL, while the mail server is down and the runtime restarts', () => {
    let dataDir: string;
    let smtp: TestSmtpServer;
    let rt: RuntimeHandle | undefined;

    before(async () => {
      dataDir = tempDir('idv-mail-e2e-smtp-');
      fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows(), null, 2));
      smtp = await startTestSmtp({ auth: { user: 'relay', pass: 'relay-secret-42' } });
    });
    after(async () => {
      await rt?.stop();
      await smtp.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses no mail: both are delivered once the server is back, exactly once', async () => {
      const env = { SMTP_URL: smtp.url };
      smtp.down();
      rt = await startRuntime({ dataDir, env });
      const id = await bookFirstSlot(rt.url, 'piet@example.org');
      const health = await until('a waiting mail', async () => {
        const h = (await (await fetch(`${(rt as RuntimeHandle).url}/healthz`)).json()) as { mail?: { detail?: string } };
        return /^[1-9]\d* waiting/.test(h.mail?.detail ?? '') ? h : undefined;
      }, 10_000);
      assert.ok(health.mail);

      const staff = new Client(rt.url);
      await staff.signIn('admin', DEMO_PASSWORD);
      const devMail = await (await staff.get('/dev/mail')).text();
      assert.match(devMail, /SMTP_URL/);
      assert.ok(!devMail.includes('relay-secret-42'), 'the SMTP password is never shown');

      // A restart while mail is waiting: the outbox is in the store, not in memory.
      await rt.stop();
      smtp.up();
      // The first retry is due 30 s after the failed attempt. The restarted runtime runs on a clock 31 s ahead (the
      // tests' fake clock), so the retry point has passed when it starts: the test proves the retry without waiting.
      rt = await startRuntime({
        dataDir,
        env: { ...env, IDV_TEST_CLOCK_OFFSET_MS: String(clockOffsetMs + 31_000) },
        nodeArgs: ['--require', path.join(ROOT, 'dist', 'test', 'support', 'fake-clock.js')],
      });
      await smtp.waitFor(2, 30_000);
      // Exactly once: with nothing left waiting or being sent, no later delivery can come.
      await until('an empty outbox', async () => {
        const h = (await (await fetch(`${(rt as RuntimeHandle).url}/healthz`)).json()) as { mail?: { detail?: string } };
        // Reminders wait for their moment (scheduled); nothing else may be left.
        return /^0 waiting, \d+ scheduled, 0 failed/.test(h.mail?.detail ?? '') ? true : undefined;
      }, 20_000);
      assert.equal(smtp.received.length, 2, 'each mail once');
      assert.deepEqual(smtp.received.map((r) => r.envelope.to[0]).sort(), ['anna@testdorp.example', 'piet@example.org']);
      assert.ok(smtp.received.every((r) => r.user === 'relay'), 'sent with the SMTP_URL login');
      for (const r of smtp.received) {
        const ics = r.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8') ?? '';
        assert.match(ics, new RegExp(`UID:${id}@`));
      }
      assert.ok(!rt.output().includes('relay-secret-42'), 'the password is not in the log');
      assert.ok(!/\/v\/[A-Za-z0-9_-]{43}/.test(rt.output()), 'no access link in the log');
    });
  });
});
