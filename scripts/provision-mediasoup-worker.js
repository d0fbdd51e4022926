#!/usr/bin/env node
'use strict';
/*
 * Provisions the mediasoup 3.8.4 worker binary without GitHub.
 *
 * mediasoup's own install script downloads a prebuilt worker from GitHub (or builds it from sources fetched from
 * GitHub), which is unreachable from the npm registry alone. Debian packages that exact worker version
 * (`mediasoup-worker 3.8.4~dfsg1-1`, suite experimental), so we fetch it with apt using a *side* configuration
 * (own sources list, state and cache under .media-worker/apt/) so the system's apt sources are never changed, then
 * extract it with dpkg-deb. Shared libraries the machine lacks (libsrtp2-1, libusrsctp2, ...) are downloaded the
 * same way from the system's own Debian suite and extracted beside the binary; a small wrapper script
 * `.media-worker/mediasoup-worker` runs the binary with LD_LIBRARY_PATH pointing there, so no root is needed. If that
 * fails and we are root, the libraries are installed with the system's apt-get instead.
 *
 * mediasoup is an optional dependency of the package: installed as a dependency somewhere whose package.json does not
 * deny mediasoup's own install script (Node-RED's palette), npm runs that script, it fails without GitHub, and npm drops
 * mediasoup instead of failing the whole install. This script then installs mediasoup's JavaScript (with its install
 * script skipped) into .media-worker/js, where media-server/mediasoup-loader.ts looks when the normal place is empty.
 *
 * Run it as `npx idv-provision-worker` in the Node-RED user directory (the package's bin entry), or as
 * `node scripts/provision-mediasoup-worker.js` in a checkout.
 *
 * Environment:
 *   IDV_SKIP_WORKER=1        skip entirely (exit 0)
 *   MEDIASOUP_WORKER_BIN     a deployment's own worker binary: checked and used, nothing downloaded
 *   IDV_DEBIAN_MIRROR        Debian mirror URI to use instead of the one found in /etc/apt/sources.list(.d)
 *   IDV_MEDIA_WORKER_DIR     where to provision (default: <package root>/.media-worker)
 *
 * Exit code 0 when a working worker is available (or skipped), 1 with a clear message otherwise.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const WORKER_PACKAGE = 'mediasoup-worker';
const WORKER_VERSION = '3.8.4~dfsg1-1';
const WORKER_SUITE = 'experimental';
const MEDIASOUP_NPM_VERSION = '3.8.4';
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

// Shared objects the Debian worker links against, and the Debian (bookworm) package that ships each. Only sonames
// that `ldd` reports missing are fetched; an unknown missing soname is a clear error rather than a guess.
const SONAME_PACKAGES = {
  'libsrtp2.so.1': 'libsrtp2-1',
  'libusrsctp.so.2': 'libusrsctp2',
  'libuv.so.1': 'libuv1',
  'libssl.so.3': 'libssl3',
  'libcrypto.so.3': 'libssl3',
  'libstdc++.so.6': 'libstdc++6',
  'libgcc_s.so.1': 'libgcc-s1',
};

const PACKAGE_ROOT = path.resolve(__dirname, '..');
const WORK_DIR = path.resolve(process.env.IDV_MEDIA_WORKER_DIR || path.join(PACKAGE_ROOT, '.media-worker'));
const WRAPPER = path.join(WORK_DIR, 'mediasoup-worker');
const STAMP = path.join(WORK_DIR, 'PROVISIONED');
const JS_DIR = path.join(WORK_DIR, 'js');
const APT_DIR = path.join(WORK_DIR, 'apt');
const ROOT_DIR = path.join(WORK_DIR, 'root');

class ProvisionError extends Error {}

function say(message) {
  process.stdout.write(`[idv worker] ${message}\n`);
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) throw new ProvisionError(`cannot run ${cmd}: ${res.error.message}`);
  return res;
}

function runOk(cmd, args, opts = {}) {
  const res = run(cmd, args, opts);
  if (res.status !== 0) {
    const detail = `${res.stderr || ''}${res.stdout || ''}`.trim().split('\n').slice(-8).join('\n');
    throw new ProvisionError(`${cmd} ${args.filter((a) => !a.startsWith('Dir::')).join(' ')} failed (exit ${res.status}):\n${detail}`);
  }
  return res;
}

function hasCommand(cmd) {
  return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Proves the binary really works by letting mediasoup itself spawn it (the 3.8.4 worker has no --version flag and
 * refuses to start outside mediasoup) and create a router, in a child process so the env var that mediasoup reads
 * at require time is set before the require.
 */
