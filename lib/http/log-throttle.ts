/**
 * A log line budget: a client can cause error lines at will (malformed addresses, missing files), so the lines for
 * such requests are limited per window. What goes over the budget is counted and reported in one line when the next
 * window's first line is written, so an operator still sees that it happened and how often.
 */
export interface LogThrottle {
  /** Writes `line` with `write` when the budget allows; true when it was written. */
  (line: string, write: (line: string) => void): boolean;
}

export interface LogThrottleOptions {
  /** Lines per window (default 20). */
  perWindow?: number;
  /** Window length in ms (default one minute). */
  windowMs?: number;
  now?: () => number;
}

export function createLogThrottle(o: LogThrottleOptions = {}): LogThrottle {
  const perWindow = o.perWindow ?? 20;
  const windowMs = o.windowMs ?? 60_000;
  const now = o.now ?? Date.now;
  let windowStart = -Infinity;
  let written = 0;
  let suppressed = 0;
  return (line, write) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (suppressed > 0) write(`${suppressed} more such line(s) were not logged in the last ${Math.round(windowMs / 1000)} s`);
      windowStart = t;
      written = 0;
      suppressed = 0;
    }
    if (written >= perWindow) {
      suppressed++;
      return false;
    }
    written++;
    write(line);
    return true;
  };
}

/** The one budget for lines about refused or failed requests, shared by every router of the process. */
export const requestLogBudget: LogThrottle = createLogThrottle();
