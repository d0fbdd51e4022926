/**
 * What an ID Contact auth plugin does with its keys, built in the test from the published protocol
 * (id-contact/docs webdocs/docs/concepts/JWE.md): sign `{sub, status, attributes, session_url?, iat, exp}` as a JWS,
 * put it as `{"njwt": <JWS>}` into a JWE for the communication plugin's public key. Keys are generated here with jose.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { loadJose } from '../../lib/idcontact/token';

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh key pair: 'rsa' (2048 bits, for RSA-OAEP and RS256) or 'ec' (P-256, for ECDH-ES and ES256). */
export async function generateKeys(kind: 'rsa' | 'ec'): Promise<KeyPairPem> {
  const jose = await loadJose();
  const { privateKey, publicKey } = await jose.generateKeyPair(kind === 'rsa' ? 'RS256' : 'ES256', { extractable: true, modulusLength: 2048 });
  const privatePem = await jose.exportPKCS8(privateKey);
  const publicPem = await jose.exportSPKI(publicKey);
  return { privatePem, publicPem, privateKey: createPrivateKey(privatePem), publicKey: createPublicKey(publicPem) };
}

export interface SealOptions {
  /** The auth plugin's private signing key. */
  signKey: KeyObject;
  /** The communication plugin's public key (recipient). */
  encKey: KeyObject;
  status?: string;
  attributes?: Record<string, unknown>;
  sessionUrl?: string;
  sub?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Default iat + 300, as id-contact-jwt sets it. */
  exp?: number;
  signAlg?: string;
  encAlg?: string;
  enc?: string;
  kid?: string;
  /** Replaces the signed JWS inside the JWE as is (e.g. an `alg: none` token). */
  innerJws?: string;
}

/** An auth result as an ID Contact auth plugin sends it (application/jwt body). */
export async function sealAuthResult(o: SealOptions): Promise<string> {
  const jose = await loadJose();
  const iat = o.iat ?? Math.floor(Date.now() / 1000);
  const signAlg = o.signAlg ?? (o.signKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256');
  const claims: Record<string, unknown> = { sub: o.sub ?? 'id-contact-attributes', status: o.status ?? 'succes', iat, exp: o.exp ?? iat + 300 };
  if (o.attributes) claims.attributes = o.attributes;
  if (o.sessionUrl) claims.session_url = o.sessionUrl;
  const jws =
    o.innerJws ??
    (await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ typ: 'JWT', alg: signAlg, ...(o.kid ? { kid: o.kid } : {}) })
      .sign(o.signKey));
  const encAlg = o.encAlg ?? (o.encKey.asymmetricKeyType === 'ec' ? 'ECDH-ES' : 'RSA-OAEP');
  return new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify({ njwt: jws })))
    .setProtectedHeader({ typ: 'JWT', cty: 'JWT', alg: encAlg, enc: o.enc ?? 'A128CBC-HS256' })
    .encrypt(o.encKey);
}

/** An unsigned JWS (`alg: none`) with the given claims: what an attacker without a key could make. */
export function unsignedJws(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ typ: 'JWT', alg: 'none' })}.${b64(claims)}.`;
}