function verifyWorker(bin) {
  const mediasoupMain = findMediasoup();
  if (!mediasoupMain) throw new ProvisionError(`the mediasoup ${MEDIASOUP_NPM_VERSION} npm package is missing, so the worker cannot be checked`);
  const probe = `
    const ms = require(${JSON.stringify(mediasoupMain)});
    if (ms.version !== ${JSON.stringify(MEDIASOUP_NPM_VERSION)}) { console.error('mediasoup npm version is ' + ms.version); process.exit(3); }
    ms.createWorker({ logLevel: 'error' })
      .then(async (w) => {
        const r = await w.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
        const t = await r.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }] });
        t.close(); w.close(); process.exit(0);
      })
      .catch((e) => { console.error(e && e.message); process.exit(2); });`;
  const res = run(process.execPath, ['-e', probe], {
    env: { ...process.env, MEDIASOUP_WORKER_BIN: bin, DEBUG: '' },
    timeout: 30000,
  });
  if (res.status !== 0) {
    throw new ProvisionError(`the worker at ${bin} does not start under mediasoup ${MEDIASOUP_NPM_VERSION}: ${(res.stderr || res.stdout || `signal ${res.signal}`).trim()}`);
  }
}

/** mediasoup's entry point beside the package, or in .media-worker/js; undefined when neither has it. */
function findMediasoup() {
  for (const paths of [[PACKAGE_ROOT], [JS_DIR]]) {
    try {
      return require.resolve('mediasoup', { paths });
    } catch {
      // not there: try the next place
    }
  }
  return undefined;
}

/**
 * Installs mediasoup's JavaScript into .media-worker/js with its install script skipped (that script would build the
 * worker from sources it cannot download). Uses the npm that runs us (npx / npm run) or the one on PATH.
 */
function ensureMediasoupJs() {
  if (findMediasoup()) return;
  say(`the mediasoup ${MEDIASOUP_NPM_VERSION} npm package is missing (npm dropped the optional dependency): installing it without its install script into ${JS_DIR}`);
  fs.mkdirSync(JS_DIR, { recursive: true });
  if (!fs.existsSync(path.join(JS_DIR, 'package.json'))) fs.writeFileSync(path.join(JS_DIR, 'package.json'), '{"private":true}\n');
  const npmCli = process.env.npm_execpath && /npm-cli\.js$|npx-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath.replace(/npx-cli\.js$/, 'npm-cli.js') : undefined;
  const [cmd, pre] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  runOk(cmd, [...pre, 'install', '--prefix', JS_DIR, '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev', `mediasoup@${MEDIASOUP_NPM_VERSION}`]);
  if (!findMediasoup()) throw new ProvisionError(`mediasoup ${MEDIASOUP_NPM_VERSION} is still not found after installing it into ${JS_DIR}`);
}

/** Parses one-line (.list) and deb822 (.sources) apt sources into {uris, suites, components, signedBy}. */
function readSystemSources() {
  const entries = [];
  const files = [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push(path.join(dir, name));
    }
  }
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const fields = {};
        for (const line of stanza.split('\n')) {
          if (/^\s*#/.test(line)) continue;
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) fields[m[1].toLowerCase()] = m[2].trim();
        }
        if (!fields.uris || !(fields.types || '').split(/\s+/).includes('deb')) continue;
        if ((fields.enabled || 'yes').toLowerCase() === 'no') continue;
        for (const uri of fields.uris.split(/\s+/)) {
          entries.push({ uri, suites: (fields.suites || '').split(/\s+/), signedBy: fields['signed-by'] });
        }
      }
    } else {
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*/, '').trim();
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (!m) continue;
        const opt = /signed-by=(\S+)/.exec(m[1] || '');
        entries.push({ uri: m[2], suites: [m[3]], signedBy: opt ? opt[1] : undefined });
      }
    }
  }
  return entries;
}

