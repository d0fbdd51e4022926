import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a flows credentials file as Node-RED keeps it with a credentialSecret (aes-256-ctr under SHA-256 of the
 * secret, a random 16-byte IV as hex before the base64 ciphertext: @node-red/runtime lib/nodes/credentials.js), so a
 * runtime test starts with credentials in place as an operator's deployed flows have them — never in flows.json.
 */
export function writeFlowCredentials(dataDir: string, secret: string, credentials: Record<string, Record<string, string>>, flowFile = 'flows.json'): void {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const body = iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64');
  fs.writeFileSync(path.join(dataDir, flowFile.replace(/\.json$/, '_cred.json')), JSON.stringify({ $: body }));
}
