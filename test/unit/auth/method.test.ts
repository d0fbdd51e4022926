import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { acrSatisfies, validateAuthMethod } from '../../../lib/auth/method';
import { isUserError, type UserError } from '../../../lib/errors';

const SECRET = 'super-secret-value-1234567890';
const base = {
  id: 'digid',
  displayName: 'DigiD',
  logo: 'digid',
  issuer: 'https://broker.example.nl/oidc',
  clientId: 'gemeente',
  clientAuth: 'client_secret_basic',
  credentials: { clientSecret: SECRET },
  scopes: ['profile', 'bsn'],
  extraAuthParams: { acr_values: 'substantial', kc_idp_hint: 'digid' },
  acr: { minimum: 'substantial', order: ['low', 'substantial', 'high'] },
  claims: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }],
};

function fails(input: unknown, field: string): UserError {
  try {
    validateAuthMethod(input);
  } catch (e) {
    assert.ok(isUserError(e) && e.code === 'invalid_auth_method');
    assert.ok(e.fields && field in e.fields, `expected a problem with ${field}, got ${JSON.stringify(e.fields)}`);
    assert.ok(!e.message.includes(SECRET));
    return e;
  }
  assert.fail(`accepted an invalid ${field}`);
}

describe('auth/method validation', () => {
  it('accepts a complete method, adds openid, freezes the result', () => {
    const m = validateAuthMethod(base);
    assert.deepEqual(m.scopes, ['openid', 'profile', 'bsn']);
    assert.equal(m.claims[0]!.kind, 'bsn');
    assert.ok(Object.isFrozen(m) && Object.isFrozen(m.claims));
    assert.equal(m.allowInsecureLoopback, false);
  });
  it('requires https, except loopback http when explicitly allowed', () => {
    fails({ ...base, issuer: 'http://broker.example.nl' }, 'issuer');
    fails({ ...base, issuer: 'http://127.0.0.1:4000' }, 'issuer');
    fails({ ...base, issuer: 'http://10.0.0.1', allowInsecureLoopback: true }, 'issuer');
    fails({ ...base, issuer: 'https://user:pw@broker.example.nl' }, 'issuer');
    fails({ ...base, issuer: 'javascript:alert(1)' }, 'issuer');
    assert.equal(validateAuthMethod({ ...base, issuer: 'http://127.0.0.1:4000', allowInsecureLoopback: true }).issuer, 'http://127.0.0.1:4000');
  });
  it('checks logo, id, names and client auth', () => {
    fails({ ...base, logo: 'data:image/png;base64,AAAA' }, 'logo');
    assert.equal(validateAuthMethod({ ...base, logo: 'https://cdn.example.nl/yivi.svg' }).logo, 'https://cdn.example.nl/yivi.svg');
    fails({ ...base, id: 'Bad Id' }, 'id');
    fails({ ...base, displayName: 'a\nb' }, 'displayName');
    fails({ ...base, clientAuth: 'none' }, 'clientAuth');
    fails({ ...base, credentials: { clientSecret: 'short' } }, 'clientSecret');
  });
  it('accepts private_key_jwt with a PEM or a JWK and refuses junk or public keys without echoing them', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1' };
    assert.equal(validateAuthMethod({ ...base, clientAuth: 'private_key_jwt', credentials: { privateKey: pem } }).credentials.privateKey, pem);
    assert.equal(validateAuthMethod({ ...base, clientAuth: 'private_key_jwt', credentials: { privateKey: jwk } }).credentials.privateKeyId, 'k1');
    const e = fails({ ...base, clientAuth: 'private_key_jwt', credentials: { privateKey: '-----BEGIN PRIVATE KEY-----\nSECRETJUNK\n-----END PRIVATE KEY-----' } }, 'privateKey');
    assert.ok(!e.message.includes('SECRETJUNK'));
    fails({ ...base, clientAuth: 'private_key_jwt', credentials: { privateKey: publicKey.export({ format: 'pem', type: 'spki' }) } }, 'privateKey');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    fails({ ...base, clientAuth: 'private_key_jwt', credentials: { privateKey: weak } }, 'privateKey');
  });
  it('refuses extra parameters that would override the flow', () => {
    for (const p of ['state', 'nonce', 'redirect_uri', 'code_challenge', 'scope', 'client_id']) fails({ ...base, extraAuthParams: { [p]: 'x' } }, 'extraAuthParams');
    fails({ ...base, extraAuthParams: { ok: 'a\r\nb' } }, 'extraAuthParams');
  });
  it('checks the acr order and minimum', () => {
    fails({ ...base, acr: { minimum: 'middle', order: ['low', 'high'] } }, 'acr');
    fails({ ...base, acr: { minimum: 'low', order: ['low', 'low'] } }, 'acr');
    fails({ ...base, acr: { minimum: 'low', order: [] } }, 'acr');
    const req = { minimum: 'substantial', order: ['low', 'substantial', 'high'] };
    assert.equal(acrSatisfies(req, 'high'), true);
    assert.equal(acrSatisfies(req, 'substantial'), true);
    assert.equal(acrSatisfies(req, 'low'), false);
    assert.equal(acrSatisfies(req, 'unknown'), false);
    assert.equal(acrSatisfies(req, undefined), false);
    assert.equal(acrSatisfies(undefined, undefined), true);
  });
  it('checks the claim mapping', () => {
    fails({ ...base, claims: [] }, 'claims');
    fails({ ...base, claims: [{ claim: 'bsn', key: 'Bsn', labelNl: 'BSN', labelEn: 'BSN' }] }, 'claims[0].key');
    fails({ ...base, claims: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'number' }] }, 'claims[0].kind');
    fails({ ...base, claims: [{ claim: 'a', key: 'x', labelNl: 'A', labelEn: 'A' }, { claim: 'b', key: 'x', labelNl: 'B', labelEn: 'B' }] }, 'claims[1].key');
    fails({ ...base, claims: [{ claim: 'a b', key: 'x', labelNl: 'A', labelEn: 'A' }] }, 'claims[0].claim');
    fails({ ...base, claims: [{ claim: 'a', key: 'x', labelNl: '', labelEn: 'A' }] }, 'claims[0].labelNl');
  });
  it('refuses non-objects', () => {
    for (const v of [null, undefined, 'x', 42, []]) assert.throws(() => validateAuthMethod(v), (e: unknown) => isUserError(e));
  });
});
