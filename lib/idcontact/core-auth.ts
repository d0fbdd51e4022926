import { X509Certificate } from 'node:crypto';
import type { Request } from 'express';
import { hashToken, safeEqual } from '../security/tokens';
import type { StartAuth } from './config';
import { normaliseFingerprint } from './core-fields';

/**
 * Whether a call to POST /start_communication comes from the configured ID Contact core. The plugin API asks for
 * HTTP Basic (id-contact/docs docs/openapi/comm_plugin.openapi.yml, `security: BasicAuth`); ID Video accepts the
 * shared secret as the Basic password (any user name) or as a Bearer token. Or a client certificate: TLS ends at the
 * proxy, which verifies the certificate and passes it on (nginx `$ssl_client_verify`, `$ssl_client_escaped_cert`);
 * ID Video pins its SHA-256 fingerprint. Those headers count only behind a trusted proxy (IDV_TRUST_PROXY), which
 * must overwrite them on every request. Every comparison is of fixed-length hashes, in constant time.
 *
 * Returns undefined when the caller is the core, else why not (a code for the log, never the presented secret).
 */
export function coreCallerProblem(req: Request, auth: StartAuth, trustProxy: number): 'not_configured' | 'unauthorized' | undefined {
  if (auth.mode === 'secret') {
    if (!auth.secretHash) return 'not_configured';
    const header = req.headers.authorization ?? '';
    let presented: string | undefined;
    const bearer = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    const basic = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
    if (bearer) presented = bearer[1];
    else if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      presented = colon >= 0 ? decoded.slice(colon + 1) : undefined;
    }
    // Hash first: both sides have the same length, so the comparison time says nothing about the secret.
    return presented !== undefined && safeEqual(hashToken(presented), auth.secretHash) ? undefined : 'unauthorized';
  }
  if (trustProxy <= 0) return 'not_configured';
  if (req.headers['x-ssl-client-verify'] !== 'SUCCESS') return 'unauthorized';
  const escaped = req.headers['x-ssl-client-cert'];
  if (typeof escaped !== 'string' || escaped.length > 16_384) return 'unauthorized';
  try {
    const cert = new X509Certificate(decodeURIComponent(escaped));
    return safeEqual(normaliseFingerprint(cert.fingerprint256), auth.sha256) ? undefined : 'unauthorized';
  } catch {
    return 'unauthorized';
  }
}