function systemCodename() {
  try {
    const m = /^VERSION_CODENAME=(.*)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return m ? m[1].replace(/"/g, '').trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the side sources list: the system's own Debian mirror for experimental (the worker) and its suites (libs). */
function sideSourcesList() {
  const codename = systemCodename();
  const entries = readSystemSources();
  const isDebianArchive = (e) => /\/debian\/?$/.test(e.uri) && e.suites.some((s) => !s.includes('security'));
  let main = entries.find((e) => isDebianArchive(e) && /deb\.debian\.org/.test(e.uri)) || entries.find(isDebianArchive);
  if (process.env.IDV_DEBIAN_MIRROR) main = { uri: process.env.IDV_DEBIAN_MIRROR, suites: [], signedBy: undefined };
  if (!main) {
    throw new ProvisionError('no Debian mirror found in /etc/apt/sources.list(.d); set IDV_DEBIAN_MIRROR (e.g. the URI of a Debian mirror) or MEDIASOUP_WORKER_BIN');
  }
  const keyring = main.signedBy || (fs.existsSync(DEFAULT_KEYRING) ? DEFAULT_KEYRING : undefined);
  const opt = keyring ? `[signed-by=${keyring}] ` : '';
  const lines = [`deb ${opt}${main.uri} ${WORKER_SUITE} main`];
  // Libraries come from the system's own release (and its security updates), never from experimental: experimental
  // is NotAutomatic, so apt prefers these candidates.
  const libSuites = new Set();
  for (const e of entries) {
    if (e.uri !== main.uri && !/debian-security/.test(e.uri)) continue;
    for (const s of e.suites) {
      if (codename && s.startsWith(codename)) libSuites.add(`${e.uri} ${s}|${e.signedBy || keyring || ''}`);
    }
  }
  if (libSuites.size === 0 && codename) libSuites.add(`${main.uri} ${codename}|${keyring || ''}`);
  for (const item of libSuites) {
    const [source, key] = item.split('|');
    lines.push(`deb ${key ? `[signed-by=${key}] ` : ''}${source} main`);
  }
  say(`using the system's Debian mirror ${main.uri} (suites: ${WORKER_SUITE} for the worker${codename ? `, ${codename} for libraries` : ''})`);
  return lines.join('\n') + '\n';
}

function aptOptions() {
  const opts = {
    'Dir::Etc::SourceList': path.join(APT_DIR, 'sources.list'),
    'Dir::Etc::SourceParts': '/dev/null',
    'Dir::Etc::Preferences': '/dev/null',
    'Dir::Etc::PreferencesParts': '/dev/null',
    'Dir::State': path.join(APT_DIR, 'state'),
    'Dir::State::status': path.join(APT_DIR, 'state', 'status'),
    'Dir::Cache': path.join(APT_DIR, 'cache'),
    'APT::Get::List-Cleanup': 'false',
  };
  // As root apt drops to the _apt user for downloads, which may not reach a project folder under /root or /work.
  if (typeof process.getuid === 'function' && process.getuid() === 0) opts['APT::Sandbox::User'] = 'root';
  return Object.entries(opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

function prepareAptDirs() {
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'debs']) fs.mkdirSync(path.join(APT_DIR, d), { recursive: true });
  const status = path.join(APT_DIR, 'state', 'status');
  if (!fs.existsSync(status)) fs.writeFileSync(status, '');
  fs.writeFileSync(path.join(APT_DIR, 'sources.list'), sideSourcesList());
}

function aptDownload(pkgs) {
  const debsDir = path.join(APT_DIR, 'debs');
  for (const f of fs.readdirSync(debsDir)) fs.rmSync(path.join(debsDir, f), { force: true });
  runOk('apt-get', ['-q', ...aptOptions(), 'download', ...pkgs], { cwd: debsDir });
  return fs.readdirSync(debsDir).filter((f) => f.endsWith('.deb')).map((f) => path.join(debsDir, f));
}

function findFile(dir, name) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return undefined;
}

function libDirs(root) {
  const dirs = new Set();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.so(\.\d+)*$/.test(entry.name)) dirs.add(dir);
    }
  };
  walk(root);
  return [...dirs];
}

