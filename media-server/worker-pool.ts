import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import type { types as ms } from 'mediasoup';
import { loadMediasoup, resolveWorkerBin, type MediasoupModule } from './mediasoup-loader';

export interface WorkerPoolOptions {
  /** Number of worker processes; default min(2, cores). */
  numWorkers?: number;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  logLevel?: ms.WorkerLogLevel;
  /** Worker binary; default MEDIASOUP_WORKER_BIN or the provisioned .media-worker/mediasoup-worker. */
  workerBin?: string;
}

/** Emitted as 'workerDied' after a worker process ended unexpectedly; its routers (rooms) are gone. */
export interface WorkerDiedEvent {
  index: number;
  pid: number;
  /** The room keys whose router lived on that worker. */
  roomKeys: string[];
  reason: string;
}

/** Emitted as 'workerRespawned' once a replacement is running. */
export interface WorkerRespawnedEvent {
  index: number;
  pid: number;
}

export interface WorkerHealth {
  index: number;
  pid: number | null;
  alive: boolean;
  rooms: number;
  respawns: number;
}

export interface PoolHealth {
  ok: boolean;
  workers: WorkerHealth[];
}

interface Slot {
  index: number;
  worker: ms.Worker | null;
  rooms: Set<string>;
  respawns: number;
  /** Consecutive failures to start, for back-off: a binary that dies at once must not spin the CPU. */
  failures: number;
  timer: NodeJS.Timeout | null;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Media ports: below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default), so outgoing
 * connections of the same machine never take a port a call needs, and above the registered ports most services use.
 */
export const DEFAULT_RTC_MIN_PORT = 20000;
export const DEFAULT_RTC_MAX_PORT = 29999;

/**
 * A fixed number of mediasoup workers. A worker that dies is replaced (never process.exit) and the rooms that lived
 * on it are named in a 'workerDied' event so their participants can be told to rejoin.
 */
export class WorkerPool extends EventEmitter {
  private readonly slots: Slot[] = [];
  private closed = false;
  private readonly settings: ms.WorkerSettings;
  private readonly mediasoup: MediasoupModule;

  private constructor(opts: WorkerPoolOptions, size: number) {
    super();
    this.mediasoup = loadMediasoup(resolveWorkerBin(opts.workerBin));
    this.settings = {
      logLevel: opts.logLevel ?? 'warn',
      rtcMinPort: opts.rtcMinPort ?? DEFAULT_RTC_MIN_PORT,
      rtcMaxPort: opts.rtcMaxPort ?? DEFAULT_RTC_MAX_PORT,
    };
    for (let index = 0; index < size; index++) {
      this.slots.push({ index, worker: null, rooms: new Set(), respawns: 0, failures: 0, timer: null });
    }
  }

  /** Starts all workers; rejects (and stops those already started) when any cannot start. */
  static async start(opts: WorkerPoolOptions = {}): Promise<WorkerPool> {
    const size = opts.numWorkers ?? Math.min(2, os.cpus().length || 1);
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new Error(`numWorkers must be 1..64, got ${size}`);
    const { rtcMinPort, rtcMaxPort } = opts;
    for (const [name, v] of [['rtcMinPort', rtcMinPort], ['rtcMaxPort', rtcMaxPort]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1024 || v > 65535)) throw new Error(`${name} must be 1024..65535, got ${v}`);
    }
    const [min, max] = [rtcMinPort ?? DEFAULT_RTC_MIN_PORT, rtcMaxPort ?? DEFAULT_RTC_MAX_PORT];
    if (min > max) {
      throw new Error(`rtcMinPort (${min}) must not exceed rtcMaxPort (${max})`);
    }
    const pool = new WorkerPool(opts, size);
    try {
      await Promise.all(pool.slots.map((slot) => pool.spawn(slot)));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  private async spawn(slot: Slot): Promise<void> {
    const worker = await this.mediasoup.createWorker({ ...this.settings, appData: { index: slot.index } });
    if (this.closed) {
      worker.close();
      return;
    }
    slot.worker = worker;
    worker.on('died', (error: Error) => this.onDied(slot, worker, error));
  }

  private onDied(slot: Slot, worker: ms.Worker, error: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    const roomKeys = [...slot.rooms];
    slot.rooms.clear();
    const event: WorkerDiedEvent = { index: slot.index, pid: worker.pid, roomKeys, reason: error.message };
    this.emit('workerDied', event);
    this.scheduleRespawn(slot);
  }

  private scheduleRespawn(slot: Slot): void {
    if (this.closed) return;
    const delay = slot.failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (slot.failures - 1));
    slot.timer = setTimeout(() => {
      slot.timer = null;
      this.spawn(slot).then(
        () => {
          if (!slot.worker) return;
          slot.failures = 0;
          slot.respawns++;
          const event: WorkerRespawnedEvent = { index: slot.index, pid: slot.worker.pid };
          this.emit('workerRespawned', event);
        },
        (err: unknown) => {
          slot.failures++;
          this.emit('workerSpawnFailed', { index: slot.index, reason: err instanceof Error ? err.message : String(err) });
          this.scheduleRespawn(slot);
        },
      );
    }, delay);
    slot.timer.unref();
  }

