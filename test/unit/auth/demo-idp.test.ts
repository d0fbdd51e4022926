import { strict as assert } from 'node:assert';
import { startDemoIdp, DEMO_ACCOUNTS, demoAuthMethodConfig } from '../../../lib/demo/idp';
import { validateAuthMethod, publicMethodView } from '../../../lib/auth/method';
import { finishFailureText } from '../../../lib/auth/messages';
import { isValidBsn } from '../../../lib/auth/bsn';
import { startTestOp, type TestOp } from '../../support/oidc-provider';

const redirectUri = 'http://127.0.0.1:9/auth/callback';

describe('demo/idp (the test OP itself)', function () {
  this.timeout(20_000);
  let op: TestOp;
  before(async () => {
    op = await startTestOp({ redirectUri });
  });
  after(() => op.close());

  it('listens on 127.0.0.1 and publishes discovery with PKCE S256, both client auth methods, JWKS and userinfo', async () => {
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const d = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(d.issuer, op.issuer);
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.ok((d.token_endpoint_auth_methods_supported as string[]).includes('private_key_jwt'));
    assert.ok((d.token_endpoint_auth_methods_supported as string[]).includes('client_secret_basic'));
    assert.ok(typeof d.userinfo_endpoint === 'string');
    const jwks = (await (await fetch(String(d.jwks_uri))).json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.d, undefined, 'no private part published');
  });

  it('has the documented test persons, one with a BSN that fails the elfproef', () => {
    const jan = DEMO_ACCOUNTS.find((a) => a.id === 'jan')!;
    assert.equal(jan.bsn, '999993653');
    assert.equal(jan.birthdate, '1980-01-01');
    assert.equal(DEMO_ACCOUNTS.filter((a) => !isValidBsn(a.bsn)).length, 1);
  });

  it('its login page says it is a test and not DigiD, without scripts or inline styles', async () => {
    const auth = new URL(`${op.issuer}/auth`);
    auth.search = new URLSearchParams({ client_id: op.secretClient.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', state: 's'.repeat(43), nonce: 'n'.repeat(43), code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }).toString();
    const r1 = await fetch(auth, { redirect: 'manual' });
    const cookie = r1.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const r2 = await fetch(new URL(r1.headers.get('location')!, op.issuer), { headers: { cookie } });
    const html = await r2.text();
    assert.equal(r2.status, 200);
    assert.match(html, /TEST — geen echte DigiD/);
    assert.match(html, /Jan Jansen/);
    assert.doesNotMatch(html, /<script|style=/);
    const csp = r2.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:9/);
  });

  it('answers an unknown or foreign interaction with a plain error page', async () => {
    const r = await fetch(`${op.issuer}/interaction/abc`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /verlopen of ongeldig/);
    const r2 = await fetch(`${op.issuer}/interaction/%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    assert.equal(r2.status, 404);
    assert.ok(!(await r2.text()).includes('<script>'), 'the path is not echoed as markup');
  });

  it('refuses a client it does not know', async () => {
    const r = await fetch(`${op.issuer}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(redirectUri)}`, { redirect: 'manual' });
    assert.equal(r.status, 400);
    assert.doesNotMatch(await r.text(), /<script/);
  });

  it('gives a demo method config that validates, and a public view without issuer or secrets', () => {
    const m = validateAuthMethod(demoAuthMethodConfig(op.issuer, op.secretClient.clientId, op.secretClient.clientSecret));
    assert.deepEqual(publicMethodView(m), { id: 'demo-digid', displayName: 'DigiD (TEST)', logo: 'digid' });
    assert.match(finishFailureText('acr_too_low', 'en'), /level of assurance/);
    assert.match(finishFailureText('cancelled'), /afgebroken/);
  });

  it('refuses unsafe options', async () => {
    await assert.rejects(startDemoIdp({ issuerHost: '0.0.0.0' as '127.0.0.1', clients: [{ clientId: 'a', clientAuth: 'client_secret_basic', clientSecret: 'x'.repeat(16), redirectUris: [redirectUri] }] }), /127\.0\.0\.1/);
    await assert.rejects(startDemoIdp({ clients: [] }), /at least one client/);
    await assert.rejects(startDemoIdp({ clients: [{ clientId: 'a', clientAuth: 'client_secret_basic', clientSecret: 'short', redirectUris: [redirectUri] }] }), /clientSecret/);
    await assert.rejects(startDemoIdp({ clients: [{ clientId: 'a', clientAuth: 'private_key_jwt', redirectUris: [redirectUri] }] }), /publicJwks/);
    await assert.rejects(startDemoIdp({ clients: [{ clientId: 'a', clientAuth: 'client_secret_basic', clientSecret: 'x'.repeat(16), redirectUris: ['javascript:alert(1)'] }] }), /redirect URI/);
  });
});
