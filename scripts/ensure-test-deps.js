#!/usr/bin/env node
// Makes sure what the tests need outside npm is there: Debian's Chromium for the browser tests (test tools' own
// browser downloads cannot work here) and Debian's PostgreSQL for the store tests on the second engine (the suite
// starts a cluster of its own from these programs, as the package's postgres user; it never uses the package's own
// cluster). Installs them with apt-get when
// running as root, otherwise says what to run.
'use strict';
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Debian installs PostgreSQL's programs under /usr/lib/postgresql/<version>/bin (not on PATH). */
function hasPostgres() {
  try {
    return fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  } catch {
    return has('initdb') && has('pg_ctl');
  }
}

const missing = [];
if (!has('chromium')) missing.push({ what: 'chromium for the browser tests', packages: ['chromium', 'fonts-dejavu-core'] });
if (!hasPostgres()) missing.push({ what: 'postgresql for the store tests', packages: ['postgresql'] });

if (missing.length) {
  const packages = missing.flatMap((m) => m.packages);
  if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
    console.log(`[idv test] installing Debian ${missing.map((m) => m.what).join(' and ')} (apt-get)…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) {
        console.error(`[idv test] apt-get ${args.join(' ')} failed; install them yourself: apt-get install ${packages.join(' ')}`);
        process.exit(1);
      }
    }
  } else {
    console.error(`[idv test] the tests need Debian's ${packages.join(', ')}: run \`sudo apt-get install ${packages.join(' ')}\``);
    process.exit(1);
  }
}
