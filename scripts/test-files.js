#!/usr/bin/env node
/*
 * Runs mocha (with .mocharc.json) over the compiled tests: every test file, or with IDV_TEST_SET=runtime only the files
 * whose outcome can depend on the Node.js version that runs them. `npm test` calls this; CI (.ci/run) runs `npm test`
 * in full on the machine's Node 20 and again with IDV_TEST_SET=runtime on Node 24, which keeps the whole CI run
 * well under 30 minutes on two cores. Everything else (pages, layouts, networks, fault bursts) exercises our code and
 * the browsers, not the Node version, and runs once.
 *
 * The runtime set: every unit and node test (fast; they load every native addon and library the product uses:
 * better-sqlite3, sharp, jose, openid-client, the mediasoup worker through media-server), plus the end-to-end tests
 * that start the real runtime, Node-RED, a real call and the installed package on that Node.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const tests = path.join(root, 'dist', 'test');

/** End-to-end files of the runtime set (compiled names under dist/test/e2e). */
const RUNTIME_E2E = ['runtime.test.js', 'npm-start.test.js', 'package-install.test.js', 'call.test.js', 'journeys.test.js', 'idcontact.test.js', 'call-extras.test.js'];

function walk(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.name.endsWith('.test.js')) out.push(path.relative(root, p));
  }
  return out;
}

function files(set) {
  const all = walk(tests);
  if (!set || set === 'all') return all;
  if (set !== 'runtime') throw new Error(`IDV_TEST_SET must be "all" or "runtime", not ${JSON.stringify(set)}`);
  const e2e = RUNTIME_E2E.map((f) => path.join('dist', 'test', 'e2e', f));
  const missing = e2e.filter((f) => !all.includes(f));
  // A renamed or removed file must not shrink the set silently.
  if (missing.length) throw new Error(`the runtime test set names files that do not exist: ${missing.join(', ')}`);
  return all.filter((f) => f.startsWith(path.join('dist', 'test', 'unit')) || f.startsWith(path.join('dist', 'test', 'nodes')) || e2e.includes(f));
}

let list;
try {
  list = files(process.env.IDV_TEST_SET);
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}
if (process.env.IDV_TEST_SET === 'runtime') process.stderr.write(`[test-files] runtime set: ${list.length} files\n`);
// The store suites run on both engines in the full set; on the second Node.js version SQLite is enough (the PostgreSQL
// driver is plain JavaScript): one PostgreSQL cluster per CI run (test/support/engines.ts, IDV_TEST_ENGINES).
const env = { ...process.env };
if (process.env.IDV_TEST_SET === 'runtime' && !env.IDV_TEST_ENGINES) {
  env.IDV_TEST_ENGINES = 'sqlite';
  process.stderr.write('[test-files] store suites on SQLite only (PostgreSQL ran in the full set)\n');
}
const mocha = spawn(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...list, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => mocha.kill(sig));
mocha.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
