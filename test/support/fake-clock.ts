/**
 * A shifted wall clock for proving that the suite does not depend on the time of day, the weekday or DST
 * (`npm run test:clock`, scripts/test-clock.js). Loaded with `node --require` into the mocha process and, through
 * NODE_OPTIONS, into every runtime the tests start, so all of them share one offset:
 *
 *   IDV_TEST_CLOCK_OFFSET_MS=<ms>   Date.now() and `new Date()` answer the real time plus this offset.
 *
 * Time keeps running (only the origin moves), so timeouts, backoffs and durations behave as without it; luxon reads
 * Date.now() and follows. Without the variable this file changes nothing. Test support only: the product has no
 * clock switch an operator could turn on by accident.
 */
const raw = process.env.IDV_TEST_CLOCK_OFFSET_MS;
const offset = raw === undefined || raw === '' ? 0 : Number(raw);
if (!Number.isFinite(offset)) throw new Error(`IDV_TEST_CLOCK_OFFSET_MS must be a number of milliseconds, got "${raw}"`);

if (offset !== 0 && !(globalThis as { __idvFakeClock?: boolean }).__idvFakeClock) {
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  (globalThis as { __idvFakeClock?: boolean }).__idvFakeClock = true;
}

/** The offset in force in this process (0 without a fake clock). */
export const clockOffsetMs = offset;
