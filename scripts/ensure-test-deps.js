#!/usr/bin/env node
// Makes sure what the tests need outside npm is there, from Debian's archive (test tools' own browser downloads
// cannot work here): Chromium and Firefox ESR for the browser tests; coturn, iproute2, nftables, openssl and python3
// for the network tests (namespaces, NAT, TURN with a test CA, a delay line where the kernel has no netem); nginx for
// the production test, which runs the shipped site (deploy/nginx/idvideo.conf) in front of the runtime; postgresql
// for the store tests on the second engine (the suite starts a cluster of its own from the package's programs, as its
// postgres user; the package's own cluster is not used).
// Installs what is missing with apt-get when running as root, otherwise says what to run.
'use strict';
const { spawnSync } = require('node:child_process');

/** command -> Debian package that provides it */
const NEEDED = [
  ['chromium', 'chromium'],
  ['firefox-esr', 'firefox-esr'],
  ['turnserver', 'coturn'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['openssl', 'openssl'],
  ['python3', 'python3-minimal'],
  ['nginx', 'nginx'],
  // Debian keeps PostgreSQL's programs in /usr/lib/postgresql/<version>/bin, off PATH: see has().
  ['initdb', 'postgresql'],
];

function has(cmd) {
  if (cmd === 'initdb' && spawnSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/initdb'], { stdio: 'ignore' }).status === 0) return true;
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = NEEDED.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
if (missing.length) {
  if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
    console.log(`[idv test] installing from Debian for the tests: ${missing.join(' ')} (apt-get)…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing, 'fonts-dejavu-core']]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) {
        console.error(`[idv test] apt-get ${args.join(' ')} failed; install them yourself: apt-get install ${missing.join(' ')}`);
        process.exit(1);
      }
    }
    // The tests start their own coturn with their own configuration; a system-wide one is not wanted.
    if (missing.includes('coturn') && has('systemctl')) spawnSync('systemctl', ['disable', '--now', 'coturn'], { stdio: 'ignore' });
    // Likewise nginx: the production test runs its own, as a foreground process with its own configuration.
    // And PostgreSQL: the store tests start a cluster of their own on a free loopback port.
    if (missing.includes('postgresql')) {
      if (has('systemctl')) spawnSync('systemctl', ['disable', '--now', 'postgresql'], { stdio: 'ignore' });
      else spawnSync('sh', ['-c', 'invoke-rc.d postgresql stop'], { stdio: 'ignore' });
    }
    if (missing.includes('nginx')) {
      if (has('systemctl')) spawnSync('systemctl', ['disable', '--now', 'nginx'], { stdio: 'ignore' });
      else spawnSync('sh', ['-c', 'invoke-rc.d nginx stop'], { stdio: 'ignore' });
    }
  } else {
    console.error(`[idv test] the tests need Debian packages: run \`sudo apt-get install ${missing.join(' ')}\``);
    process.exit(1);
  }
}
