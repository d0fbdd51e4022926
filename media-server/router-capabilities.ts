import { MEDIA_CODECS } from './room';

let cached: unknown;

/**
 * The RTP capabilities of every room's router, computed the way mediasoup's Router computes them from MEDIA_CODECS
 * (mediasoup/lib/ortc, no worker needed). Pages embed them so the browser loads its mediasoup-client Device during
 * the device check instead of after the click; the client still compares them with the router's answer.
 */
export function routerRtpCapabilities(): unknown {
  if (!cached) {
    // ortc holds only codec logic; requiring it does not load mediasoup's Worker (see mediasoup-loader.ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ortc = require('mediasoup/lib/ortc') as { generateRouterRtpCapabilities(codecs: unknown[]): unknown };
    cached = ortc.generateRouterRtpCapabilities(MEDIA_CODECS);
  }
  return cached;
}
