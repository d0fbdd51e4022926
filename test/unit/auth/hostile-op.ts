import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign } from 'node:crypto';

/**
 * A misbehaving OpenID provider on loopback for the failure paths a real OP will not produce on demand: hanging
 * endpoints, HTTP 500s, a discovery document naming another issuer, a broken JWKS. Its tokens are real RS256 JWTs.
 */

export type Behaviour = 'ok' | 'hang' | '500';

export interface HostileOp {
  issuer: string;
  mode: {
    discovery: Behaviour | 'foreign_issuer';
    token: Behaviour;
    jwks: Behaviour;
    userinfo: Behaviour;
  };
  /** The nonce the next ID token carries (the test copies it from the authorization URL). */
  nonce: string;
  /** Sign ID tokens with a key that is not in the JWKS (a forged token). */
  forge: boolean;
  clientId: string;
  hits: Record<string, number>;
  close(): Promise<void>;
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

export async function startHostileOp(clientId: string): Promise<HostileOp> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'hostile-1';
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const op: HostileOp = {
    issuer,
    mode: { discovery: 'ok', token: 'ok', jwks: 'ok', userinfo: 'ok' },
    nonce: '',
    forge: false,
    clientId,
    hits: {},
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  const json = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    op.hits[path] = (op.hits[path] ?? 0) + 1;
    const behave = (b: string): boolean => {
      if (b === 'hang') return true; // never answers
      if (b === '500') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('boom');
        return true;
      }
      return false;
    };
    req.resume();
    req.on('end', () => {
      if (path === '/.well-known/openid-configuration') {
        if (behave(op.mode.discovery)) return;
        return json(res, {
          issuer: op.mode.discovery === 'foreign_issuer' ? 'https://evil.example' : issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          userinfo_endpoint: `${issuer}/me`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          authorization_response_iss_parameter_supported: true,
          code_challenge_methods_supported: ['S256'],
        });
      }
      if (path === '/token') {
        if (behave(op.mode.token)) return;
        const now = Math.floor(Date.now() / 1000);
        const header = b64({ alg: 'RS256', kid, typ: 'JWT' });
        const payload = b64({ iss: issuer, aud: clientId, sub: 'user-1', nonce: op.nonce, iat: now, exp: now + 300, acr: 'high' });
        const sig = sign('sha256', Buffer.from(`${header}.${payload}`), op.forge ? forger : privateKey).toString('base64url');
        return json(res, { access_token: 'at-1', token_type: 'Bearer', expires_in: 300, id_token: `${header}.${payload}.${sig}` });
      }
      if (path === '/jwks') {
        if (behave(op.mode.jwks)) return;
        return json(res, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
      }
      if (path === '/me') {
        if (behave(op.mode.userinfo)) return;
        return json(res, { sub: 'user-1', bsn: '999993653' });
      }
      res.writeHead(404);
      res.end();
    });
  });
  return op;
}
