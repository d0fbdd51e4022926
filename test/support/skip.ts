/**
 * Skips the running test (or, from a `before` hook, its suite's tests) and says why: mocha's own `this.skip()` shows
 * only a pending title, and a silent skip can hide a feature that is claimed. In a test the reason joins its title
 * (so the spec line and the JSON reporter carry it); it is printed either way.
 */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  const t = ctx.test;
  if (t && (t as { type?: string }).type === 'test') t.title += ` (skipped: ${reason})`;
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}
