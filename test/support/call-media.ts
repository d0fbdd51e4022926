/** A page of either driver (playwright-core for Chromium, puppeteer-core over WebDriver BiDi for Firefox). */
export interface EvaluatingPage {
  evaluate(expression: string): Promise<unknown>;
}

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
  /**
   * Playback position of the remote <video id="remote-video"> (s): it advances only while the element plays.
   * Engine-neutral, unlike getVideoPlaybackQuality().totalVideoFrames, which stays 0 in Firefox for WebRTC streams.
   */
  playedTime: number;
  /** Decoded picture width of the remote video element (0 before the first frame). */
  videoWidth: number;
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
  return { pcs: (window.__idvTestPcs || []).length, framesDecoded, audioBytes, playedTime: video ? video.currentTime : 0, videoWidth: video ? video.videoWidth : 0 };
})()`;

export function mediaFlow(page: EvaluatingPage): Promise<MediaFlow> {
  return page.evaluate(FLOW) as Promise<MediaFlow>;
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
 * Only statistics every engine reports (inbound-rtp framesDecoded and bytesReceived, the element's currentTime and
 * videoWidth). `minPcs`: at least this many peer connections were ever made (after a rejoin: more than before).
 */
export async function assertMediaFlows(page: EvaluatingPage, label: string, minPcs = 0, timeoutMs = 30_000): Promise<MediaFlow> {
  const a = await waitFor(`${label}: video and audio arrive`, async () => {
    const f = await mediaFlow(page);
    return f.pcs >= minPcs && f.framesDecoded > 0 && f.audioBytes > 0 ? f : undefined;
  }, timeoutMs);
  return waitFor(`${label}: video and audio keep arriving`, async () => {
    const b = await mediaFlow(page);
    return b.framesDecoded > a.framesDecoded + 10 && b.audioBytes > a.audioBytes && b.playedTime > a.playedTime && b.videoWidth > 0 ? b : undefined;
  }, timeoutMs);
}

/** Per inbound stream of the page's open peer connections: video frames decoded, audio bytes received. */
export async function inboundStreams(page: EvaluatingPage): Promise<{ video: number[]; audio: number[] }> {
  return (await page.evaluate(`(async () => {
    const video = [], audio = [];
    for (const pc of (window.__idvTestPcs || []).filter((p) => p.connectionState !== 'closed')) {
      (await pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') video.push(Number(s.framesDecoded || 0));
        if (s.kind === 'audio') audio.push(Number(s.bytesReceived || 0));
      });
    }
    return { video, audio };
  })()`)) as { video: number[]; audio: number[] };
}

/**
 * A call of three seen from one page: both others' video is decoded and both others' audio received, and all four
 * streams keep growing (the page's two of the six paths). Engine-neutral inbound-rtp statistics only.
 */
export async function assertMediaFromTwo(page: EvaluatingPage, label: string, timeoutMs = 45_000): Promise<void> {
  const a = await waitFor(`${label}: two video and two audio streams`, async () => {
    const s = await inboundStreams(page);
    return s.video.filter((f) => f > 0).length >= 2 && s.audio.filter((b) => b > 0).length >= 2 ? s : undefined;
  }, timeoutMs);
  await waitFor(`${label}: both keep arriving`, async () => {
    const b = await inboundStreams(page);
    const grown = (x: number[], y: number[]) => x.filter((v, i) => v > (y[i] ?? 0)).length >= 2;
    return grown(b.video, a.video) && grown(b.audio, a.audio);
  }, 30_000);
}

/**
 * The selected ICE candidate pair of every open peer connection, from getStats (the test's proof of the path):
 * local candidate type (host, srflx, prflx, relay), its protocol (udp/tcp) and, for relay candidates, how the browser
 * reaches the TURN server (relayProtocol udp/tcp/tls).
 */
export interface SelectedPath {
  localType: string;
  protocol: string;
  relayProtocol?: string;
  remoteType: string;
  remoteAddress?: string;
}

const PATHS = `(async () => {
  const out = [];
  for (const pc of (window.__idvTestPcs || []).filter((p) => p.connectionState === 'connected')) {
    const stats = new Map();
    (await pc.getStats()).forEach((s) => stats.set(s.id, s));
    let pair;
    for (const s of stats.values()) if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    if (!pair) for (const s of stats.values()) if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
    if (!pair) continue;
    const l = stats.get(pair.localCandidateId) || {}, r = stats.get(pair.remoteCandidateId) || {};
    out.push({ localType: l.candidateType, protocol: l.protocol, relayProtocol: l.relayProtocol, remoteType: r.candidateType, remoteAddress: r.address || r.ip });
  }
  return out;
})()`;

export function selectedPaths(page: EvaluatingPage): Promise<SelectedPath[]> {
  return page.evaluate(PATHS) as Promise<SelectedPath[]>;
}

/**
 * Starts recording whether the element `id` is shown (its `hidden` attribute off) at any moment from now on, and
 * returns a reader. A banner that shows for a moment is seen even when no poll would catch it.
 */
export async function recordShown(page: EvaluatingPage, id: string): Promise<() => Promise<boolean>> {
  const key = JSON.stringify(`__idvShown_${id}`);
  await page.evaluate(`(() => {
  const el = document.getElementById(${JSON.stringify(id)});
  if (!el) throw new Error('no element #' + ${JSON.stringify(id)});
  window[${key}] = !el.hidden;
  new MutationObserver(() => { if (!el.hidden) window[${key}] = true; }).observe(el, { attributes: true, attributeFilter: ['hidden'] });
})()`);
  return async () => (await page.evaluate(`window[${key}] === true`)) === true;
}