function missingSonames(bin, dirs) {
  const env = { ...process.env, LD_LIBRARY_PATH: [...dirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const res = runOk('ldd', [bin], { env });
  return [...res.stdout.matchAll(/^\s*(\S+)\s+=>\s+not found/gm)].map((m) => m[1]);
}

function writeWrapper(binRel, libRels) {
  // Paths relative to the wrapper's own folder so the project can be moved; `exec` keeps the pid and the
  // channel file descriptors (3..6) that mediasoup hands to the worker.
  const lib = libRels.map((d) => `$here/${d}`).join(':');
  const script = [
    '#!/bin/sh',
    '# Generated by scripts/provision-mediasoup-worker.js: runs Debian\'s mediasoup-worker with the libraries extracted beside it.',
    'here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)',
    lib ? `LD_LIBRARY_PATH="${lib}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; export LD_LIBRARY_PATH` : '',
    `exec "$here/${binRel}" "$@"`,
    '',
  ].filter((l) => l !== '').join('\n') + '\n';
  const tmp = `${WRAPPER}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, script, { mode: 0o755 });
  fs.renameSync(tmp, WRAPPER);
}

function provision() {
  if (process.platform !== 'linux') throw new ProvisionError(`automatic provisioning needs Debian/Linux (this is ${process.platform})`);
  for (const cmd of ['apt-get', 'dpkg-deb', 'ldd']) {
    if (!hasCommand(cmd)) throw new ProvisionError(`${cmd} not found: automatic provisioning needs a Debian-based system`);
  }
  fs.mkdirSync(WORK_DIR, { recursive: true });
  prepareAptDirs();
  say(`apt-get update with a side configuration in ${APT_DIR} (system apt sources untouched)`);
  runOk('apt-get', ['-q', ...aptOptions(), 'update']);

  // Extract into a staging folder first so a failure never leaves a half-written root behind.
  const staging = path.join(WORK_DIR, `root.staging-${process.pid}`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging);
  try {
    say(`downloading ${WORKER_PACKAGE}=${WORKER_VERSION}`);
    for (const deb of aptDownload([`${WORKER_PACKAGE}=${WORKER_VERSION}`])) runOk('dpkg-deb', ['-x', deb, staging]);
    const bin = findFile(staging, 'mediasoup-worker');
    if (!bin) throw new ProvisionError(`${WORKER_PACKAGE} ${WORKER_VERSION} contains no mediasoup-worker binary`);

    let missing = missingSonames(bin, libDirs(staging));
    const installedSystemWide = [];
    for (let round = 0; missing.length > 0 && round < 4; round++) {
      const unknown = missing.filter((s) => !SONAME_PACKAGES[s]);
      if (unknown.length) throw new ProvisionError(`the worker needs libraries with no known Debian package: ${unknown.join(', ')}`);
      const pkgs = [...new Set(missing.map((s) => SONAME_PACKAGES[s]))];
      try {
        say(`missing shared libraries ${missing.join(', ')}: downloading ${pkgs.join(', ')} to extract beside the worker`);
        for (const deb of aptDownload(pkgs)) runOk('dpkg-deb', ['-x', deb, staging]);
      } catch (err) {
        if (!(typeof process.getuid === 'function' && process.getuid() === 0)) throw err;
        say(`download failed (${err.message.split('\n')[0]}); installing ${pkgs.join(', ')} with the system's apt-get as root`);
        runOk('apt-get', ['-q', '-y', 'install', '--no-install-recommends', ...pkgs], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
        installedSystemWide.push(...pkgs);
      }
      missing = missingSonames(bin, libDirs(staging));
    }
    if (missing.length) throw new ProvisionError(`still missing shared libraries after provisioning: ${missing.join(', ')}`);

    fs.rmSync(ROOT_DIR, { recursive: true, force: true });
    fs.renameSync(staging, ROOT_DIR);
    const rel = (p) => path.relative(WORK_DIR, p).split(path.sep).join('/');
    const extraLibs = libDirs(ROOT_DIR);
    writeWrapper(rel(path.join(ROOT_DIR, path.relative(staging, bin))), extraLibs.map(rel));
    if (installedSystemWide.length) say(`installed system-wide: ${installedSystemWide.join(', ')}`);
    say(`extracted the worker to ${ROOT_DIR}${extraLibs.length ? ' with its libraries beside it' : ''}; wrapper ${WRAPPER}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function main() {
  if (process.env.IDV_SKIP_WORKER === '1') {
    say('IDV_SKIP_WORKER=1: not provisioning the mediasoup worker');
    return;
  }
  ensureMediasoupJs();
  const own = process.env.MEDIASOUP_WORKER_BIN;
  if (own) {
    if (!isExecutableFile(own)) throw new ProvisionError(`MEDIASOUP_WORKER_BIN=${own} is not an executable file`);
    verifyWorker(own);
    say(`using MEDIASOUP_WORKER_BIN=${own} (verified); nothing downloaded`);
    return;
  }
  const stamp = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
  if (stamp === WORKER_VERSION && isExecutableFile(WRAPPER)) {
    try {
      verifyWorker(WRAPPER);
      say(`worker ${WORKER_VERSION} already provisioned at ${WRAPPER} (verified)`);
      return;
    } catch (err) {
      say(`existing worker does not run (${err.message}); provisioning again`);
    }
  }
  fs.rmSync(STAMP, { force: true });
  provision();
  verifyWorker(WRAPPER);
  fs.writeFileSync(STAMP, `${WORKER_VERSION}\n`);
  say(`worker ${WORKER_VERSION} provisioned and verified: ${WRAPPER}`);
}

try {
  main();
} catch (err) {
  const message = err instanceof ProvisionError ? err.message : (err && err.stack) || String(err);
  process.stderr.write(`[idv worker] ERROR: cannot provision the mediasoup worker: ${message}\n` +
    '[idv worker] Set MEDIASOUP_WORKER_BIN to a mediasoup-worker 3.8.4 binary, or IDV_SKIP_WORKER=1 to skip (video calls will then not work).\n');
  process.exitCode = 1;
}
