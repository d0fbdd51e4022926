/**
 * What a functional administrator sees, in Debian's Chromium against the real runtime (one runtime, one browser):
 * - a municipality's own theme and logo from a second loopback origin apply (computed style, image loaded) with no CSP
 *   violation, and the CSP names exactly those origins;
 * - the processing log in words (Dutch; English when the browser asks), every column inside 1366×768;
 * - the Node-RED editor: one palette category and colour, palette names in the editor's language, default-flow
 *   comments that do not overlap, edit dialogs whose labels are not cut off, editable lists and a typed input.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the page.evaluate callbacks run in the browser; this project's
   test compilation has no DOM types, so they reach the page's globals through globalThis. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SqliteProcessingLog } from '../../lib/store/sqlite/processing-log';
import { openDatabase } from '../../lib/store/db';
import { launchBrowser } from '../support/browser';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, waitHealthy, type RuntimeHandle } from '../support/runtime';

const THEME_CLASS = 'testdorp-theme';
const THEME_CSS = `.${THEME_CLASS} { --utrecht-document-background-color: rgb(250, 240, 200); --utrecht-document-color: rgb(20, 30, 40); }`;
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40"><rect width="120" height="40" fill="#234"/></svg>';

async function signIn(page: Page, base: string, next: string): Promise<void> {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', 'admin');
  await page.fill('#password', DEMO_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
  assert.equal(new URL(page.url()).pathname, next);
}

describe('the administrator: theme, processing log and the Node-RED editor (Chromium)', function () {
  this.timeout(120_000);
  let themeServer: http.Server;
  let themeOrigin = '';
  let rt: RuntimeHandle;
  let browser: Browser;
  let dataDir = '';

  before(async () => {
    themeServer = http.createServer((req, res) => {
      if (req.url === '/theme.css') res.writeHead(200, { 'Content-Type': 'text/css' }).end(THEME_CSS);
      else if (req.url === '/logo.svg') res.writeHead(200, { 'Content-Type': 'image/svg+xml' }).end(LOGO_SVG);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => themeServer.listen(0, '127.0.0.1', resolve));
    themeOrigin = `http://127.0.0.1:${(themeServer.address() as AddressInfo).port}`;

    dataDir = tempDir('idv-admin-');
    const flows = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'flows.json'), 'utf8')) as Record<string, unknown>[];
    const settings = flows.find((n) => n.type === 'idv-settings') as Record<string, unknown>;
    Object.assign(settings, { themeCssUrl: `${themeOrigin}/theme.css`, logoUrl: `${themeOrigin}/logo.svg`, themeClass: THEME_CLASS });
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
    rt = await startRuntime({ dataDir });
    assert.equal((await waitHealthy(rt.url)).status, 200, rt.output());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await rt?.stop();
    await new Promise((r) => themeServer.close(r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function context(locale: string): Promise<BrowserContext> {
    return browser.newContext({ locale, viewport: { width: 1366, height: 768 } });
  }

  it("applies the municipality's theme and logo from another origin, with no CSP violation", async () => {
    const ctx = await context('nl-NL');
    try {
      const page = await ctx.newPage();
      const console: string[] = [];
      page.on('console', (m) => console.push(m.text()));
      const res = await page.goto(`${rt.url}/afspraak`);
      const csp = res?.headers()['content-security-policy'] ?? '';
      assert.match(csp, new RegExp(`style-src 'self' ${themeOrigin}[;]`));
      assert.match(csp, new RegExp(`img-src 'self' ${themeOrigin} data: blob:`));
      assert.doesNotMatch(csp.replace(new RegExp(themeOrigin, 'g'), ''), /https?:\/\//, 'no other origin is allowed');
      await page.waitForFunction(() => {
        const img = (globalThis as any).document.querySelector('img.idv-logo');
        return !!img && img.complete;
      });
      const seen = await page.evaluate(() => {
        const w = globalThis as any;
        const img = w.document.querySelector('img.idv-logo');
        return {
          htmlClass: w.document.documentElement.className as string,
          background: w.getComputedStyle(w.document.body).backgroundColor as string,
          color: w.getComputedStyle(w.document.body).color as string,
          logoWidth: img.naturalWidth as number,
        };
      });
      assert.deepEqual(seen, { htmlClass: THEME_CLASS, background: 'rgb(250, 240, 200)', color: 'rgb(20, 30, 40)', logoWidth: 120 });
      assert.deepEqual(console.filter((m) => /Content Security Policy|Refused to/i.test(m)), []);
    } finally {
      await ctx.close();
    }
  });

  it('shows the processing log in Dutch words, in English when the browser asks, every column inside 1366×768', async () => {
    const db = openDatabase(path.join(dataDir, 'idvideo.sqlite'));
    const log = new SqliteProcessingLog(db);
    const appointmentId = 'b7f3c2a1-9d4e-4c11-8f0a-2e6d5c4b3a21';
    for (const [action, detail] of [['requested', undefined], ['verified', undefined], ['shown', undefined], ['deleted', 'agent_deleted'], ['failed', 'acr_too_low']] as const) {
      await log.record({ appointmentId, actor: action === 'requested' ? 'agent1' : 'resident', action, purpose: 'Vaststellen identiteit voor uw aanvraag van een paspoort', methodId: 'digid-test', attributeKeys: ['bsn', 'name', 'birthdate', 'address'], ...(detail ? { detail } : {}) });
    }
    db.close();
    for (const [locale, words, notWords] of [
      ['nl-NL', ['Gevraagd', 'Geverifieerd', 'Getoond aan medewerker', 'Verwijderd', 'door de medewerker verwijderd', 'betrouwbaarheidsniveau te laag', 'Inwoner'], ['requested', 'agent_deleted', 'acr_too_low']],
      ['en-US', ['Requested', 'Verified', 'Shown to the agent', 'Deleted', 'deleted by the agent', 'level of assurance too low', 'Resident'], ['Gevraagd', 'agent_deleted']],
    ] as const) {
      const ctx = await context(locale);
      try {
        const page = await ctx.newPage();
        await signIn(page, rt.url, '/admin-log');
        const table = (await page.textContent('table.idv-log-table')) ?? '';
        for (const w of words) assert.ok(table.includes(w), `${locale}: "${w}" in the table`);
        for (const w of notWords) assert.ok(!table.includes(w), `${locale}: no code "${w}" as text`);
        const fit = await page.evaluate(() => {
          const w = globalThis as any;
          const wrap = w.document.querySelector('.idv-table-wrap');
          const cells = [...w.document.querySelectorAll('table.idv-log-table th')].map((th: any) => th.getBoundingClientRect().right as number);
          return { scroll: wrap.scrollWidth as number, client: wrap.clientWidth as number, lastRight: Math.max(...cells), page: w.document.documentElement.scrollWidth as number, viewport: w.innerWidth as number };
        });
        assert.ok(fit.scroll <= fit.client, `${locale}: the table scrolls sideways (${fit.scroll} > ${fit.client})`);
        assert.ok(fit.lastRight <= fit.viewport && fit.page <= fit.viewport, `${locale}: last column cut off ${JSON.stringify(fit)}`);
      } finally {
        await ctx.close();
      }
    }
  });

  it('the editor: one palette category and colour in the editor language, comments apart, labels whole, lists and typed input', async () => {
    const ctx = await context('nl-NL');
    try {
      const page = await ctx.newPage();
      await page.goto(`${rt.url}/admin/`);
      await page.fill('#node-dialog-login-username', 'admin');
      await page.fill('#node-dialog-login-password', DEMO_PASSWORD);
      await page.click('#node-dialog-login-submit');
      await page.waitForSelector('.red-ui-palette-node[data-palette-type="idv-book-appointment"]', { timeout: 30_000 });
      await page.waitForFunction(() => (globalThis as any).RED.nodes.node('book-website') !== null);

      const palette = await page.evaluate(() => {
        const w = globalThis as any;
        // Node-RED splits a palette label into word spans: compare the words.
        const words = (t: string | undefined) => (t ?? '').replace(/\s*-\s*/g, '-').replace(/\s+/g, ' ').trim();
        return [...w.document.querySelectorAll('.red-ui-palette-node')]
          .filter((el: any) => (el.getAttribute('data-palette-type') ?? '').startsWith('idv-'))
          .map((el: any) => ({
            type: el.getAttribute('data-palette-type') as string,
            label: words(el.querySelector('.red-ui-palette-label')?.textContent),
            colour: w.getComputedStyle(el).backgroundColor as string,
            category: words(el.closest('.red-ui-palette-category')?.querySelector('.red-ui-palette-header')?.textContent),
          }));
      });
      // Every flow node of the package (config nodes are not in the palette), each named once below.
      assert.equal(palette.length, 9, JSON.stringify(palette));
      assert.deepEqual(new Set(palette.map((p) => p.category)), new Set(['ID Video']));
      assert.deepEqual(new Set(palette.map((p) => p.colour)), new Set(['rgb(192, 222, 237)']), 'one colour, from Node-RED palette (#C0DEED)');
      assert.deepEqual(Object.fromEntries(palette.map((p) => [p.type, p.label])), {
        'idv-book-appointment': 'boek afspraak',
        'idv-session-link': 'sessielink en e-mail',
        'idv-agent-dashboard': 'dashboard medewerkers',
        'idv-request-auth': 'vraag identificatie',
        'idv-receive-attributes': 'ontvang gegevens',
        'idv-show-to-agent': 'toon aan medewerker',
        'idv-idcontact-session': 'ID Contact-sessie',
        'idv-fetch-document': 'document ophalen',
        'idv-register-contact': 'contact registreren',
      });

      // The default flow's nodes, as the editor laid them out (x, y are centres): none overlaps another, none is
      // pushed past the left edge.
      const boxes = await page.evaluate(() => {
        const out: { id: string; type: string; l: number; r: number; t: number; b: number }[] = [];
        (globalThis as any).RED.nodes.eachNode((n: { id: string; type: string; x: number; y: number; w: number; h: number; z: string }) => {
          if (n.z === 'idv-tab-journeys') out.push({ id: n.id, type: n.type, l: n.x - n.w / 2, r: n.x + n.w / 2, t: n.y - n.h / 2, b: n.y + n.h / 2 });
        });
        return out;
      });
      assert.ok(boxes.length > 15);
      for (const a of boxes) {
        assert.ok(a.l >= 0, `${a.id} starts left of the canvas (${a.l})`);
        for (const b of boxes) {
          if (a.id >= b.id) continue;
          const overlap = a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
          assert.ok(!overlap, `${a.id} overlaps ${b.id}`);
        }
      }

      // Every edit dialog of ours: labels not cut off; the list settings are editable lists; the purpose a typed input.
      const dialogs = await page.evaluate(async () => {
        type R = { nodes: { node(id: string): { id: string; type: string; _def: { category: string } } | null; eachConfig(fn: (n: { id: string; type: string }) => void): void; eachNode(fn: (n: { id: string; type: string }) => void): void }; editor: { edit(n: unknown): void; editConfig(name: string, type: string, id: string): void }; tray: { close(): Promise<void> | void } };
        const RED = (globalThis as any).RED as R;
        const doc = (globalThis as any).document;
        const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const results: { type: string; cut: string[]; lists: number; typed: number }[] = [];
        const ids: { id: string; type: string; config: boolean }[] = [];
        RED.nodes.eachNode((n) => { if (n.type.startsWith('idv-')) ids.push({ id: n.id, type: n.type, config: false }); });
        RED.nodes.eachConfig((n) => { if (n.type.startsWith('idv-')) ids.push({ id: n.id, type: n.type, config: true }); });
        const seen = new Set<string>();
        for (const { id, type, config } of ids) {
          if (seen.has(type)) continue;
          seen.add(type);
          if (config) RED.editor.editConfig('', type, id);
          else RED.editor.edit(RED.nodes.node(id));
          let form: any = null;
          for (let i = 0; i < 100 && !form; i++) {
            await wait(50);
            form = [...doc.querySelectorAll('.red-ui-tray .idv-form')].pop() ?? null;
          }
          if (!form) {
            results.push({ type, cut: ['no dialog'], lists: 0, typed: 0 });
            continue;
          }
          await wait(200);
          const cut = [...form.querySelectorAll('.form-row > label')]
            .filter((l: any) => l.offsetParent !== null)
            .filter((l: any) => l.scrollWidth > l.clientWidth + 1 || l.scrollHeight > l.clientHeight + 1)
            .map((l: any) => (l.textContent ?? '').trim() as string);
          results.push({ type, cut, lists: form.querySelectorAll('.red-ui-editableList').length, typed: form.querySelectorAll('.red-ui-typedInput-container').length });
          await RED.tray.close();
          await wait(300);
        }
        return results;
      });
      const byType = Object.fromEntries(dialogs.map((d) => [d.type, d]));
      for (const d of dialogs) assert.deepEqual(d.cut, [], `${d.type}: labels cut off`);
      assert.ok(byType['idv-schedule']?.lists >= 4, 'opening hours, closing days, agents (with own hours), absences');
      assert.ok(byType['idv-session-link']?.lists >= 1, 'agent addresses');
      assert.ok(byType['idv-book-appointment']?.lists >= 2, 'topics, CORS origins');
      assert.ok(byType['idv-request-auth']?.typed >= 1, 'purpose as typed input');
      assert.ok(byType['idv-request-auth']?.lists >= 1, 'purposes');
      // Every idv- node type the default flows use had its dialog opened (the list grows with the flows, not by hand).
      const inFlows = [...new Set((JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'flows.json'), 'utf8')) as { type: string }[]).map((n) => n.type).filter((t) => t.startsWith('idv-')))].sort();
      assert.deepEqual(dialogs.map((d) => d.type).sort(), inFlows);
    } finally {
      await ctx.close();
    }
  });
});
