#!/usr/bin/env node
// Type-check and lint (`npm run typecheck`, `npm run lint`). With `--if-needed` they are skipped when nothing they read
// changed since they last passed: neither depends on the Node version that runs them, so CI's second `npm test` (on
// Node 24) reuses the first run's result, as it reuses the build. The stamp is written only after both passed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.check-stamp');
const INPUTS = ['settings.ts', 'lib', 'nodes', 'media-server', 'web', 'test', 'scripts', 'tsconfig.json', 'package.json', 'eslint.config.mjs', '.ci'];

/** A digest of every file the checks read (paths, sizes and contents), so an edit anywhere invalidates the stamp. */
function digest() {
  const h = crypto.createHash('sha256');
  const walk = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const f of fs.readdirSync(p).sort()) if (f !== 'node_modules' && !f.startsWith('.media')) walk(path.join(p, f));
    } else {
      h.update(path.relative(root, p)).update('\0').update(fs.readFileSync(p)).update('\0');
    }
  };
  for (const i of INPUTS) walk(path.join(root, i));
  return h.digest('hex');
}

function run(script) {
  const npmCli = process.env.npm_execpath;
  const res = npmCli
    ? spawnSync(process.execPath, [npmCli, 'run', script], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status === null ? 1 : res.status);
}

const current = digest();
if (process.argv.includes('--if-needed') && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === current) {
  console.log('check: typecheck and lint passed on these exact sources already; not run again');
  process.exit(0);
}
run('typecheck');
run('lint');
fs.mkdirSync(path.dirname(stamp), { recursive: true });
fs.writeFileSync(stamp, `${current}\n`);
