#!/usr/bin/env node
// Makes sure what the tests need outside npm is there: Debian's Chromium for the browser tests (test tools' own
// browser downloads cannot work here). Installs it with apt-get when running as root, otherwise says what to run.
'use strict';
const { spawnSync } = require('node:child_process');

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

if (!has('chromium')) {
  if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
    console.log('[idv test] installing Debian chromium for the browser tests (apt-get)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) {
        console.error(`[idv test] apt-get ${args.join(' ')} failed; install chromium yourself: apt-get install chromium`);
        process.exit(1);
      }
    }
  } else {
    console.error('[idv test] the browser tests need Debian\'s chromium: run `sudo apt-get install chromium`');
    process.exit(1);
  }
}

// The ID Contact node test makes client certificates with openssl (Debian's openssl, present on most installs).
if (!has('openssl')) {
  if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
    console.log('[idv test] installing Debian openssl for the certificate tests (apt-get)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'openssl'], { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error('[idv test] apt-get install openssl failed; install it yourself: apt-get install openssl');
      process.exit(1);
    }
  } else {
    console.error('[idv test] the certificate tests need openssl: run `sudo apt-get install openssl`');
    process.exit(1);
  }
}
