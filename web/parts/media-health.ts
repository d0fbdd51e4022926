/**
 * Does media really arrive? A call whose signaling works but whose media path is blocked (a firewall that lets
 * nothing but the web page through, a TURN server that is down, a loopback media address Firefox will not use) looks
 * fine on every screen: this watch notices it from engine-neutral statistics (transport state and inbound
 * `bytesReceived`, which Chromium, Firefox and Safari all report) and says which problem it is.
 */
export type MediaProblemKind = 'noConnection' | 'noMedia';

export interface MediaSample {
  /** Both transports connected (ICE and DTLS done). */
  connected: boolean;
  /** The other side is in the call and sends something we consume (not paused). */
  expectingMedia: boolean;
  /** Inbound RTP bytes received so far on the receive transport (audio + video); any change counts as arrival (a
   *  new transport starts its counters at zero again). */
  bytesReceived: number;
}

/**
 * Feed it one sample every few seconds; it answers the current problem (or undefined). `noConnection`: the transports
 * did not connect within `boundMs` of the start (or of losing the connection). `noMedia`: connected, the other side
 * sends, yet no byte arrived for `boundMs`.
 */
export class MediaWatch {
  private since: number;
  private lastBytes = -1;
  private lastGrowth: number;
  private wasConnected = false;

  constructor(
    private readonly boundMs: number,
    now = Date.now(),
  ) {
    this.since = now;
    this.lastGrowth = now;
  }

  sample(s: MediaSample, now = Date.now()): MediaProblemKind | undefined {
    if (s.bytesReceived !== this.lastBytes || !s.expectingMedia) this.lastGrowth = now;
    this.lastBytes = s.bytesReceived;
    if (!s.connected) {
      if (this.wasConnected) {
        this.wasConnected = false;
        this.since = now;
      }
      return now - this.since >= this.boundMs ? 'noConnection' : undefined;
    }
    if (!this.wasConnected) {
      this.wasConnected = true;
      this.lastGrowth = Math.max(this.lastGrowth, now);
    }
    return now - this.lastGrowth >= this.boundMs ? 'noMedia' : undefined;
  }
}
