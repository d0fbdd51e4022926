#!/usr/bin/env node
// npm's postinstall for this package: provisions the mediasoup worker (see provision-mediasoup-worker.js). A failure
// fails the install with the script's own message: a video system without a media worker is not installed.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const res = spawnSync(process.execPath, [path.join(__dirname, 'provision-mediasoup-worker.js')], { stdio: 'inherit' });
process.exit(res.status === null ? 1 : res.status);
