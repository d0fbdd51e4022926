import sharp from 'sharp';
import type { DocumentKind } from './sniff';

/** Largest picture taken, in pixels (width × height): 40 MP covers phone cameras; a decompression bomb is refused. */
export const MAX_PIXELS = 40_000_000;

export type ImageProblem = 'too_many_pixels' | 'unreadable';

export interface CleanImage {
  bytes: Buffer;
  kind: 'jpeg' | 'png';
  width: number;
  height: number;
}

// Two cores shared with the media server: one libvips thread per re-encode, one re-encode per request.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Decodes and re-encodes a shared photo with sharp (libvips inside its npm package) so nothing but the pixels
 * survives: EXIF (camera, time, GPS position), XMP, IPTC, comments and any bytes appended after the image are gone.
 * The EXIF orientation is applied first, so the picture stands as the resident saw it. JPEG stays JPEG (quality 88),
 * PNG stays PNG. sharp checks the pixel count from the header before decoding (limitInputPixels): a small file that
 * claims a huge picture is refused without allocating it. Returns the problem instead of throwing.
 */
export async function reencodeImage(bytes: Buffer, kind: 'jpeg' | 'png', maxPixels = MAX_PIXELS): Promise<CleanImage | ImageProblem> {
  try {
    const pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true }).rotate();
    const out = kind === 'jpeg' ? pipeline.jpeg({ quality: 88 }) : pipeline.png({ compressionLevel: 6 });
    const { data, info } = await out.toBuffer({ resolveWithObject: true });
    return { bytes: data, kind, width: info.width, height: info.height };
  } catch (e) {
    return /pixel limit/i.test((e as Error).message) ? 'too_many_pixels' : 'unreadable';
  }
}

export function isCleanImage(v: CleanImage | ImageProblem): v is CleanImage {
  return typeof v === 'object';
}

export type { DocumentKind };
