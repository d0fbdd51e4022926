import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { clockOffsetMs } from './fake-clock';

/** Debian's chromium: the test tools' own browser downloads cannot reach their servers here. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed (apt-get install chromium); .ci/run installs it');
  }
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
];

export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
  return clockOffsetMs === 0 ? browser : withShiftedClock(browser);
}

/**
 * Under `npm run test:clock` (test/support/fake-clock.ts) the servers run on a shifted clock; the pages must share
 * it, or a countdown computed against the browser's own time would be hours off. Every context gets Playwright's
 * clock installed at the shifted now; it keeps running.
 */
function withShiftedClock(browser: Browser): Browser {
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const ctx = await newContext(options);
    await ctx.clock.install({ time: Date.now() });
    return ctx;
  };
  browser.newPage = async (options) => {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    page.on('close', () => void ctx.close().catch(() => undefined));
    return page;
  };
  return browser;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const AXE_RUN = `(async () => {
  const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
})()`;

/**
 * Runs axe-core in the page at WCAG 2.1 AA. The source is evaluated through the driver (DevTools protocol or
 * WebDriver BiDi), which our strict CSP (no inline script) does not block, so the page is checked exactly as served.
 * Works with a playwright-core page (Chromium) and a puppeteer-core page (Firefox).
 */
export async function axeViolations(page: { evaluate(expression: string): Promise<unknown> }): Promise<AxeViolation[]> {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  return (await page.evaluate(AXE_RUN)) as AxeViolation[];
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.id} (${x.impact}): ${x.help} @ ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}
