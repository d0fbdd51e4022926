import { FaultLog } from './fault-log';

export interface PeriodicOptions {
  /** For log lines, e.g. "link purge". */
  name: string;
  /** Pause between runs while they succeed. */
  everyMs: number;
  /** One run; a rejection counts as a failure. */
  run: () => Promise<unknown>;
  log: { warn(msg: string): void; info(msg: string): void };
  /** Delay before the first run (default 0). */
  firstMs?: number;
  /**
   * Pause after the n-th failure in a row: initialMs * 2^(n-1), at most maxMs (defaults: min(everyMs, 1 s) and
   * max(everyMs, 60 s)). A store that cannot write is retried with growing pauses, never in a tight loop.
   */
  backoff?: { initialMs?: number; maxMs?: number };
  /** At most one summary log line per this period while failing (default 5 min). */
  summaryMs?: number;
}

export interface Periodic {
  /** Runs now (or once more right after the run in progress), e.g. when the store is known to work again. */
  kick(): void;
  /** True after a failed run, until one succeeds. */
  readonly failing: boolean;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * A background loop with one run at a time, exponential backoff on failure and bounded logging (lib/runtime/fault-log).
 * The timer is unref'd: it never keeps the process alive.
 */
export function startPeriodic(o: PeriodicOptions): Periodic {
  const initialMs = o.backoff?.initialMs ?? Math.min(o.everyMs, 1000);
  const maxMs = o.backoff?.maxMs ?? Math.max(o.everyMs, 60_000);
  const faults = new FaultLog({ name: o.name, warn: (m) => o.log.warn(m), info: (m) => o.log.info(m), summaryMs: o.summaryMs });
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void runNow(), ms);
    timer.unref();
  };

  const runNow = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    running = (async () => {
      do {
        again = false;
        try {
          await o.run();
          failures = 0;
          faults.succeeded();
        } catch (e) {
          failures++;
          faults.failed(e);
          again = false;
        }
      } while (again && !stopped);
      running = undefined;
      schedule(failures === 0 ? o.everyMs : Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 20)));
    })();
    return running;
  };

  schedule(o.firstMs ?? 0);
  return {
    kick: () => {
      if (!stopped) void runNow();
    },
    get failing() {
      return failures > 0;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
