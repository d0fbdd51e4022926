#!/usr/bin/env node
// Summarises V8 CPU profiles (node --cpu-prof, e.g. BENCH_CPU_PROF=<dir> of scripts/bench/booking-http.ts): self time
// by function and by where the code lives (our lib/ files, or the npm package), so the top costs of a request path
// can be read without a browser. Usage: node scripts/profile-top.js <file or dir> [rows=25]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const target = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!target) {
  console.error('usage: node scripts/profile-top.js <profile.cpuprofile | dir> [rows]');
  process.exit(2);
}
const files = fs.statSync(target).isDirectory()
  ? fs.readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f))
  : [target];

function where(url) {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + 6);
  if (url.startsWith('node:')) return url;
  return url;
}

for (const file of files) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Sample time deltas are in microseconds; each sample is charged to its node.
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  const byWhere = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const w = where(cf.url);
    const fn = `${cf.functionName || '(anonymous)'}  ${w}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byWhere.set(w, (byWhere.get(w) ?? 0) + us);
  }
  // Inclusive time per place: a sample counts once for every place on its stack (what that code and all it calls cost).
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      const key = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
      if (!seen.has(key)) {
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + us);
      }
    }
  }
  const idle = [...byFn].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  console.log(`\n${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of busy time)`);
  console.log('-- by place');
  for (const [k, v] of [...byWhere].filter(([k]) => k !== '(native/vm)' || true).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
  console.log('-- by function (self time)');
  for (const [k, v] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
  if (process.env.PROFILE_INCLUSIVE) {
    const re = new RegExp(process.env.PROFILE_INCLUSIVE);
    console.log(`-- inclusive, places matching ${re}`);
    for (const [k, v] of [...incl].filter(([k]) => re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
  }
}
