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
 *
 * Order and load (issue 18: the suite must not depend on either):
 *   IDV_TEST_ORDER=reverse | shuffle:<seed> | shuffle   files in reverse or a seeded shuffle (plain "shuffle" picks a
 *       seed and prints it); mocha orders the tests inside each file the same way (test/support/test-order.ts).
 *   IDV_TEST_BURN=<n>   runs the set with n busy CPU threads beside it (scripts/cpu-burner.js), stopped when mocha
 *       ends and after IDV_TEST_BURN_SECONDS (default 3600) at the latest.
 * Paths given as arguments (files or directories under dist/test) replace the set; other arguments go to mocha:
 *   IDV_TEST_ORDER=shuffle:7 node scripts/test-files.js dist/test/unit dist/test/nodes
 * Refused before anything runs (exit 2, with the reason): `--exit` (or `exit` in .mocharc.json), which would hide open
 * handles, and a configuration that lets a committed `.only` pass (runnerConfigProblems; test/unit/test-runner.test.ts).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startBurner } = require('./cpu-burner');

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

/** Arguments naming existing paths select the files (directories walked); the rest are mocha options. */
function splitArgs(args) {
  const chosen = [];
  const rest = [];
  for (const a of args) {
    const p = path.resolve(root, a);
    if (!a.startsWith('-') && fs.existsSync(p)) chosen.push(...(fs.statSync(p).isDirectory() ? walk(p) : [path.relative(root, p)]));
    // A mistyped file name must not turn into a run of the whole set.
    else if (!a.startsWith('-') && /\.js$|^dist\//.test(a)) throw new Error(`no such test file or directory: ${a}`);
    else rest.push(a);
  }
  return { chosen, rest };
}

/** The config files mocha would read besides .mocharc.json (it takes the first it finds, in this order). */
const OTHER_MOCHA_CONFIGS = ['.mocharc.js', '.mocharc.cjs', '.mocharc.yaml', '.mocharc.yml', '.mocharc.jsonc'];

/**
 * What in the mocha configuration under `dir` would let the suite lie (issue 18), as sentences (none: fine):
 * `exit: true` ends mocha when the tests end even if a server, socket or timer is still open, which hides exactly the
 * open handles a close handler should have released; without `forbid-only: true` a committed `.only` runs one test
 * and passes. Also refused: a second config file (mocha would read it instead of .mocharc.json) and a "mocha" key in
 * package.json (merged in by mocha). Throws only when .mocharc.json cannot be read as JSON.
 */
function runnerConfigProblems(dir) {
  const problems = [];
  const rc = JSON.parse(fs.readFileSync(path.join(dir, '.mocharc.json'), 'utf8'));
  if (rc.exit) problems.push('.mocharc.json sets "exit": mocha would end with handles still open and hide them; remove it');
  if (rc['forbid-only'] !== true) problems.push('.mocharc.json must set "forbid-only": true, so a committed .only fails the run');
  for (const f of OTHER_MOCHA_CONFIGS) if (fs.existsSync(path.join(dir, f))) problems.push(`${f} exists: mocha would read it instead of .mocharc.json; keep one config`);
  const pkg = path.join(dir, 'package.json');
  if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).mocha !== undefined) problems.push('package.json has a "mocha" key: keep the configuration in .mocharc.json');
  return problems;
}

/** Mocha options the suite refuses from the command line (same reason as `exit` above), as sentences. */
function refusedArgs(args) {
  return args
    .filter((a) => a === '--exit' || a.startsWith('--exit=') || a === '--no-forbid-only')
    .map((a) => `${a} is refused: ${a.startsWith('--exit') ? 'it hides open handles (a server, socket or timer a test left open)' : 'a committed .only must fail the run'}`);
}

/** The file order asked for by IDV_TEST_ORDER (same forms as test/support/test-order.ts, plus bare "shuffle"). */
function fileOrder(value) {
  if (!value || value === 'written') return { name: 'written', apply: (l) => l };
  if (value === 'reverse') return { name: 'reverse', apply: (l) => [...l].reverse() };
  if (value === 'shuffle' || /^shuffle:\d{1,15}$/.test(value)) {
    const seed = value === 'shuffle' ? Math.floor(Math.random() * 1e9) : Number(value.slice('shuffle:'.length));
    // The same mulberry32 as the in-file order, seeded by the run's seed (see test-order.ts).
    let a = seed >>> 0;
    const rnd = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const apply = (l) => {
      const out = [...l];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    return { name: `shuffle:${seed}`, apply };
  }
  throw new Error(`IDV_TEST_ORDER must be "written", "reverse", "shuffle" or "shuffle:<whole number>", not ${JSON.stringify(value)}`);
}

function main() {
  let list;
  let mochaArgs;
  let order;
  try {
    const refused = [...refusedArgs(process.argv.slice(2)), ...runnerConfigProblems(root)];
    if (refused.length) throw new Error(refused.join('\n'));
    const { chosen, rest } = splitArgs(process.argv.slice(2));
    list = chosen.length ? chosen : files(process.env.IDV_TEST_SET);
    mochaArgs = rest;
    order = fileOrder(process.env.IDV_TEST_ORDER);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  list = order.apply(list);
  if (process.env.IDV_TEST_SET === 'runtime') process.stderr.write(`[test-files] runtime set: ${list.length} files\n`);
  // The store suites run on both engines in the full set; on the second Node.js version SQLite is enough (the PostgreSQL
  // driver is plain JavaScript): one PostgreSQL cluster per CI run (test/support/engines.ts, IDV_TEST_ENGINES).
  const env = { ...process.env };
  if (process.env.IDV_TEST_SET === 'runtime' && !env.IDV_TEST_ENGINES) {
    env.IDV_TEST_ENGINES = 'sqlite';
    process.stderr.write('[test-files] store suites on SQLite only (PostgreSQL ran in the full set)\n');
  }
  if (order.name !== 'written') {
    // A bare "shuffle" becomes its seed, so mocha orders inside files with the same one and the run can be repeated.
    env.IDV_TEST_ORDER = order.name;
    process.stderr.write(`[test-files] order ${order.name} (repeat with IDV_TEST_ORDER=${order.name})\n`);
  }
  let burner;
  if (process.env.IDV_TEST_BURN) {
    const seconds = Number(process.env.IDV_TEST_BURN_SECONDS || 3600);
    try {
      burner = startBurner({ workers: process.env.IDV_TEST_BURN, seconds });
    } catch (e) {
      process.stderr.write(`IDV_TEST_BURN: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`[test-files] under load: ${process.env.IDV_TEST_BURN} busy thread(s), burner pid ${burner.pid}\n`);
  }
  const mocha = spawn(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...list, ...mochaArgs], { cwd: root, stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => mocha.kill(sig));
  mocha.on('exit', (code, signal) => {
    burner?.stop();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

if (require.main === module) main();
module.exports = { runnerConfigProblems, refusedArgs };
