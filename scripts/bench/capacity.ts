/**
 * Worker capacity, measured on the worker alone: how much CPU one mediasoup worker spends per 1:1 call at realistic
 * bitrates, and how many calls it carries at <= 50 % of one core.
 *
 * 1. Pre-encoded media: Debian's ffmpeg encodes 10 s of a moving 1280x720 test picture with VP8 (libvpx, realtime,
 *    BENCH_VIDEO_KBPS, default 1200 kbit/s) and a tone with opus (32 kbit/s) into RTP; this script records the packets.
 * 2. media-server/capacity-probe.ts builds synthetic calls on one measured worker: per participant an SRTP transport
 *    in with audio and video producers, and an SRTP transport out with the other side's consumers, as a browser's send
 *    and receive transports would have. A helper worker stands in for the browsers (SRTP towards the measured worker,
 *    and a sink for what comes back), so no encoding, decoding or browser SRTP runs in the measured process.
 * 3. This process replays the recording (looped, sequence numbers and timestamps continued) into every participant.
 * For BENCH_CAPACITY_CALLS (default 1,5,10,20,30,40) calls it prints the worker's CPU (getrusage of the worker, over
 * BENCH_SECONDS, default 10 s), CPU per call and the forwarded bitrate per call, then the calls at <= 50 % of a core.
 *
 * Run: npm run bench -- capacity   (installs Debian's ffmpeg with apt-get when missing and running as root)
 */
import { spawnSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as os from 'node:os';
import { startCapacityProbe, type CapacityProbe, type RecordedStream } from '../../media-server/capacity-probe';
import { TEST_RTC_PORTS } from '../../test/support/ports';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const VIDEO = { ssrc: 11111111, payloadType: 96 };
const AUDIO = { ssrc: 22222222, payloadType: 111 };

interface Packet {
  atMs: number;
  data: Buffer;
}

function ensureFfmpeg(): void {
  if (spawnSync('sh', ['-c', 'command -v ffmpeg'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('this benchmark needs Debian\'s ffmpeg: sudo apt-get install ffmpeg');
  console.log('installing Debian\'s ffmpeg for the pre-encoded media (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'ffmpeg']]) {
    if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
}

/** Encodes with ffmpeg and records the RTP packets it sends, with their media time (from the RTP timestamps). */
async function record(seconds: number, videoKbps: number): Promise<{ video: Packet[]; audio: Packet[] }> {
  const sockets = { video: dgram.createSocket('udp4'), audio: dgram.createSocket('udp4') };
  const got: { video: Buffer[]; audio: Buffer[] } = { video: [], audio: [] };
  for (const kind of ['video', 'audio'] as const) {
    sockets[kind].on('message', (m) => got[kind].push(m));
    await new Promise<void>((resolve) => sockets[kind].bind(0, '127.0.0.1', resolve));
  }
  const port = (kind: 'video' | 'audio') => sockets[kind].address().port;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-map', '0:v', '-c:v', 'libvpx', '-b:v', `${videoKbps}k`, '-maxrate', `${videoKbps}k`, '-bufsize', `${videoKbps}k`,
    '-deadline', 'realtime', '-cpu-used', '8', '-g', '150', '-ssrc', String(VIDEO.ssrc), '-payload_type', String(VIDEO.payloadType),
    '-f', 'rtp', `rtp://127.0.0.1:${port('video')}?pkt_size=1200`,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-ssrc', String(AUDIO.ssrc), '-payload_type', String(AUDIO.payloadType),
    '-f', 'rtp', `rtp://127.0.0.1:${port('audio')}`,
  ];
  await new Promise<void>((resolve, reject) => {
    const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed (${code}): ${err.slice(-500)}`))));
  });
  await sleep(200);
  for (const s of Object.values(sockets)) s.close();
  const timed = (list: Buffer[], clock: number): Packet[] => {
    const rtp = list.filter((b) => b.length > 12 && ((b[1] & 0x7f) < 72 || (b[1] & 0x7f) > 76)); // RTP, not RTCP (types 200-204)
    const t0 = rtp[0].readUInt32BE(4);
    return rtp.map((data) => ({ atMs: ((data.readUInt32BE(4) - t0) >>> 0) / clock, data }));
  };
  return { video: timed(got.video, 90), audio: timed(got.audio, 48) };
}

/** Replays the recording in a loop to every ingress port the probe has (it grows while calls are added). */
function replay(probe: CapacityProbe, rec: { video: Packet[]; audio: Packet[] }, seconds: number): { stop(): void } {
  const socket = dgram.createSocket('udp4');
  const streams = [rec.video, rec.audio].map((packets) => ({ packets, next: 0, loop: 0, clock: packets === rec.video ? 90 : 48 }));
  const loopMs = seconds * 1000;
  const start = performance.now();
  const timer = setInterval(() => {
    const now = performance.now() - start;
    for (const s of streams) {
      for (;;) {
        const p = s.packets[s.next];
        if (!p || p.atMs + s.loop * loopMs > now) break;
        // Each loop continues sequence numbers and timestamps, as a longer recording would.
        const data = Buffer.from(p.data);
        data.writeUInt16BE((p.data.readUInt16BE(2) + s.loop * s.packets.length) & 0xffff, 2);
        data.writeUInt32BE((p.data.readUInt32BE(4) + s.loop * loopMs * s.clock) >>> 0, 4);
        for (const port of probe.ingressPorts) socket.send(data, port, '127.0.0.1');
        if (++s.next === s.packets.length) {
          s.next = 0;
          s.loop++;
        }
      }
    }
  }, 5);
  return { stop: () => (clearInterval(timer), socket.close()) };
}

function listEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const list = raw.split(',').map(Number);
  if (!list.every((n) => Number.isInteger(n) && n > 0 && n <= 500)) throw new Error(`${name} must be a list of whole numbers 1..500`);
  return list.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  ensureFfmpeg();
  const seconds = Number(process.env.BENCH_SECONDS || 10);
  const videoKbps = Number(process.env.BENCH_VIDEO_KBPS || 1200);
  const steps = listEnv('BENCH_CAPACITY_CALLS', [1, 5, 10, 20, 30, 40]);
  const rec = await record(10, videoKbps);
  const kbps = (p: Packet[]) => Math.round((p.reduce((n, x) => n + x.data.length, 0) * 8) / 10 / 1000);
  console.log(`pre-encoded media: VP8 1280x720 30 fps ${kbps(rec.video)} kbit/s (${rec.video.length} packets/10 s), opus ${kbps(rec.audio)} kbit/s, RTP payload incl. headers`);
  const streams: RecordedStream[] = [
    { kind: 'video', mimeType: 'video/VP8', ...VIDEO },
    { kind: 'audio', mimeType: 'audio/opus', ...AUDIO },
  ];
  const probe = await startCapacityProbe(streams, TEST_RTC_PORTS);
  const player = replay(probe, rec, 10);
  const rows: Array<{ calls: number; cpuPct: number; perCall: number; kbpsPerCall: number; feed: number; fullRatePct: number }> = [];
  // What one call makes the worker send: each participant's audio and video to the other, plus the SRTP tag.
  const expectedKbps = 2 * (kbps(rec.video) * (1 + 10 / 1100) + kbps(rec.audio) * (1 + 10 / 150));
  try {
    let calls = 0;
    for (const target of steps) {
      while (calls < target) {
        await probe.addCall();
        calls++;
      }
      await sleep(3000);
      const [c0, b0, t0] = [await probe.cpuMs(), await probe.bytesForwarded(), performance.now()];
      const load0 = os.loadavg()[0];
      await sleep(seconds * 1000);
      const [c1, b1, t1] = [await probe.cpuMs(), await probe.bytesForwarded(), performance.now()];
      const cpuPct = ((c1 - c0) / (t1 - t0)) * 100;
      const kbpsPerCall = ((b1 - b0) * 8) / ((t1 - t0) / 1000) / 1000 / calls;
      // On a busy machine the feed (this process, the helper worker) can fall behind: then the worker forwards less
      // than a call sends, and its CPU is scaled up to the full rate (CPU per forwarded bit stays what it is).
      const feed = Math.min(1, kbpsPerCall / expectedKbps);
      const fullRatePct = cpuPct / feed;
      rows.push({ calls, cpuPct, perCall: fullRatePct / calls, kbpsPerCall, feed, fullRatePct });
      console.log(
        `${String(calls).padStart(3)} calls: worker ${cpuPct.toFixed(1).padStart(5)} % of a core, forwarded ${Math.round(kbpsPerCall)} kbit/s per call ` +
          `(${Math.round(feed * 100)} % of the full rate) -> ${fullRatePct.toFixed(1)} % at full rate, ${(fullRatePct / calls).toFixed(2)} %/call; machine load ${load0.toFixed(1)}`,
      );
      if (fullRatePct > 60) break;
    }
    // Least squares over the steps (at full rate): fixed cost + cost per call.
    const n = rows.length;
    const mx = rows.reduce((a, r) => a + r.calls, 0) / n;
    const my = rows.reduce((a, r) => a + r.fullRatePct, 0) / n;
    const slope = rows.reduce((a, r) => a + (r.calls - mx) * (r.fullRatePct - my), 0) / Math.max(1e-9, rows.reduce((a, r) => a + (r.calls - mx) ** 2, 0));
    const base = my - slope * mx;
    const fit = Math.floor((50 - base) / slope);
    const measuredMax = rows.filter((r) => r.fullRatePct <= 50).reduce((m, r) => Math.max(m, r.calls), 0);
    console.log(`per 1:1 call: ${slope.toFixed(2)} % of a core (fit over ${n} steps, fixed ${base.toFixed(1)} %)`);
    console.log(`calls one worker carries at <= 50 % of a core: ${fit} (fit); largest step measured under 50 %: ${measuredMax}`);
    console.log(JSON.stringify({ benchmark: 'capacity', videoKbps: kbps(rec.video), audioKbps: kbps(rec.audio), rows, perCallPct: slope, baselinePct: base, callsAt50Pct: fit, measuredMax }));
  } finally {
    player.stop();
    probe.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`capacity benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
