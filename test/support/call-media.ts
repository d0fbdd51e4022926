import type { Page } from 'playwright-core';

/**
 * Records the page's RTCPeerConnections so a test can read their stats. Added with `context.addInitScript`, it runs
 * through the DevTools protocol before any page script: the page has no test hook and its CSP is unaffected.
 */
export const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  const list = [];
  Object.defineProperty(window, '__idvTestPcs', { value: list });
  window.RTCPeerConnection = class extends Native { constructor(...a) { super(...a); list.push(this); } };
})();`;

export interface MediaFlow {
  pcs: number;
  framesDecoded: number;
  audioBytes: number;
  /** Frames the remote <video id="remote-video"> presented (getVideoPlaybackQuality). */
  playedFrames: number;
}

const FLOW = `(async () => {
  const all = (window.__idvTestPcs || []).filter((pc) => pc.connectionState !== 'closed');
  let framesDecoded = 0, audioBytes = 0;
  for (const pc of all) {
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') framesDecoded += Number(s.framesDecoded || 0);
      if (s.kind === 'audio') audioBytes += Number(s.bytesReceived || 0);
    });
  }
  const video = document.getElementById('remote-video');
  const playedFrames = video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
  return { pcs: (window.__idvTestPcs || []).length, framesDecoded, audioBytes, playedFrames };
})()`;

export function mediaFlow(page: Page): Promise<MediaFlow> {
  return page.evaluate<MediaFlow>(FLOW);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Video is decoded and played and audio received, and all keep growing: the call really carries media into this page.
 * `minPcs`: at least this many peer connections were ever made (after a rejoin: more than before).
 */
export async function assertMediaFlows(page: Page, label: string, minPcs = 0, timeoutMs = 30_000): Promise<void> {
  const a = await waitFor(`${label}: video and audio arrive`, async () => {
    const f = await mediaFlow(page);
    return f.pcs >= minPcs && f.framesDecoded > 0 && f.audioBytes > 0 ? f : undefined;
  }, timeoutMs);
  await waitFor(`${label}: video and audio keep arriving`, async () => {
    const b = await mediaFlow(page);
    return b.framesDecoded > a.framesDecoded + 10 && b.audioBytes > a.audioBytes && b.playedFrames > a.playedFrames;
  }, timeoutMs);
}
