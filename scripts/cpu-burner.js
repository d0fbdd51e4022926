#!/usr/bin/env node
/*
 * A bounded CPU burner: N worker threads that spin for at most T seconds, so a test set can be run on a busy machine
 * on purpose (issue 18: "the suite should pass with the CPU busy"). It ends by itself after T seconds, when its parent
 * goes away (IPC channel closed, or the parent pid changes), on SIGINT/SIGTERM, and on `stop()`; it never outlives
 * the run that started it.
 *
 *   node scripts/cpu-burner.js <workers> [seconds]     stand-alone (default 600 s); Ctrl-C ends it
 *   IDV_TEST_BURN=<workers> npm test                   scripts/test-files.js runs the set under it
 *
 * As a module: `startBurner({ workers, seconds })` forks this file and returns `{ pid, stop() }`.
 */
'use strict';
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const { fork } = require('node:child_process');
const { setInterval } = require('node:timers');

/** This file: forked as the burner process, and run again by each worker thread. */
const SELF = module.filename;

/** Upper bound of any burn, whatever was asked (seconds): a forgotten burner must not hold the machine for long. */
const MAX_SECONDS = 3600;

function spin(until) {
  // Busy arithmetic in slices, so the thread notices the deadline without a timer.
  let x = 0;
  while (Date.now() < until) for (let i = 0; i < 1e5; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

/**
 * Forks a burner process with `workers` spinning threads for at most `seconds` (capped at MAX_SECONDS).
 * Returns { pid, stop() }; stop() kills it (SIGTERM) and is safe to call twice.
 */
function startBurner({ workers, seconds = 600 }) {
  const n = Math.floor(Number(workers));
  if (!(n >= 1 && n <= 64)) throw new Error(`cpu burner: workers must be a whole number from 1 to 64, not ${JSON.stringify(workers)}`);
  const child = fork(SELF, [String(n), String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let stopped = false;
  return {
    pid: child.pid,
    stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
    },
  };
}

function main() {
  const n = Math.floor(Number(process.argv[2]));
  const asked = process.argv[3] === undefined ? 600 : Number(process.argv[3]);
  if (!(n >= 1 && n <= 64) || !(asked > 0)) {
    process.stderr.write('usage: node scripts/cpu-burner.js <workers 1-64> [seconds]\n');
    process.exit(2);
  }
  const seconds = Math.min(asked, MAX_SECONDS);
  const until = Date.now() + seconds * 1000;
  const threads = [];
  for (let i = 0; i < n; i++) threads.push(new Worker(SELF, { workerData: { until } }));
  process.stderr.write(`[cpu-burner] pid ${process.pid}: ${n} busy thread(s) for at most ${seconds} s\n`);
  const end = (why) => {
    process.stderr.write(`[cpu-burner] pid ${process.pid}: stopped (${why})\n`);
    for (const t of threads) t.terminate();
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => end(sig));
  if (process.send) process.on('disconnect', () => end('parent gone'));
  const parent = process.ppid;
  // Without an IPC channel (stand-alone), a parent that dies re-parents us: notice it.
  setInterval(() => process.ppid !== parent && end('parent gone'), 1000).unref();
  setTimeout(() => end(`${seconds} s passed`), seconds * 1000);
}

if (!isMainThread) spin(workerData.until);
else if (require.main === module) main();

module.exports = { startBurner, MAX_SECONDS };
