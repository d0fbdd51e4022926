import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveWorkerBin } from '../../../media-server/mediasoup-loader';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'provision-mediasoup-worker.js');

function runScript(env: Record<string, string | undefined>): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, MEDIASOUP_WORKER_BIN: undefined, ...env }, encoding: 'utf8', timeout: 60000 });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

// The download path itself runs in every `npm ci` (postinstall); these cover the decisions around it, offline.
describe('scripts/provision-mediasoup-worker.js', function () {
  this.timeout(60000);

  it('skips with IDV_SKIP_WORKER=1', () => {
    const r = runScript({ IDV_SKIP_WORKER: '1' });
    assert.equal(r.status, 0);
    assert.match(r.out, /IDV_SKIP_WORKER=1: not provisioning/);
  });

  it('uses a working MEDIASOUP_WORKER_BIN after spawning it through mediasoup, and downloads nothing', () => {
    const bin = resolveWorkerBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-prov-'));
    const r = runScript({ MEDIASOUP_WORKER_BIN: bin, IDV_MEDIA_WORKER_DIR: dir });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /using MEDIASOUP_WORKER_BIN=.* \(verified\); nothing downloaded/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
  });

  it('fails clearly for a MEDIASOUP_WORKER_BIN that is not executable or not a mediasoup worker', () => {
    const plain = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idv-prov-')), 'worker');
    fs.writeFileSync(plain, 'text', { mode: 0o644 });
    const notExec = runScript({ MEDIASOUP_WORKER_BIN: plain });
    assert.equal(notExec.status, 1);
    assert.match(notExec.out, /ERROR: cannot provision the mediasoup worker: MEDIASOUP_WORKER_BIN=.* is not an executable file/);
    const wrong = runScript({ MEDIASOUP_WORKER_BIN: '/bin/true' });
    assert.equal(wrong.status, 1);
    assert.match(wrong.out, /does not start under mediasoup 3\.8\.4/);
    assert.match(wrong.out, /Set MEDIASOUP_WORKER_BIN .* or IDV_SKIP_WORKER=1/);
  });

  it('is idempotent: an already provisioned worker is verified, not downloaded again', () => {
    // A provisioned folder as the script leaves it (stamp + wrapper), around the worker this run uses, so the decision
    // is proven whether that worker came from provisioning or from a deployment's MEDIASOUP_WORKER_BIN.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-prov-'));
    const wrapper = path.join(dir, 'mediasoup-worker');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(resolveWorkerBin())} "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'PROVISIONED'), '3.8.4~dfsg1-1\n');
    const before = fs.statSync(wrapper).mtimeMs;
    try {
      const r = runScript({ IDV_MEDIA_WORKER_DIR: dir });
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /already provisioned .* \(verified\)/);
      assert.doesNotMatch(r.out, /provisioning again|apt-get|download/i);
      assert.equal(fs.statSync(wrapper).mtimeMs, before);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['PROVISIONED', 'mediasoup-worker']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
