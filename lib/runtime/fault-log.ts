import { faultCode } from '../store/faults';

export interface FaultLogOptions {
  /** What fails, for the log line (e.g. "mail outbox"). */
  name: string;
  warn: (msg: string) => void;
  info: (msg: string) => void;
  /** At most one summary line per this period while the failures go on (default 5 min). */
  summaryMs?: number;
  now?: () => number;
}

/**
 * Bounded logging for a background loop that keeps failing (a store that cannot write): one line at the first
 * failure, then at most one summary per period with the count and the codes, and one line when it works again.
 * Lines carry error codes only (never paths, values or personal data).
 */
export class FaultLog {
  private failures = 0;
  private sinceSummary = 0;
  private firstAt = 0;
  private lastSummaryAt = 0;
  private readonly codes = new Set<string>();
  private readonly summaryMs: number;
  private readonly now: () => number;

  constructor(private readonly o: FaultLogOptions) {
    this.summaryMs = o.summaryMs ?? 5 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** The loop failed once more. */
  failed(e: unknown): void {
    const code = faultCode(e);
    const t = this.now();
    this.failures++;
    this.sinceSummary++;
    this.codes.add(code);
    if (this.failures === 1) {
      this.firstAt = t;
      this.lastSummaryAt = t;
      this.sinceSummary = 0;
      this.o.warn(`${this.o.name}: ${code}; retrying with growing pauses (further failures are summarised)`);
      return;
    }
    if (t - this.lastSummaryAt >= this.summaryMs) {
      this.o.warn(`${this.o.name}: still failing, ${this.sinceSummary} more failures in ${Math.round((t - this.lastSummaryAt) / 1000)} s (${[...this.codes].join(', ')})`);
      this.lastSummaryAt = t;
      this.sinceSummary = 0;
      this.codes.clear();
    }
  }

  /** The loop worked; says so once if it had been failing. */
  succeeded(): void {
    if (this.failures === 0) return;
    this.o.info(`${this.o.name}: working again after ${this.failures} failures in ${Math.round((this.now() - this.firstAt) / 1000)} s`);
    this.failures = 0;
    this.sinceSummary = 0;
    this.codes.clear();
  }

  get failing(): boolean {
    return this.failures > 0;
  }
}
