/**
 * What a shared file really is, from its first bytes (magic numbers), never from its name or the type the browser
 * claims: JPEG (ISO/IEC 10918-1: SOI marker FF D8 followed by a marker FF xx), PNG (ISO/IEC 15948: the 8-byte
 * signature 89 50 4E 47 0D 0A 1A 0A), PDF (ISO 32000-1 §7.5.2: the header "%PDF-" followed by a version digit).
 * Three signatures: small and exact, so no library for it.
 */
export type DocumentKind = 'jpeg' | 'png' | 'pdf';
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['jpeg', 'png', 'pdf'];

export const MIME: Record<DocumentKind, string> = { jpeg: 'image/jpeg', png: 'image/png', pdf: 'application/pdf' };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The kind the bytes say, or undefined for anything else. */
export function sniffKind(bytes: Buffer): DocumentKind | undefined {
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 8 && bytes.subarray(0, 5).toString('latin1') === '%PDF-' && /[12]/.test(String.fromCharCode(bytes[5]))) return 'pdf';
  return undefined;
}

/**
 * The kind a browser's Content-Type claims: a DocumentKind, 'none' when it claims nothing useful (empty,
 * application/octet-stream: some phones send that for a camera photo), or 'other' for a type we do not take.
 */
export function declaredKind(contentType: string | undefined): DocumentKind | 'none' | 'other' {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (t === '' || t === 'application/octet-stream') return 'none';
  if (t === 'image/jpeg' || t === 'image/jpg' || t === 'image/pjpeg') return 'jpeg';
  if (t === 'image/png') return 'png';
  if (t === 'application/pdf') return 'pdf';
  return 'other';
}
