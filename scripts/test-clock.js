#!/usr/bin/env node
// Runs tests with the wall clock of every Node process (mocha and the runtimes it starts) and every browser page
// shifted to the hours that used to break them: the next 15:15 and 23:50 Amsterdam time, a Sunday, and five minutes
// before the next DST change (so the run crosses it). See test/support/fake-clock.ts.
//
//   npm run test:clock                          all four clocks, the whole suite (after npm test has built dist/)
//   npm run test:clock -- --at 23:50 dist/test/e2e/booking.test.js
//   npm run test:clock -- dist/test/unit dist/test/nodes   (a directory: its *.test.js files)
//
// --at takes 15:15, 23:50, sunday, dst or an ISO 8601 instant with offset. Exit code: the first failing run's.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { DateTime } = require('luxon');

const ZONE = 'Europe/Amsterdam';
const ROOT = path.resolve(__dirname, '..');
const PRELOAD = path.join(ROOT, 'dist', 'test', 'support', 'fake-clock.js');

/** The first instant after `from` at which Amsterdam's UTC offset changes (hour steps, then minute steps). */
function nextDstChange(from) {
  let t = from.setZone(ZONE).startOf('hour');
  const start = t.offset;
  for (let i = 0; i < 24 * 400 && t.offset === start; i++) t = t.plus({ hours: 1 });
  let lo = t.minus({ hours: 1 });
  while (lo.plus({ minutes: 1 }).offset === start) lo = lo.plus({ minutes: 1 });
  return lo.plus({ minutes: 1 });
}

/**
 * The next time of day `hour:minute` in Amsterdam (today's, or tomorrow's once today's has passed). Ahead, never
 * behind: the browsers keep cookies by the real clock, so a server clock set back past a cookie's Expires makes the
 * cookie (e.g. the identity provider's interaction cookie) dead on arrival, a failure of the harness, not of the code.
 */
function nextTimeOfDay(today, hour, minute) {
  const t = today.set({ hour, minute, second: 0, millisecond: 0 });
  return t > today ? t : t.plus({ days: 1 });
}

function target(name, now) {
  const today = now.setZone(ZONE);
  switch (name) {
    case '15:15':
      return nextTimeOfDay(today, 15, 15);
    case '23:50':
      return nextTimeOfDay(today, 23, 50);
    case 'sunday':
      return today.plus({ days: (7 - today.weekday) % 7 || 7 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    case 'dst':
      return nextDstChange(now).minus({ minutes: 5 });
    default: {
      const t = DateTime.fromISO(name, { setZone: true });
      if (!t.isValid) throw new Error(`--at ${name}: not one of 15:15, 23:50, sunday, dst or an ISO 8601 instant`);
      return t;
    }
  }
}

const args = process.argv.slice(2);
const clocks = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--at') clocks.push(args[++i]);
  // A directory stands for its test files: mocha given a directory would load every .js in it, helper scripts too
  // (test/unit/media-server/wrtc-peers-child.js exits its process when loaded), and stop silently with exit code 1.
  else files.push(fs.existsSync(args[i]) && fs.statSync(args[i]).isDirectory() ? path.join(args[i], '**', '*.test.js') : args[i]);
}
if (clocks.length === 0) clocks.push('15:15', '23:50', 'sunday', 'dst');
if (files.length === 0) files.push('dist/test/**/*.test.js');

let status = 0;
const summary = [];
for (const name of clocks) {
  const at = target(name, DateTime.utc());
  const offset = at.toMillis() - Date.now();
  console.log(`\n[test:clock] ${name}: clock set to ${at.setZone(ZONE).toISO()} (${ZONE}), offset ${offset} ms`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), '--recursive', ...files], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      IDV_TEST_CLOCK_OFFSET_MS: String(offset),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${PRELOAD}`.trim(),
    },
  });
  summary.push(`${name.padEnd(8)} ${at.setZone(ZONE).toISO()}  exit ${r.status}  ${Math.round((Date.now() - started) / 1000)} s`);
  if (r.status !== 0 && status === 0) status = r.status ?? 1;
}
console.log(`\n[test:clock] summary\n  ${summary.join('\n  ')}`);
process.exit(status);
