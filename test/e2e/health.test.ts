/**
 * /healthz says "unavailable" for more than the store (test/e2e/storage-fault.test.ts has the store): flows that
 * cannot run, and media workers that are gone and cannot come back, each through the real runtime. And it says "ok"
 * again once the cause is gone, without a restart.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveWorkerBin } from '../../media-server/mediasoup-loader';
import { waitFor } from '../support/call-media';
import { TEST_RTC_ENV } from '../support/ports';
import { childPids, startRuntime, tempDir, waitHealthy, type RuntimeHandle } from '../support/runtime';

interface Health {
  status: string;
  [check: string]: unknown;
}

async function health(url: string): Promise<{ status: number; body: Health; text: string }> {
  const res = await fetch(`${url}/healthz`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Health, text };
}

describe('/healthz reports what is down (real runtime)', function () {
  this.timeout(120_000);
  const runtimes: RuntimeHandle[] = [];

  after(async () => {
    for (const rt of runtimes) {
      await rt.stop();
      fs.rmSync(rt.dataDir, { recursive: true, force: true });
    }
  });

  it('flows that cannot start (a node type that is not installed): 503 "flows not running", no details', async () => {
    const dataDir = tempDir('idv-health-flows-');
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify([{ id: 'tab', type: 'tab', label: 'x' }, { id: 'n1', type: 'idv-not-installed', z: 'tab' }]));
    const rt = await startRuntime({ dataDir, waitForFlows: false, env: { ...TEST_RTC_ENV } });
    runtimes.push(rt);
    // Node-RED says it at info level only; /healthz is where an operator's monitoring sees it.
    await waitFor('Node-RED to wait for the missing type', async () => /\[info\] Waiting for missing types to be registered:/.test(rt.output()), 20_000, 100);
    const h = await health(rt.url);
    assert.equal(h.status, 503);
    assert.equal(h.body.status, 'unavailable');
    assert.deepEqual(h.body.runtime, { ok: false, detail: 'flows not running' });
    assert.doesNotMatch(h.text, /idv-not-installed|\/tmp\/|node_modules|at \w/, 'no node names, paths or stacks in the answer');
  });

  it('media workers that died and cannot start again: 503 naming the media workers; 200 again once they can', async () => {
    // The worker binary through a wrapper the test can break: while the flag file exists, a new worker exits at once.
    const dir = tempDir('idv-health-worker-');
    const flag = path.join(dir, 'broken');
    const wrapper = path.join(dir, 'mediasoup-worker');
    fs.writeFileSync(wrapper, `#!/bin/sh\n[ -e ${JSON.stringify(flag)} ] && exit 1\nexec ${JSON.stringify(resolveWorkerBin())} "$@"\n`, { mode: 0o755 });
    const rt = await startRuntime({ env: { ...TEST_RTC_ENV, MEDIASOUP_WORKER_BIN: wrapper, IDV_MEDIA_WORKERS: '1' } });
    runtimes.push(rt);
    const ok = await waitHealthy(rt.url);
    assert.equal(ok.status, 200);
    const workers = childPids(rt.proc.pid as number);
    assert.equal(workers.length, 1, `one media worker (children: ${workers})`);

    fs.writeFileSync(flag, '');
    process.kill(workers[0], 'SIGKILL');
    const down = await waitFor('/healthz to report the media workers', async () => {
      const h = await health(rt.url);
      return h.status === 503 ? h : undefined;
    }, 20_000, 100);
    assert.equal(down.body.status, 'unavailable');
    assert.deepEqual(down.body.media, { ok: false, detail: '1 of 1 media workers down' });
    assert.deepEqual(down.body.runtime, { ok: true }, 'the flows still run');
    // It keeps trying (and failing) to start a new one while the binary is broken.
    await rt.log.expectLine(/worker.*(died|could not|failed|exit)/i, 20_000);
    rt.log.allow(/media worker|mediasoup/i);

    fs.rmSync(flag);
    const back = await waitHealthy(rt.url, 30_000);
    assert.equal(back.status, 200, 'healthy again without a restart');
    assert.equal(childPids(rt.proc.pid as number).length, 1, 'a new worker runs');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