  /**
   * Creates a router for a room on the least loaded live worker. Throws when no worker is running (all are being
   * respawned), which callers report as "media temporarily unavailable".
   */
  async createRouter(roomKey: string, mediaCodecs: ms.RtpCodecCapability[], waitMs = 5000): Promise<ms.Router> {
    if (this.closed) throw new Error('worker pool is closed');
    let live = this.liveSlots();
    if (live.length === 0) {
      // Right after a worker died its replacement is usually a few ms away: let a rejoining client wait for it.
      await this.waitForWorker(waitMs);
      live = this.liveSlots();
      if (live.length === 0) throw new Error('no media worker is running');
    }
    const slot = live.reduce((a, b) => (b.rooms.size < a.rooms.size ? b : a));
    const worker = slot.worker as ms.Worker;
    slot.rooms.add(roomKey);
    try {
      const router = await worker.createRouter({ mediaCodecs });
      router.observer.once('close', () => {
        // A dying worker closes its routers *before* it emits 'died': keep the key then, so the 'workerDied' event
        // can name the room.
        if (slot.worker === worker && !worker.closed) slot.rooms.delete(roomKey);
      });
      return router;
    } catch (err) {
      slot.rooms.delete(roomKey);
      throw err;
    }
  }

  private liveSlots(): Slot[] {
    return this.slots.filter((s) => s.worker && !s.worker.closed);
  }

  private waitForWorker(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('workerRespawned', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.on('workerRespawned', done);
    });
  }

  /** Live worker pids (for tests and diagnostics). */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker.pid] : []));
  }

  /** Which worker pid hosts a room, if any. */
  pidOf(roomKey: string): number | undefined {
    const slot = this.slots.find((s) => s.rooms.has(roomKey));
    return slot?.worker?.pid;
  }

  /** For /healthz: ok when every worker is running. */
  health(): PoolHealth {
    const workers = this.slots.map((s) => ({
      index: s.index,
      pid: s.worker ? s.worker.pid : null,
      alive: !!s.worker && !s.worker.closed,
      rooms: s.rooms.size,
      respawns: s.respawns,
    }));
    return { ok: !this.closed && workers.every((w) => w.alive), workers };
  }

  /** CPU (ms) and max RSS (KiB) per worker, from getrusage in the worker. */
  async resourceUsage(): Promise<Array<{ pid: number; cpuMs: number; maxRssKiB: number }>> {
    const live = this.slots.flatMap((s) => (s.worker ? [s.worker] : []));
    return Promise.all(
      live.map(async (w) => {
        const u = await w.getResourceUsage();
        return { pid: w.pid, cpuMs: u.ru_utime + u.ru_stime, maxRssKiB: u.ru_maxrss };
      }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.worker?.close();
      slot.worker = null;
      slot.rooms.clear();
    }
    this.removeAllListeners();
  }
}
