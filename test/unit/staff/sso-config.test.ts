import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { clientAuthFor } from '../../../lib/oidc/client';
import { loadOpenIdClient } from '../../../lib/oidc/relying-party';
import { openWithToken, sealWithToken } from '../../../lib/security/seal';
import { claimAt, rolesFromClaims, staffSignInFromEnv, type StaffSsoSettings } from '../../../lib/staff/sso-config';
import { tempDir } from '../../support/runtime';

const SECRET = 'a-client-secret-of-some-length';
const base = {
  IDV_STAFF_OIDC_ISSUER: 'https://login.microsoftonline.com/0000-tenant/v2.0',
  IDV_STAFF_OIDC_CLIENT_ID: 'c0ffee00-0000-4000-8000-000000000001',
  IDV_STAFF_OIDC_CLIENT_SECRET: SECRET,
  IDV_STAFF_OIDC_ROLE_AGENT: 'aaaa-1111, aaaa-2222',
};

describe('staff SSO settings from the environment', () => {
  it('is off without an issuer; local accounts on by default', () => {
    assert.deepEqual(staffSignInFromEnv({}, false), { config: { localAccounts: true }, problems: [] });
  });

  it('reads a client-secret configuration with defaults', () => {
    const { config, problems } = staffSignInFromEnv(base, false);
    assert.deepEqual(problems, []);
    const s = config.sso!;
    assert.equal(s.client.clientAuth, 'client_secret_basic');
    assert.equal(s.client.allowInsecureLoopback, false);
    assert.deepEqual(s.scopes, ['openid', 'profile', 'email']);
    assert.equal(s.rolesClaim, 'groups');
    assert.equal(s.usernameClaim, 'preferred_username');
    assert.deepEqual(s.roleValues, { agent: ['aaaa-1111', 'aaaa-2222'], kcc: [], admin: [], manager: [] });
    assert.deepEqual(s.extraAuthParams, {});
  });

  it('lists every problem by variable name, never a secret', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...base, IDV_STAFF_OIDC_ISSUER: 'http://idp.gemeente.test' }, /IDV_STAFF_OIDC_ISSUER: the issuer must use https/],
      [{ ...base, IDV_STAFF_OIDC_ISSUER: 'http://127.0.0.1:9' }, /IDV_STAFF_OIDC_ISSUER: the issuer must use https \(http on loopback/],
      [{ ...base, IDV_STAFF_OIDC_CLIENT_ID: '' }, /IDV_STAFF_OIDC_CLIENT_ID: required/],
      [{ ...base, IDV_STAFF_OIDC_CLIENT_SECRET: 'kort' }, /IDV_STAFF_OIDC_CLIENT_SECRET: required for client_secret_basic, 16 to 512/],
      [{ ...base, IDV_STAFF_OIDC_CLIENT_SECRET: '' }, /IDV_STAFF_OIDC_CLIENT_SECRET or IDV_STAFF_OIDC_PRIVATE_KEY_FILE: one of them is required/],
      [{ ...base, IDV_STAFF_OIDC_ROLE_AGENT: '' }, /IDV_STAFF_OIDC_ROLE_AGENT: map at least one group or role to a role/],
      [{ ...base, IDV_STAFF_OIDC_ROLES_CLAIM: 'groepen met spatie' }, /IDV_STAFF_OIDC_ROLES_CLAIM: must be a claim name/],
      [{ ...base, IDV_STAFF_OIDC_AUTH_PARAMS: 'state=x' }, /IDV_STAFF_OIDC_AUTH_PARAMS: parameter "state" is set by ID Video itself/],
      [{ ...base, IDV_STAFF_OIDC_SCOPES: 'openid "profile"' }, /IDV_STAFF_OIDC_SCOPES: a list of scope names/],
      [{ ...base, IDV_STAFF_LOCAL_ACCOUNTS: 'misschien' }, /IDV_STAFF_LOCAL_ACCOUNTS must be "on" or "off"/],
      [{ ...base, IDV_STAFF_OIDC_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }, /set IDV_STAFF_OIDC_CLIENT_SECRET or IDV_STAFF_OIDC_PRIVATE_KEY_FILE, not both/],
      [{ IDV_STAFF_OIDC_CLIENT_ID: 'x', IDV_STAFF_OIDC_ROLE_ADMIN: 'y' }, /IDV_STAFF_OIDC_CLIENT_ID, IDV_STAFF_OIDC_ROLE_ADMIN are set but IDV_STAFF_OIDC_ISSUER is not/],
      [{ IDV_STAFF_LOCAL_ACCOUNTS: 'off' }, /IDV_STAFF_LOCAL_ACCOUNTS=off needs the staff sign-in/],
    ];
    for (const [env, re] of cases) {
      const { config, problems } = staffSignInFromEnv(env, false);
      assert.equal(config.sso, undefined);
      assert.match(problems.join('\n'), re, JSON.stringify(env));
      assert.ok(!problems.join('\n').includes(SECRET));
    }
  });

  it('allows an http issuer on loopback only when asked (demo mode), and the runtime config says so', () => {
    assert.deepEqual(staffSignInFromEnv({ ...base, IDV_STAFF_OIDC_ISSUER: 'http://127.0.0.1:9' }, true).problems, []);
    const c = loadConfig({ ...base, IDV_STAFF_OIDC_ISSUER: 'http://127.0.0.1:9', IDV_STAFF_LOCAL_ACCOUNTS: 'off' });
    assert.equal(c.staff.localAccounts, false);
    assert.equal(c.staff.sso?.client.allowInsecureLoopback, true);
    assert.throws(
      () => loadConfig({ ...base, IDV_STAFF_OIDC_ISSUER: 'http://127.0.0.1:9', IDV_MODE: 'production', IDV_PUBLIC_URL: 'https://v.test', SMTP_URL: 'smtps://a:b@m.test', IDV_CREDENTIAL_SECRET: 'x'.repeat(40) }),
      /IDV_STAFF_OIDC_ISSUER: the issuer must use https/,
    );
  });

  it('reads a private key (PEM or JWK) and a certificate from files; the client assertion names the certificate (x5t#S256) as Entra ID requires', async () => {
    const dir = tempDir('idv-sso-key-');
    try {
      const keyFile = path.join(dir, 'key.pem');
      const certFile = path.join(dir, 'cert.pem');
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=idvideo-test'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const env = { ...base, IDV_STAFF_OIDC_CLIENT_SECRET: '', IDV_STAFF_OIDC_PRIVATE_KEY_FILE: keyFile, IDV_STAFF_OIDC_CERTIFICATE_FILE: certFile };
      const { config, problems } = staffSignInFromEnv(env, false);
      assert.deepEqual(problems, []);
      const client = config.sso!.client;
      assert.equal(client.clientAuth, 'private_key_jwt');

      const oc = await loadOpenIdClient();
      const auth = await clientAuthFor(oc, client);
      const body = new URLSearchParams();
      await (auth as (as: unknown, c: unknown, b: URLSearchParams, h: Headers) => Promise<void>)(
        { issuer: client.issuer, token_endpoint: `${client.issuer}/token` },
        { client_id: client.clientId },
        body,
        new Headers(),
      );
      const [header, payload] = (body.get('client_assertion') ?? '').split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
      const der = new X509Certificate(fs.readFileSync(certFile)).raw;
      assert.equal(header['x5t#S256'], createHash('sha256').update(der).digest('base64url'));
      assert.equal(header.x5t, createHash('sha1').update(der).digest('base64url'));
      assert.equal(payload.iss, client.clientId);
      assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

      // A certificate of another key is refused at start, as is an unreadable key file.
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
      fs.writeFileSync(path.join(dir, 'other.jwk'), JSON.stringify(other));
      assert.match(staffSignInFromEnv({ ...env, IDV_STAFF_OIDC_PRIVATE_KEY_FILE: path.join(dir, 'other.jwk') }, false).problems.join(), /certificate does not belong to the private key/);
      assert.deepEqual(staffSignInFromEnv({ ...env, IDV_STAFF_OIDC_PRIVATE_KEY_FILE: path.join(dir, 'other.jwk'), IDV_STAFF_OIDC_CERTIFICATE_FILE: '' }, false).problems, []);
      fs.writeFileSync(path.join(dir, 'junk.pem'), 'not a key');
      assert.match(staffSignInFromEnv({ ...env, IDV_STAFF_OIDC_PRIVATE_KEY_FILE: path.join(dir, 'junk.pem') }, false).problems.join(), /IDV_STAFF_OIDC_PRIVATE_KEY_FILE: the private key could not be read/);
      assert.match(staffSignInFromEnv({ ...env, IDV_STAFF_OIDC_PRIVATE_KEY_FILE: path.join(dir, 'missing.pem') }, false).problems.join(), /cannot read .*missing\.pem \(ENOENT\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('roles from the claims of the gemeente provider', () => {
  const s = (rolesClaim: string, values: Partial<StaffSsoSettings['roleValues']>): Pick<StaffSsoSettings, 'rolesClaim' | 'roleValues'> => ({
    rolesClaim,
    roleValues: { agent: [], kcc: [], admin: [], manager: [], ...values },
  });

  it('Entra ID groups (object ids) and app roles, case-insensitive, several roles at once', () => {
    const groups = { groups: ['5B1C0F3E-aaaa', 'x'] };
    assert.deepEqual(rolesFromClaims(groups, s('groups', { agent: ['5b1c0f3e-AAAA'], admin: ['x'] })), { ok: true, roles: ['agent', 'admin'] });
    assert.deepEqual(rolesFromClaims({ roles: ['IDV.Agent'] }, s('roles', { agent: ['IDV.Agent'] })), { ok: true, roles: ['agent'] });
  });

  it("Keycloak's realm_access.roles by path; a claim whose whole name has dots (ADFS) wins over the path", () => {
    assert.deepEqual(rolesFromClaims({ realm_access: { roles: ['idv-kcc'] } }, s('realm_access.roles', { kcc: ['idv-kcc'] })), { ok: true, roles: ['kcc'] });
    const adfs = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
    assert.deepEqual(rolesFromClaims({ [adfs]: 'IDV Managers' }, s(adfs, { manager: ['idv managers'] })), { ok: true, roles: ['manager'] });
    assert.equal(claimAt({ a: { b: 1 } }, 'a.b.c'), undefined);
    assert.equal(claimAt({ a: [1] }, 'a.0'), undefined);
  });

  it('absent, none mapped, or left out by Entra (group overage) are told apart; other types are ignored', () => {
    assert.deepEqual(rolesFromClaims({}, s('groups', { agent: ['a'] })), { ok: false, reason: 'absent', values: 0 });
    assert.deepEqual(rolesFromClaims({ groups: ['b', 7, null] }, s('groups', { agent: ['a'] })), { ok: false, reason: 'none', values: 1 });
    const overage = { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/…' } } };
    assert.deepEqual(rolesFromClaims(overage, s('groups', { agent: ['a'] })), { ok: false, reason: 'overage', values: 0 });
  });
});

describe('sealing with a token', () => {
  it('opens only with the same token and purpose; a changed byte fails', () => {
    const sealed = sealWithToken('token-a', 'p', 'eyJ.inhoud');
    assert.equal(openWithToken('token-a', 'p', sealed), 'eyJ.inhoud');
    assert.equal(openWithToken('token-b', 'p', sealed), undefined);
    assert.equal(openWithToken('token-a', 'q', sealed), undefined);
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1] ^= 1;
    assert.equal(openWithToken('token-a', 'p', raw.toString('base64url')), undefined);
    assert.equal(openWithToken('token-a', 'p', 'kort'), undefined);
    assert.notEqual(sealWithToken('token-a', 'p', 'x'), sealWithToken('token-a', 'p', 'x'), 'a fresh IV each time');
  });
});
