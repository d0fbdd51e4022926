import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FaultLog } from '../../../lib/runtime/fault-log';
import { loadOrCreateInstanceId } from '../../../lib/runtime/instance';
import { startPeriodic } from '../../../lib/runtime/periodic';
import { until } from '../../support/identification-test';

const storeFault = () => Object.assign(new Error('attempt to write a readonly database /srv/idv/idvideo.sqlite'), { code: 'SQLITE_READONLY' });

describe('background loops: bounded logging and backoff', () => {
  it('logs the first failure, then one summary per period, then the recovery; codes only', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new FaultLog({ name: 'mail outbox', warn: (m) => lines.push(`W ${m}`), info: (m) => lines.push(`I ${m}`), summaryMs: 60_000, now: () => now });
    // 1840 failures in 20 s: what the issue saw as 1840 log lines.
    for (let i = 0; i < 1840; i++) {
      log.failed(storeFault());
      now += 11;
    }
    assert.equal(lines.length, 1, lines.join('\n'));
    now = 61_000;
    log.failed(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }));
    assert.equal(lines.length, 2);
    assert.match(lines[1], /still failing, 1840 more failures in 61 s \(SQLITE_READONLY, SQLITE_IOERR_WRITE\)/);
    log.succeeded();
    log.succeeded();
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^I mail outbox: working again after 1841 failures/);
    assert.ok(!lines.join('\n').includes('/srv'), 'no path from the error message');
  });

  it('a failing loop waits longer each time, runs again on kick, and goes back to its period once it works', async () => {
    const runs: number[] = [];
    const warnings: string[] = [];
    let failing = true;
    const began = Date.now();
    let restore = () => undefined as unknown;
    const loop = startPeriodic({
      name: 'test loop',
      everyMs: 10_000,
      backoff: { initialMs: 40, maxMs: 1000 },
      log: { warn: (m) => warnings.push(m), info: (m) => warnings.push(m) },
      run: async () => {
        runs.push(Date.now() - began);
        if (failing) throw storeFault();
      },
    });
    try {
      const end = Date.now() + 10_000;
      while (runs.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.equal(runs.length, 4);
      // Pauses of 40, 80 and 160 ms between the first four runs (less a few ms of timer rounding).
      assert.ok(runs[3] - runs[0] >= 270, `runs at ${runs.join(', ')} ms`);
      assert.equal(loop.failing, true);
      assert.equal(warnings.length, 1, 'one line for all of it');
      failing = false;
      // Delays of the timers set from here on (this test's own 10 ms polls among them).
      const scheduled: number[] = [];
      const realSetTimeout = globalThis.setTimeout;
      globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
        scheduled.push(ms ?? 0);
        return realSetTimeout(fn, ms, ...rest);
      }) as typeof setTimeout;
      restore = () => (globalThis.setTimeout = realSetTimeout);
      loop.kick();
      while (loop.failing && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.equal(loop.failing, false);
      const after = runs.length;
      // A kick that arrived during a run asks for one more right after it; then the loop sets its next run a whole
      // period (10 s) away. The loop's own timer is seen being set (setTimeout watched here), so "back to its period"
      // is a condition met, not a pause in which a back-off run (at most 1 s away) merely did not happen to come.
      await until('the loop to set its next run 10 s away', () => scheduled.includes(10_000));
      assert.ok(runs.length <= after + 1, `back to its 10 s period (${runs.length - after} more runs)`);
      assert.match(warnings[1], /working again/);
    } finally {
      restore();
      await loop.stop();
    }
  });

  it('keeps the instance id in the data dir across restarts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-instance-'));
    try {
      const a = loadOrCreateInstanceId(dir);
      const b = loadOrCreateInstanceId(dir);
      assert.equal(a.persisted, true);
      assert.equal(a.id, b.id);
      assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(loadOrCreateInstanceId(fs.mkdtempSync(path.join(dir, 'other-'))).id, a.id, 'another data dir, another instance');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
