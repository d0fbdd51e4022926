import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

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
export function launchFirefox(prefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
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
}
