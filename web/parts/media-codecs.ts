/**
 * Which video codec to send with. The media server forwards and never transcodes, so the sender must use a codec the
 * other side can decode. VP8 first (every engine decodes it; Firefox as Debian ships it has no H.264 without the
 * OpenH264 plug-in), H.264 constrained baseline when the other side takes only H.264 (Safari on older iPhones).
 */
import type { types } from 'mediasoup-client';

/** The sender's codec for `peerCodecs` (mime types the receiver decodes; empty or unknown: no constraint). */
export function chooseVideoCodec(own: types.RtpCapabilities, peerCodecs: readonly string[] | undefined): types.RtpCodecCapability | undefined {
  const video = (own.codecs ?? []).filter((c) => c.kind === 'video' && !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
  const takes = (mime: string) => !peerCodecs || peerCodecs.length === 0 || peerCodecs.some((m) => m.toLowerCase() === mime.toLowerCase());
  const vp8 = video.find((c) => /\/vp8$/i.test(c.mimeType) && takes(c.mimeType));
  if (vp8) return vp8;
  // Constrained baseline (profile-level-id 42e0xx) is what every H.264 decoder, Safari's included, accepts.
  const h264 = video.filter((c) => /\/h264$/i.test(c.mimeType) && takes(c.mimeType));
  return h264.find((c) => /^42e0/i.test(String(c.parameters?.['profile-level-id'] ?? ''))) ?? h264[0] ?? video.find((c) => takes(c.mimeType));
}

/** Whether a producer's codec (its mime type) can reach a receiver that decodes `peerCodecs`. */
export function receiverTakes(mime: string | undefined, peerCodecs: readonly string[] | undefined): boolean {
  if (!mime || !peerCodecs || peerCodecs.length === 0) return true;
  return peerCodecs.some((m) => m.toLowerCase() === mime.toLowerCase());
}
