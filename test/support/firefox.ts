import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { clockOffsetMs } from './fake-clock';

/** Debian's Firefox ESR (`firefox-esr`); FIREFOX_PATH overrides. No browser is downloaded. */
export function firefoxPath(): string {
  const fromEnv = process.env.FIREFOX_PATH;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v firefox-esr'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('firefox-esr is not installed (apt-get install firefox-esr); scripts/ensure-test-deps.js installs it');
  }
}

/**
 * Firefox ESR driven over WebDriver BiDi (puppeteer-core), with fake camera and microphone and without the permission
 * prompt: the counterpart of test/support/browser.ts's Chromium flags.
 */
export async function launchFirefox(prefs: Record<string, unknown> = {}): Promise<Browser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath(),
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Quiet start: no update checks or telemetry from a test browser.
      'app.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      ...prefs,
    },
  });
  return clockOffsetMs === 0 ? browser : withShiftedClock(browser);
}

/**
 * Under `npm run test:clock` the servers run on a shifted clock (test/support/fake-clock.ts); Chromium's pages get
 * Playwright's clock (browser.ts), Firefox's pages this: Date.now() and `new Date()` shifted by the same offset before
 * any page script runs. Time keeps running.
 */
function withShiftedClock(browser: Browser): Browser {
  const shift = `(() => {
    const RealDate = Date;
    class ShiftedDate extends RealDate {
      constructor(...args) { if (args.length === 0) super(RealDate.now() + ${clockOffsetMs}); else super(...args); }
      static now() { return RealDate.now() + ${clockOffsetMs}; }
    }
    globalThis.Date = ShiftedDate;
  })()`;
  const createContext = browser.createBrowserContext.bind(browser);
  browser.createBrowserContext = async (options) => {
    const ctx = await createContext(options);
    const newPage = ctx.newPage.bind(ctx);
    ctx.newPage = async (...args: Parameters<typeof newPage>) => {
      const page = await newPage(...args);
      await page.evaluateOnNewDocument(shift);
      return page;
    };
    return ctx;
  };
  return browser;
}
