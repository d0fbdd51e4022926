/**
 * Runs the tests inside each file in another order than written, so a test that only passes after (or before) another
 * one shows up (issue 18: independent of the order). Loaded by .mocharc.json "require"; scripts/test-files.js orders
 * the files themselves the same way.
 *
 *   IDV_TEST_ORDER=reverse          every suite's tests and child suites in reverse order
 *   IDV_TEST_ORDER=shuffle:<seed>   a seeded shuffle (the seed is a whole number; the same seed gives the same order)
 *   unset or "written"              as written
 *
 * Each suite's shuffle is seeded by the run's seed and the suite's full title, so one suite's order does not change
 * when another file is added. The root suite (the files) keeps the order mocha was given. A suite whose tests are the
 * steps of one story (each test builds on the state the previous one left) says so with `keepOrder(this, why)`: its
 * tests and child suites, and theirs, run as written. Every keepOrder is a debt: the reason says what to untangle.
 */
import Mocha from 'mocha';

export type TestOrder = { kind: 'written' } | { kind: 'reverse' } | { kind: 'shuffle'; seed: number };

/** Parses IDV_TEST_ORDER; throws with the accepted forms on anything else. */
export function parseTestOrder(value: string | undefined): TestOrder {
  if (!value || value === 'written') return { kind: 'written' };
  if (value === 'reverse') return { kind: 'reverse' };
  if (value === 'shuffle') {
    // Bare "shuffle" (mocha run directly): pick a seed and say it, so the run can be repeated.
    const seed = Math.floor(Math.random() * 1e9);
    process.stderr.write(`[test-order] shuffle:${seed} (repeat with IDV_TEST_ORDER=shuffle:${seed})\n`);
    return { kind: 'shuffle', seed };
  }
  const m = /^shuffle:(\d{1,15})$/.exec(value);
  if (m) return { kind: 'shuffle', seed: Number(m[1]) };
  throw new Error(`IDV_TEST_ORDER must be "written", "reverse" or "shuffle" or "shuffle:<whole number>", not ${JSON.stringify(value)}`);
}

/** 32-bit FNV-1a of a string (to mix a suite's title into the seed). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). Test ordering only, never for anything secret. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The list in the given order (a new array); `key` seeds the shuffle together with the run's seed. */
export function reorder<T>(list: readonly T[], order: TestOrder, key: string): T[] {
  const out = [...list];
  if (order.kind === 'reverse') return out.reverse();
  if (order.kind === 'shuffle') {
    const rnd = mulberry32(fnv1a(`${order.seed}:${key}`));
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  return out;
}

const KEEP = Symbol('idv.keepOrder');

/**
 * Marks a suite whose tests must run as written (steps of one story). `why` is required so the reason is in the
 * code: e.g. `describe('…', function () { keepOrder(this, 'each step continues the same booking'); … })`.
 */
export function keepOrder(suite: Mocha.Suite, why: string): void {
  if (!why.trim()) throw new Error('keepOrder: say why the tests depend on their order');
  (suite as Mocha.Suite & { [KEEP]?: string })[KEEP] = why;
}

/** True when the suite or one of its parents was marked with keepOrder. */
function keptInOrder(suite: Mocha.Suite | undefined): boolean {
  for (let s = suite; s; s = s.parent) if ((s as Mocha.Suite & { [KEEP]?: string })[KEEP]) return true;
  return false;
}

const order = parseTestOrder(process.env.IDV_TEST_ORDER);
if (order.kind !== 'written') {
  // runSuite is mocha's (protected in its types) step that runs one suite's tests, then its child suites.
  type RunSuite = (this: Mocha.Runner, suite: Mocha.Suite, fn: (err?: unknown) => void) => unknown;
  const proto = Mocha.Runner.prototype as unknown as { runSuite: RunSuite };
  const runSuite = proto.runSuite;
  proto.runSuite = function (this: Mocha.Runner, suite: Mocha.Suite, fn: (err?: unknown) => void) {
    if (!suite.root && !keptInOrder(suite)) {
      const key = suite.fullTitle();
      suite.tests = reorder(suite.tests, order, key);
      suite.suites = reorder(suite.suites, order, `${key}\u0000suites`);
    }
    return runSuite.call(this, suite, fn);
  };
}
