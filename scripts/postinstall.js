#!/usr/bin/env node
// npm's postinstall for this package: provisions the mediasoup worker (see provision-mediasoup-worker.js).
// - In a checkout of this repository (`npm ci`), a failure fails the install with the script's own message: a video
//   system without a media worker is not installed.
// - Installed as a dependency (a Node-RED user directory, the palette), a failure must not roll back the user's whole
//   `npm install`: it says what to run later and succeeds. The runtime says the same again, and the agent-dashboard
//   node shows it as a red status, until the worker is there.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const packageRoot = path.resolve(__dirname, '..');
const asDependency = packageRoot.split(path.sep).includes('node_modules');

const res = spawnSync(process.execPath, [path.join(__dirname, 'provision-mediasoup-worker.js')], { stdio: 'inherit' });
const status = res.status === null ? 1 : res.status;
if (status !== 0 && asDependency) {
  const projectDir = packageRoot.split(path.sep).slice(0, packageRoot.split(path.sep).lastIndexOf('node_modules')).join(path.sep) || path.sep;
  process.stderr.write(
    '[idv worker] ID Video is installed, but video calls need the media worker. When the cause above is fixed, run:\n' +
      `[idv worker]     cd ${projectDir} && npx idv-provision-worker\n`,
  );
  process.exit(0);
}
process.exit(status);
