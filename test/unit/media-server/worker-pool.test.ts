import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkerPool, type WorkerDiedEvent } from '../../../media-server/worker-pool';
import { MEDIA_CODECS } from '../../../media-server/room';
import { resolveWorkerBin } from '../../../media-server/mediasoup-loader';

describe('media-server/worker-pool (real mediasoup worker)', () => {
  let pool: WorkerPool | undefined;
  afterEach(() => pool?.close());

  it('starts N workers that report healthy and spreads routers over them', async () => {
    pool = await WorkerPool.start({ numWorkers: 2, rtcMinPort: 30000, rtcMaxPort: 30999 });
    const h = pool.health();
    assert.equal(h.ok, true);
    assert.equal(h.workers.length, 2);
    const pids = pool.pids();
    assert.equal(new Set(pids).size, 2);
    for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), 'worker process exists');
    const a = await pool.createRouter('a', MEDIA_CODECS);
    const b = await pool.createRouter('b', MEDIA_CODECS);
    assert.notEqual(pool.pidOf('a'), pool.pidOf('b'), 'second room goes to the less loaded worker');
    assert.ok(a.rtpCapabilities.codecs?.some((c) => c.mimeType === 'video/H264' && c.parameters['profile-level-id'] === '42e01f'));
    a.close();
    assert.equal(pool.pidOf('a'), undefined, 'a closed router frees its slot');
    b.close();
  });

  it('defaults to min(2, cores) workers', async () => {
    pool = await WorkerPool.start();
    assert.equal(pool.health().workers.length, Math.min(2, os.cpus().length));
  });

  it('refuses bad options with clear errors', async () => {
    await assert.rejects(WorkerPool.start({ numWorkers: 0 }), /numWorkers must be 1\.\.64/);
    await assert.rejects(WorkerPool.start({ numWorkers: 1.5 }), /numWorkers/);
    await assert.rejects(WorkerPool.start({ rtcMinPort: 50000, rtcMaxPort: 40000 }), /must not exceed/);
    await assert.rejects(WorkerPool.start({ rtcMinPort: 80 }), /rtcMinPort must be 1024/);
    const notExecutable = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idv-ws-')), 'mediasoup-worker');
    fs.writeFileSync(notExecutable, 'not a binary', { mode: 0o644 });
    await assert.rejects(WorkerPool.start({ workerBin: notExecutable }), /not found or not executable.*provision-mediasoup-worker/);
    assert.throws(() => resolveWorkerBin('/nonexistent/mediasoup-worker'), /not found or not executable/);
  });

  it('respawns a killed worker and names the rooms that lived on it', async () => {
    pool = await WorkerPool.start({ numWorkers: 1 });
    const router = await pool.createRouter('appointment-1', MEDIA_CODECS);
    const [oldPid] = pool.pids();
    const died = once(pool, 'workerDied') as Promise<[WorkerDiedEvent]>;
    const respawned = once(pool, 'workerRespawned');
    process.kill(oldPid, 'SIGKILL');
    const [event] = await died;
    assert.equal(event.pid, oldPid);
    assert.deepEqual(event.roomKeys, ['appointment-1']);
    assert.equal(router.closed, true);
    assert.equal(pool.health().ok, false, 'unhealthy while the replacement starts');
    await respawned;
    const h = pool.health();
    assert.equal(h.ok, true);
    assert.equal(h.workers[0].respawns, 1);
    assert.notEqual(h.workers[0].pid, oldPid);
    assert.equal(h.workers[0].rooms, 0);
    const again = await pool.createRouter('appointment-1', MEDIA_CODECS);
    assert.equal(again.closed, false);
  });

  it('lets a router request wait for the replacement worker', async () => {
    pool = await WorkerPool.start({ numWorkers: 1 });
    const [oldPid] = pool.pids();
    const died = once(pool, 'workerDied');
    process.kill(oldPid, 'SIGKILL');
    await died;
    const router = await pool.createRouter('x', MEDIA_CODECS);
    assert.notEqual(pool.pidOf('x'), oldPid);
    assert.equal(router.closed, false);
  });

  it('reports worker CPU and memory', async () => {
    pool = await WorkerPool.start({ numWorkers: 1 });
    const [u] = await pool.resourceUsage();
    assert.ok(u.cpuMs >= 0 && u.maxRssKiB > 1000, JSON.stringify(u));
  });
});
