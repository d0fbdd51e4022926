#!/usr/bin/env node
// `npm run bench`: builds, then runs every benchmark under scripts/bench/ one after the other (each prints its own
// figures and is bounded in count and time). `npm run bench -- booking call` runs only those.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--if-needed'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const dir = path.join(root, 'dist', 'scripts', 'bench');
const wanted = process.argv.slice(2);
const all = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '')).sort();
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  if (!all.includes(name)) {
    console.error(`no benchmark "${name}" (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, [path.join(dir, `${name}.js`)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
