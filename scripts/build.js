#!/usr/bin/env node
// Builds everything into dist/: TypeScript (tsc, CommonJS), each node's .html/locales/icons beside its .js, the
// browser bundles (esbuild) and the vendored NL Design System CSS; and resources/editor.js, the lib/ validators and
// settings migrations bundled for Node-RED's editor (served by Node-RED at resources/<package name>/editor.js). `--if-needed` skips when dist is newer than every
// source file, so `npm start` and `npm test` can call it every time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, '.build-stamp');
const SOURCES = ['settings.ts', 'lib', 'nodes', 'media-server', 'web', 'test', 'scripts', 'tsconfig.json', 'package.json'];

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const f of fs.readdirSync(p)) {
    if (f === 'node_modules' || f.startsWith('.')) continue;
    max = Math.max(max, newestMtime(path.join(p, f)));
  }
  return max;
}

function upToDate() {
  let built;
  try {
    built = fs.statSync(stamp).mtimeMs;
  } catch {
    return false;
  }
  return SOURCES.every((s) => newestMtime(path.join(root, s)) <= built);
}

function copyDir(from, to) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) {
    const a = path.join(from, f);
    const b = path.join(to, f);
    if (fs.statSync(a).isDirectory()) copyDir(a, b);
    else fs.copyFileSync(a, b);
  }
}

function copyNodeAssets() {
  const nodesDir = path.join(root, 'nodes');
  if (!fs.existsSync(nodesDir)) return;
  for (const node of fs.readdirSync(nodesDir)) {
    const src = path.join(nodesDir, node);
    if (!fs.statSync(src).isDirectory()) continue;
    const out = path.join(dist, 'nodes', node);
    fs.mkdirSync(out, { recursive: true });
    for (const f of fs.readdirSync(src)) {
      const a = path.join(src, f);
      if (f.endsWith('.html')) fs.copyFileSync(a, path.join(out, f));
      else if ((f === 'locales' || f === 'icons') && fs.statSync(a).isDirectory()) copyDir(a, path.join(out, f));
    }
  }
}

async function bundleWeb() {
  const webDir = path.join(root, 'web');
  const outDir = path.join(dist, 'web');
  fs.mkdirSync(path.join(outDir, 'vendor'), { recursive: true });
  const entries = fs
    .readdirSync(webDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(webDir, f));
  if (entries.length) {
    const esbuild = require('esbuild');
    await esbuild.build({
      entryPoints: entries,
      outdir: outDir,
      bundle: true,
      format: 'iife',
      target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
      sourcemap: true,
      minify: true,
      logLevel: 'warning',
    });
  }
  for (const f of fs.readdirSync(webDir)) {
    if (/\.(css|svg|png|ico)$/.test(f)) fs.copyFileSync(path.join(webDir, f), path.join(outDir, f));
  }
  copyDir(path.join(webDir, 'assets'), path.join(outDir, 'assets'));
  // Vendored at build time so the runtime never serves from node_modules (and a published package carries them).
  const vendor = [
    // Components only (EUPL-1.2). Gemeente Utrecht's design tokens are its proprietary brand ("all rights reserved"):
    // the package ships its own neutral theme (web/theme.css) instead.
    ['@utrecht/component-library-css/dist/index.css', 'utrecht.css'],
  ];
  for (const [from, to] of vendor) fs.copyFileSync(require.resolve(from, { paths: [root] }), path.join(outDir, 'vendor', to));
}

/**
 * lib/node-config/editor.ts and the lib/ validators it imports, for the browser. lib/auth/method.ts imports
 * node:crypto (through lib/oidc/client.ts) to read private keys and certificates; the editor never holds a key (credentials stay on the server), so that import
 * resolves to a stub that refuses.
 */
async function bundleEditor() {
  const esbuild = require('esbuild');
  const outDir = path.join(root, 'resources');
  fs.mkdirSync(outDir, { recursive: true });
  const nodeBuiltinStub = {
    name: 'node-builtin-stub',
    setup(build) {
      build.onResolve({ filter: /^node:crypto$/ }, () => ({ path: 'node:crypto', namespace: 'idv-stub' }));
      build.onLoad({ filter: /.*/, namespace: 'idv-stub' }, () => ({
        contents: [
          'const refuse = () => { throw new Error("keys are checked by the runtime"); };',
          'export const createPrivateKey = refuse, createHash = refuse, X509Certificate = refuse, webcrypto = {};',
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
  await esbuild.build({
    entryPoints: [path.join(root, 'lib', 'node-config', 'editor.ts')],
    outfile: path.join(outDir, 'editor.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [nodeBuiltinStub],
  });
}

async function main() {
  const ifNeeded = process.argv.includes('--if-needed');
  if (ifNeeded && upToDate()) return;
  const t0 = Date.now();
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', path.join(root, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  copyNodeAssets();
  await bundleWeb();
  await bundleEditor();
  fs.writeFileSync(stamp, new Date().toISOString() + '\n');
  console.log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(`build failed: ${e.message}`);
  process.exit(1);
});
