import type { Quality } from '../call-client';

/**
 * Connection quality for the manager's statistics (issue 14, point 6): adds up how long this page's call media was
 * good, fair or poor, or absent (the call client's own measure, web/call-client.ts `measure`), and sends the totals
 * to the server when the page is hidden or left (navigator.sendBeacon, so it also goes out while the page closes).
 * Only three numbers of milliseconds leave the page: no address, no device, no measurement series.
 */

export interface QualityTally {
  /** The quality measured now; the time since the previous note counts for the previous quality. */
  note(q: Quality): void;
  /** Sends what was added up since the last report (at least one second of it) and starts again. */
  flush(): void;
  /** The call is over: sends what was added up and counts nothing more (time after the end is not call time). */
  end(): void;
}

export function qualityTally(path = '/call/quality', now: () => number = () => performance.now()): QualityTally {
  let state: Quality | undefined;
  let since = now();
  const ms = { good: 0, poor: 0, none: 0 };
  const close = () => {
    const t = now();
    if (state === 'good') ms.good += t - since;
    else if (state === 'fair' || state === 'poor') ms.poor += t - since;
    else if (state === 'unknown') ms.none += t - since;
    since = t;
  };
  const flush = () => {
    close();
    const body = { good: Math.round(ms.good), poor: Math.round(ms.poor), none: Math.round(ms.none) };
    if (body.good + body.poor + body.none < 1000) return;
    ms.good = ms.poor = ms.none = 0;
    try {
      navigator.sendBeacon(path, new Blob([JSON.stringify(body)], { type: 'application/json' }));
    } catch {
      /* a browser without beacons: the statistics miss this call, the call itself is not affected */
    }
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  window.addEventListener('pagehide', flush);
  return {
    note(q) {
      close();
      state = q;
    },
    flush,
    end() {
      flush();
      state = undefined;
    },
  };
}
