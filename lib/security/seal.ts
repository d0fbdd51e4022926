import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Sealing a small value with a key derived from a token the browser holds (a session cookie, an editor token), which
 * the store keeps only as a hash: the sealed value is then unreadable to anyone who has the database but not the
 * token. AES-256-GCM (authenticated: a changed byte fails to open) with a key from HKDF-SHA256 (RFC 5869) of the
 * token, `purpose` as HKDF info so one token's keys for different uses differ. Output: base64url of
 * IV (12 bytes) | tag (16 bytes) | ciphertext.
 */

function keyOf(token: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.alloc(0), `idv seal|${purpose}`, 32));
}

export function sealWithToken(token: string, purpose: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(token, purpose), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or undefined when it was sealed with another token or purpose, or changed. Never throws. */
export function openWithToken(token: string, purpose: string, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', keyOf(token, purpose), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
