import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh secret token: 256 bits from the CSPRNG, base64url (43 characters). */
export function newToken(bytes = 32): string {
  if (bytes < 16) throw new Error('tokens carry at least 128 bits');
  return randomBytes(bytes).toString('base64url');
}

/** What the store keeps instead of a token: SHA-256 hex. Tokens are high-entropy, so no salt/KDF is needed. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (false on different lengths without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Shape check before any lookup: base64url of the expected length, so junk never reaches the store. */
export function looksLikeToken(value: unknown, bytes = 32): value is string {
  const len = Math.ceil((bytes * 8) / 6);
  return typeof value === 'string' && value.length === len && /^[A-Za-z0-9_-]+$/.test(value);
}

export function hmac(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('base64url');
}
