import assert from 'node:assert/strict';
import { DEFAULT_ALGORITHMS, MAX_TOKEN_CHARS, verifyAuthResult, type TokenKeys } from '../../../lib/idcontact/token';
import { generateKeys, sealAuthResult, unsignedJws, type KeyPairPem } from '../../support/idcontact-tokens';

describe('ID Contact auth result (JWE around JWS)', function () {
  this.timeout(20_000);
  let ours: KeyPairPem; // RSA: RSA-OAEP recipient
  let oursEc: KeyPairPem; // EC: ECDH-ES recipient
  let plugin: KeyPairPem; // RS256 signer
  let pluginEc: KeyPairPem; // ES256 signer
  let stranger: KeyPairPem;
  let keys: TokenKeys;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    [ours, oursEc, plugin, pluginEc, stranger] = await Promise.all([generateKeys('rsa'), generateKeys('ec'), generateKeys('rsa'), generateKeys('ec'), generateKeys('rsa')]);
    keys = { decryptionKey: ours.privateKey, signingKeys: [{ key: plugin.publicKey }, { key: pluginEc.publicKey }], algorithms: DEFAULT_ALGORITHMS };
  });

  it('RSA-OAEP + A128CBC-HS256 around RS256: the attributes come out', async () => {
    const jwe = await sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, attributes: { bsn: '999993653', fullname: 'Jan Jansen' }, sessionUrl: 'https://auth.example/session' });
    const r = await verifyAuthResult(jwe, keys);
    assert.deepEqual(r.ok && { ...r.attributes }, { bsn: '999993653', fullname: 'Jan Jansen' });
    assert.equal(r.ok && r.sessionUrl, 'https://auth.example/session');
  });

  it('ECDH-ES around ES256, with a second configured signing key', async () => {
    const jwe = await sealAuthResult({ signKey: pluginEc.privateKey, encKey: oursEc.publicKey, attributes: { email: 'a@example.test' } });
    const r = await verifyAuthResult(jwe, { ...keys, decryptionKey: oursEc.privateKey });
    assert.equal(r.ok, true);
  });

  const refusals: [string, () => Promise<string>, string, Partial<TokenKeys>?][] = [
    ['a JWE for another recipient key', () => sealAuthResult({ signKey: plugin.privateKey, encKey: stranger.publicKey, attributes: { bsn: '999993653' } }), 'decrypt_failed'],
    ['a JWS signed by an unknown key', () => sealAuthResult({ signKey: stranger.privateKey, encKey: ours.publicKey, attributes: { bsn: '999993653' } }), 'signature_invalid'],
    ['alg: none', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, innerJws: unsignedJws({ sub: 'id-contact-attributes', status: 'succes', attributes: { bsn: '999993653' }, iat: now(), exp: now() + 300 }) }), 'alg_not_allowed'],
    ['an expired exp', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, iat: now() - 400, exp: now() - 100 }), 'token_expired'],
    ['an iat too far back (replay of an old token)', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, iat: now() - 3600, exp: now() + 300 }), 'token_expired'],
    ['an iat in the future', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, iat: now() + 600, exp: now() + 900 }), 'token_not_yet_valid'],
    ['status: failed', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, status: 'failed' }), 'auth_failed'],
    ['another subject', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, sub: 'id-contact-widget-params' }), 'wrong_subject'],
    ['a non-string attribute value', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, attributes: { bsn: 999993653 } }), 'validation_failed'],
    ['an unknown status', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, status: 'maybe' }), 'validation_failed'],
    ['a content encryption not allowed', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, enc: 'A256GCM' }), 'alg_not_allowed'],
    ['a signature alg not allowed (PS256 when only RS256/ES256 are)', () => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, signAlg: 'PS256' }), 'alg_not_allowed'],
    ['an ES256 token when only RS256 is allowed', () => sealAuthResult({ signKey: pluginEc.privateKey, encKey: ours.publicKey }), 'alg_not_allowed', { algorithms: { ...DEFAULT_ALGORITHMS, signature: ['RS256'] } }],
    ['a plain JWS instead of a JWE', async () => (await sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey })).split('.').slice(0, 3).join('.'), 'malformed_token'],
    ['garbage', async () => 'not.a.token.at.all!', 'malformed_token'],
    ['more than 64 KB', async () => 'a.'.repeat(MAX_TOKEN_CHARS), 'too_large'],
  ];
  for (const [what, make, reason, override] of refusals) {
    it(`refuses ${what}: ${reason}`, async () => {
      const r = await verifyAuthResult(await make(), { ...keys, ...override });
      assert.deepEqual(r, { ok: false, reason });
    });
  }

  it('a small clock skew is tolerated; a kid narrows the keys only when the configuration names kids', async () => {
    const skewed = await sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, iat: now() + 20, exp: now() + 320, kid: 'k1' });
    assert.equal((await verifyAuthResult(skewed, keys)).ok, true);
    const named = { ...keys, signingKeys: [{ key: plugin.publicKey, kid: 'other' }] };
    assert.deepEqual(await verifyAuthResult(skewed, named), { ok: false, reason: 'signature_invalid' });
  });

  it('a tag named __proto__ stays a plain key', async () => {
    const jwe = await sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, attributes: JSON.parse('{"__proto__":"x","bsn":"999993653"}') as Record<string, string> });
    const r = await verifyAuthResult(jwe, keys);
    assert.ok(r.ok);
    assert.equal(Object.getPrototypeOf(r.attributes), null);
    assert.equal(r.attributes.bsn, '999993653');
  });
});
