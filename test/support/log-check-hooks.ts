/**
 * Mocha side of test/support/server-log.ts (loaded by .mocharc.json "require"): fails the test during which a watched
 * server logged an unexpected warning or error.
 */
import Mocha from 'mocha';
import { UNEXPECTED, unexpectedServerLines } from './server-log';

/**
 * Every test's own function is followed by the check, so an unexpected line fails that test and the run goes on (a
 * failing root afterEach hook would end the whole run). Done by wrapping each test's function as mocha adds it; the
 * lines a server writes while stopping in an `after` hook are checked once at the end (root afterAll).
 */
type TestFn = (this: Mocha.Context, done?: Mocha.Done) => unknown;

function withLogCheck(fn: TestFn): TestFn {
  const fail = (err: unknown): unknown => {
    // The test failed by itself: its server lines explain it, and must not fail the next test.
    const problems = unexpectedServerLines();
    if (problems && err instanceof Error) err.message += `\n  (and the servers logged:\n  ${problems})`;
    return err;
  };
  const check = () => {
    const problems = unexpectedServerLines();
    if (problems) throw new Error(`${UNEXPECTED}:\n  ${problems}`);
  };
  if (fn.length > 0) {
    return function (this: Mocha.Context, done?: Mocha.Done) {
      return fn.call(this, (err?: unknown) => {
        if (err) return done?.(fail(err));
        try {
          check();
          done?.();
        } catch (e) {
          done?.(e);
        }
      });
    };
  }
  return async function (this: Mocha.Context) {
    try {
      await fn.call(this);
    } catch (err) {
      throw fail(err);
    }
    check();
  };
}

const addTest = Mocha.Suite.prototype.addTest;
Mocha.Suite.prototype.addTest = function (this: Mocha.Suite, test: Mocha.Test) {
  if (test.fn) test.fn = withLogCheck(test.fn as TestFn) as Mocha.Func;
  return addTest.call(this, test);
};

/** Mocha root hooks (registered through .mocharc.json "require"). */
export const mochaHooks = {
  afterAll(): void {
    const problems = unexpectedServerLines();
    if (problems) throw new Error(`${UNEXPECTED} (after the last test, while stopping):\n  ${problems}`);
  },
};
