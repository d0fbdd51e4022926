/**
 * Warnings and errors of the servers under test are failures unless a test said it expects them. Every logger a test
 * gives the product (`serverLogger`) and every runtime child process (test/support/runtime.ts) is a watched source;
 * the test during which an unexpected warn/error line appeared fails, naming the lines. A test that provokes an
 * error line says so with `allow` (for the rest of the source's life) or waits for it with `expectLine`.
 *
 * The check runs after every test through test/support/log-check-hooks.ts, which .mocharc.json loads (so
 * `npx mocha dist/test/…/x.test.js` checks the same way `npm test` does).
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../../lib/services';

export interface WatchedLog {
  readonly name: string;
  /** Every warn/error line so far, oldest first. */
  readonly lines: string[];
  /** Lines matching any of these are expected (for the rest of this source's life). */
  allow(...patterns: RegExp[]): void;
  /** Waits (bounded) until a warn/error line matches, and allows it. Resolves with the line. */
  expectLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Lines not allowed since the last check. */
  unexpected(): string[];
}

/** Every source of this mocha run: lines a server writes while stopping in an `after` hook are checked at the end. */
const sources = new Set<Source>();

class Source implements WatchedLog {
  readonly lines: string[] = [];
  private allowed: RegExp[] = [];
  private checked = 0;
  constructor(readonly name: string) {
    sources.add(this);
  }
  push(line: string): void {
    this.lines.push(line);
  }
  allow(...patterns: RegExp[]): void {
    this.allowed.push(...patterns);
  }
  async expectLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    this.allow(pattern);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > end) throw new Error(`${this.name} never logged a line matching ${pattern} (it logged: ${this.lines.slice(-5).join(' | ') || 'nothing'})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  unexpected(): string[] {
    const fresh = this.lines.slice(this.checked);
    this.checked = this.lines.length;
    return fresh.filter((l) => !this.allowed.some((p) => p.test(l)));
  }
}

/** A watched source fed by hand (e.g. a child process's output, see runtime.ts). */
export function watchLog(name: string): WatchedLog & { push(line: string): void } {
  return new Source(name);
}

/**
 * Watches a Node-RED process's output (the embedded runtime of test/support/runtime.ts, or a plain Node-RED running
 * the installed package): every non-empty stderr line and every stdout line in Node-RED's `[warn]`/`[error]`/`[fatal]`
 * format is a watched line. `onText` gets all output as it comes (for `output()` and start-up waits).
 */
export function watchNodeRedOutput(name: string, proc: ChildProcess, onText: (text: string) => void): WatchedLog {
  const log = new Source(name);
  const partial = { stdout: '', stderr: '' };
  const feed = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
    const text = d.toString();
    onText(text);
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (stream === 'stderr' ? line.trim() !== '' : / - \[(warn|error|fatal)\] /.test(line)) log.push(line);
    }
  };
  proc.stdout?.on('data', feed('stdout'));
  proc.stderr?.on('data', feed('stderr'));
  return log;
}

/**
 * A Logger for `initServices` in a test: info lines are dropped, warn and error lines are watched. `echo` also
 * collects every line (info included) for tests that search all output, e.g. for leaked values.
 */
export function serverLogger(name: string, echo?: (line: string) => void): Logger & { watched: WatchedLog } {
  const source = new Source(name);
  return {
    watched: source,
    info: (m) => echo?.(m),
    warn: (m) => {
      echo?.(m);
      source.push(`[warn] ${m}`);
    },
    error: (m) => {
      echo?.(m);
      source.push(`[error] ${m}`);
    },
  };
}

/** Unexpected lines of every watched source since the last check, as one message (empty: none). */
export function unexpectedServerLines(): string {
  const problems: string[] = [];
  for (const s of sources) {
    const bad = s.unexpected();
    if (bad.length) problems.push(`${s.name}:\n    ${bad.slice(0, 10).join('\n    ')}${bad.length > 10 ? `\n    … and ${bad.length - 10} more` : ''}`);
  }
  return problems.join('\n  ');
}

export const UNEXPECTED = 'unexpected warnings or errors from the servers under test (a test that expects one says so with allow/expectLine)';
