/**
 * Per-step timestamps of joining a call: `performance.mark('join:<step>')` (User Timing, ms since the page's time
 * origin). Cheap (a few marks per join) and harmless in production; scripts/bench/call.ts reads them to print where
 * the product's join spends its time beside a bare mediasoup-client page that sets the same marks. Steps: click,
 * ws-open, caps, device, send-transport, recv-transport, join-answer, consume:<kind>, recv-connected,
 * resume:<kind>, produce:<kind>, first-frame (the benchmark's own poller), and before the click gum (camera open).
 */
export function markJoin(step: string): void {
  try {
    performance.mark(`join:${step}`);
  } catch {
    /* no User Timing (very old browser): nothing to record */
  }
}
