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

  it('is idempotent: an already provisioned worker is verified, not downloaded again', function () {
    const dir = path.dirname(resolveWorkerBin());
    if (!fs.existsSync(path.join(dir, 'PROVISIONED'))) this.skip(); // a deployment-provided MEDIASOUP_WORKER_BIN
    const before = fs.statSync(path.join(dir, 'mediasoup-worker')).mtimeMs;
    const r = runScript({ IDV_MEDIA_WORKER_DIR: dir });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /already provisioned .* \(verified\)/);
    assert.equal(fs.statSync(path.join(dir, 'mediasoup-worker')).mtimeMs, before);
  });
});
