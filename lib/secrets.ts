import * as fs from 'node:fs';
import * as path from 'node:path';
import { hkdfSync, randomBytes } from 'node:crypto';

const SECRET_FILE = '.credential-secret';

/**
 * The instance secret: IDV_CREDENTIAL_SECRET when set, otherwise one generated once and kept (0600) in the data dir.
 * Node-RED encrypts flow credentials with it; our HMAC keys are derived from it, so cookies and CSRF tokens of
 * another instance (another secret) are worthless here.
 */
export function loadOrCreateSecret(dataDir: string, fromEnv?: string): { secret: string; generated: boolean } {
  if (fromEnv) return { secret: fromEnv, generated: false };
  const file = path.join(dataDir, SECRET_FILE);
  if (fs.existsSync(file)) {
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new Error(`${file} holds no usable secret; remove it only if the flows hold no credentials`);
    return { secret, generated: false };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, generated: true };
}

export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `idv:${purpose}`, 32));
}
