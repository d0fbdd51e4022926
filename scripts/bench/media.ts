/**
 * Media benchmark: N simultaneous calls (resident + agent each sending synthetic video) through the real signaling
 * and the real mediasoup workers, with both ends in this process as @roamhq/wrtc peers. Prints, per N:
 * join-to-first-remote-frame (both sides decode), worker CPU per call and worker memory per call.
 *
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/media.js
 * Env: BENCH_CALLS=1,5,10,20  BENCH_SECONDS=5  BENCH_W=320 BENCH_H=240 BENCH_FPS=30  BENCH_WORKERS (default min(2,cores))
 *
 * The peers' own encoding/decoding runs in this Node process and competes with the workers for the 2 cores, so the
 * figures are an upper bound of what the workers need; the worker CPU is measured from the workers' own getrusage.
 */
import * as fs from 'node:fs';
import { SignalClient, startHarness } from '../../test/unit/media-server/harness';
import { startWrtcPeer, type WrtcPeer } from '../../test/unit/media-server/wrtc-peer';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

/** Current resident memory of a process in KiB (VmRSS), 0 when it is gone. */
function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Row {
  calls: number;
  joinMedianMs: number;
  joinP95Ms: number;
  workerCpuPct: number;
  cpuPctPerCall: number;
  workerRssMiB: number;
  rssPerCallMiB: number;
  framesPerSecPerPeer: number;
  /** What the worker receives from one sender (send transport recvBitrate), kbps. */
  sendKbps: number;
  /** Calls whose both sides decoded a frame within 30 s. */
  callsWithMedia: number;
  /**
   * The peers in this process could not keep up (decoded fps well below the sent fps): the figures then say more
   * about this machine's CPU than about the workers.
   */
  clientBound: boolean;
}

async function runCalls(calls: number, seconds: number, video: { width: number; height: number; fps: number }, numWorkers?: number): Promise<Row> {
  const h = await startHarness({ numWorkers, rateLimit: { burst: 200, perSecond: 200 } });
  const peers: WrtcPeer[] = [];
  try {
    const pids = h.media.workerPids();
    const baseRss = pids.reduce((a, p) => a + rssKiB(p), 0);
    const joinTimes: number[] = [];
    const clients: SignalClient[] = [];
    for (let i = 0; i < calls; i++) {
      const id = `bench-${i}`;
      h.sessions.set(`${id}-r`, { appointmentId: id, role: 'resident', sessionId: `${id}-r` });
      h.sessions.set(`${id}-a`, { appointmentId: id, role: 'agent', sessionId: `${id}-a` });
      const t0 = Date.now();
      const rc = await SignalClient.connect(h, `${id}-r`);
      clients.push(rc);
      const r = await startWrtcPeer(rc, video);
      const a = await startWrtcPeer(await SignalClient.connect(h, `${id}-a`), video);
      peers.push(r, a);
      // Join to first remote frame: from the first signaling connection until both sides decoded a frame.
      void Promise.all([r.firstFrame, a.firstFrame]).then(([x, y]) => joinTimes.push(Math.max(x, y) - t0));
    }
    const deadline = Date.now() + 30_000;
    while (joinTimes.length < calls && Date.now() < deadline) await sleep(100);
    await sleep(1000);
    const u0 = await h.media.resourceUsage();
    const f0 = peers.reduce((a, p) => a + p.frames.count, 0);
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const u1 = await h.media.resourceUsage();
    const elapsed = Date.now() - t0;
    const f1 = peers.reduce((a, p) => a + p.frames.count, 0);
    const cpuMs = u1.reduce((a, u) => a + u.cpuMs, 0) - u0.reduce((a, u) => a + u.cpuMs, 0);
    const workerCpuPct = (cpuMs / elapsed) * 100;
    const rss = pids.reduce((a, p) => a + rssKiB(p), 0);
    const stats = (await clients[0].request('getStats')) as { send: Array<{ recvBitrate?: number }> };
    const fps = Math.round(((f1 - f0) / (elapsed / 1000) / peers.length) * 10) / 10;
    return {
      calls,
      callsWithMedia: joinTimes.length,
      clientBound: fps < video.fps * 0.8 || joinTimes.length < calls,
      joinMedianMs: joinTimes.length ? percentile(joinTimes, 50) : -1,
      joinP95Ms: joinTimes.length ? percentile(joinTimes, 95) : -1,
      workerCpuPct: Math.round(workerCpuPct * 10) / 10,
      cpuPctPerCall: Math.round((workerCpuPct / calls) * 100) / 100,
      workerRssMiB: Math.round((rss / 1024) * 10) / 10,
      rssPerCallMiB: Math.round(((rss - baseRss) / 1024 / calls) * 100) / 100,
      framesPerSecPerPeer: fps,
      sendKbps: Math.round((stats.send[0]?.recvBitrate ?? 0) / 1000),
    };
  } finally {
    for (const p of peers) p.close();
    await h.close();
  }
}

async function main(): Promise<void> {
  const callsList = (process.env.BENCH_CALLS ?? '1,5,10,20').split(',').map((s) => Number(s.trim()));
  if (!callsList.every((n) => Number.isInteger(n) && n > 0 && n <= 100)) throw new Error('BENCH_CALLS must be a list of 1..100');
  const seconds = intEnv('BENCH_SECONDS', 5);
  const video = { width: intEnv('BENCH_W', 320), height: intEnv('BENCH_H', 240), fps: intEnv('BENCH_FPS', 30) };
  const numWorkers = process.env.BENCH_WORKERS ? intEnv('BENCH_WORKERS', 1) : undefined;
  console.log(`media benchmark: ${video.width}x${video.height}@${video.fps} synthetic VP8 both ways, ${seconds} s window per step`);
  const rows: Row[] = [];
  for (const calls of callsList) {
    const row = await runCalls(calls, seconds, video, numWorkers);
    rows.push(row);
    console.log(
      `calls=${row.calls} join->first frame median=${row.joinMedianMs} ms p95=${row.joinP95Ms} ms | workers CPU ${row.workerCpuPct}% ` +
        `(${row.cpuPctPerCall}%/call) | workers RSS ${row.workerRssMiB} MiB (+${row.rssPerCallMiB} MiB/call) | ` +
        `decoded ${row.framesPerSecPerPeer} fps/peer, ${row.sendKbps} kbps/sender` +
        (row.callsWithMedia < row.calls ? ` | only ${row.callsWithMedia}/${row.calls} calls got media in 30 s` : '') +
        (row.clientBound ? ' | CLIENT-BOUND: the test peers saturate this machine, worker figures are a lower bound' : ''),
    );
  }
  console.log(JSON.stringify({ benchmark: 'media', video, seconds, rows }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`media benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
