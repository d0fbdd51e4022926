import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { createOidcFlows, type FinishResult, type OidcFlows } from '../../../lib/auth/oidc';
import { validateAuthMethod, type AuthMethod } from '../../../lib/auth/method';
import { DEMO_ACCOUNTS, DIGID_ACR_ORDER } from '../../../lib/demo/idp';
import { isUserError } from '../../../lib/errors';
import { pendingFlowsOf } from '../../../lib/identification/pending-store';
import type { PendingFlowStore } from '../../../lib/oidc/pending';
import { createSqliteStore, sqliteHandleOf } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';
import { loginWithHttp, startTestOp, testMethod, type TestOp } from '../../support/oidc-provider';
import { startHostileOp, type HostileOp } from './hostile-op';

const redirectUri = 'http://127.0.0.1:9/auth/callback';

const stores: Store[] = [];
/** Pending requests in a store of their own (SQLite in memory): the flows keep nothing in their own memory. */
function freshPending(store?: Store): PendingFlowStore {
  const s = store ?? createSqliteStore(':memory:');
  if (!store) stores.push(s);
  return pendingFlowsOf(s.pendingIdentifications, 'oidc');
}
after(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const SESSION = 'call-session-1';

const accounts = [
  ...DEMO_ACCOUNTS,
  { id: 'nul', name: 'Nul Nul', givenName: 'Nul', familyName: 'Nul', bsn: '000000000', birthdate: '1990-01-01' },
  // Over the claims cap (32 KB) but under the response cap (256 KB).
  { id: 'groot', name: 'Groot', givenName: 'G', familyName: 'G', bsn: '999993653', birthdate: '1990-01-01', extraClaims: { notes: 'x'.repeat(40_000) } },
  // Over the response cap: refused while reading, before parsing.
  { id: 'reus', name: 'Reus', givenName: 'R', familyName: 'R', bsn: '999993653', birthdate: '1990-01-01', extraClaims: { blob: 'y'.repeat(300_000) } },
];

function clientIdOf(u: string): string {
  return new URL(u).searchParams.get('client_id') ?? '';
}

async function begin(flows: OidcFlows, method: AuthMethod, session = SESSION): Promise<string> {
  const { authorizationUrl } = await flows.start({ method, appointmentId: 'appt-1', callSessionId: session, purpose: 'identificatie', requestId: 'req-1' });
  return authorizationUrl;
}

function noValues(r: FinishResult): void {
  const text = JSON.stringify(r);
  for (const v of ['999993653', '123456789', '000000000', 'Jan Jansen', '1980-01-01']) assert.ok(!text.includes(v), 'a failure carries no claim value');
}

describe('auth/oidc against a real OP on loopback', function () {
  this.timeout(30_000);
  let op: TestOp;
  let flows: OidcFlows;
  before(async () => {
    op = await startTestOp({ redirectUri, accounts });
    flows = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 3000 });
  });
  after(() => op.close());

  for (const auth of ['secret', 'jwt'] as const) {
    it(`happy path with ${auth === 'secret' ? 'client_secret_basic' : 'private_key_jwt'}: PKCE S256, state, nonce, mapped attributes`, async () => {
      const method = testMethod(op, auth);
      const url = await begin(flows, method);
      const u = new URL(url);
      assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
      assert.match(u.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(u.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(u.searchParams.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(clientIdOf(url), method.clientId);
      const res = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri }), callSessionId: SESSION });
      assert.deepEqual(res, {
        ok: true, appointmentId: 'appt-1', requestId: 'req-1', purpose: 'identificatie', methodId: method.id,
        acr: DIGID_ACR_ORDER[2],
        attributes: [
          { key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', value: '999993653' },
          { key: 'name', labelNl: 'Naam', labelEn: 'Name', value: 'Jan Jansen' },
          { key: 'birthdate', labelNl: 'Geboortedatum', labelEn: 'Date of birth', value: '1980-01-01' },
        ],
      });
    });
  }

  for (const [jwtKeyType, jwtKeyAsPem] of [['rsa', true], ['ed25519', false], ['ec', true]] as const) {
    it(`private_key_jwt with an ${jwtKeyType} key given as ${jwtKeyAsPem ? 'PEM' : 'JWK'}`, async () => {
      const other = await startTestOp({ redirectUri, jwtKeyType, jwtKeyAsPem });
      try {
        const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 3000 });
        const res = await f.finish({ currentUrl: await loginWithHttp(await begin(f, testMethod(other, 'jwt')), { redirectUri }), callSessionId: SESSION });
        assert.equal(res.ok, true);
      } finally {
        await other.close();
      }
    });
  }

  it('a wrong client secret -> provider_error (the OP refuses the client)', async () => {
    const method = testMethod(op, 'secret', { credentials: { clientSecret: 'wrong-secret-wrong-secret' } });
    const res = await flows.finish({ currentUrl: await loginWithHttp(await begin(flows, method), { redirectUri }), callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'provider_error');
  });

  it('takes path + query (req.originalUrl) and ignores a spoofed host', async () => {
    const url = await begin(flows, testMethod(op, 'secret'));
    const cb = new URL(await loginWithHttp(url, { redirectUri }));
    const spoofed = `https://evil.example/elsewhere${cb.search}`;
    const res = await flows.finish({ currentUrl: spoofed, callSessionId: SESSION });
    assert.equal(res.ok, true);
    const url2 = await begin(flows, testMethod(op, 'secret'));
    const cb2 = new URL(await loginWithHttp(url2, { redirectUri }));
    assert.equal((await flows.finish({ currentUrl: `${cb2.pathname}${cb2.search}`, callSessionId: SESSION })).ok, true);
  });

  it('two starts give different state, nonce and PKCE', async () => {
    const m = testMethod(op, 'secret');
    const a = new URL(await begin(flows, m));
    const b = new URL(await begin(flows, m));
    for (const p of ['state', 'nonce', 'code_challenge']) assert.notEqual(a.searchParams.get(p), b.searchParams.get(p));
  });

  it('cancel on the login page -> cancelled, with the references but nothing else', async () => {
    const url = await begin(flows, testMethod(op, 'secret'));
    const cb = await loginWithHttp(url, { redirectUri, login: 'cancel' });
    assert.equal(new URL(cb).searchParams.get('error'), 'access_denied');
    const res = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.deepEqual(res, { ok: false, reason: 'cancelled', appointmentId: 'appt-1', requestId: 'req-1', purpose: 'identificatie', methodId: 'digid-test' });
  });

  it('refusing consent -> cancelled', async () => {
    const url = await begin(flows, testMethod(op, 'jwt'));
    const res = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri, consent: 'cancel' }), callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'cancelled');
  });

  it('other error codes from the provider -> provider_error', async () => {
    const url = new URL(await begin(flows, testMethod(op, 'secret')));
    const cb = `${redirectUri}?error=server_error&state=${url.searchParams.get('state')}`;
    const res = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'provider_error');
  });

  it('a state is single use: the second callback is replayed', async () => {
    const url = await begin(flows, testMethod(op, 'secret'));
    const cb = await loginWithHttp(url, { redirectUri });
    const first = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(first.ok, true);
    const second = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.deepEqual(second, { ok: false, reason: 'replayed' });
  });

  it('the callback may land on another instance: it finds the request in the shared store and the method by id', async () => {
    const shared = createSqliteStore(':memory:');
    stores.push(shared);
    const method = testMethod(op, 'secret');
    const one = createOidcFlows({ pending: freshPending(shared), redirectUri, httpTimeoutMs: 3000 });
    const two = createOidcFlows({ pending: freshPending(shared), redirectUri, httpTimeoutMs: 3000, clientById: (id: string) => (id === method.id ? method : undefined) });
    const cb = await loginWithHttp(await begin(one, method), { redirectUri });
    const res = await two.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok, true);
    assert.deepEqual(await one.finish({ currentUrl: cb, callSessionId: SESSION }), { ok: false, reason: 'replayed' }, 'used up for every instance');
    const db = sqliteHandleOf(shared)!;
    const stored = JSON.stringify([db.prepare('SELECT * FROM identification_pending').all(), db.prepare('SELECT * FROM identification_taken').all()]);
    assert.ok(!/999993653|Jan Jansen|1980-01-01/.test(stored), 'no attribute value in the store');
    assert.ok(!stored.includes(new URL(cb).searchParams.get('state')!), 'only the hash of the state');
    // An instance whose flows lack the method, or name another provider under its id, cannot check the answer.
    const lacking = createOidcFlows({ pending: freshPending(shared), redirectUri, httpTimeoutMs: 3000 });
    const cb2 = await loginWithHttp(await begin(one, method), { redirectUri });
    assert.equal((await lacking.finish({ currentUrl: cb2, callSessionId: SESSION })).ok === false, true);
    const moved = createOidcFlows({ pending: freshPending(shared), redirectUri, httpTimeoutMs: 3000, clientById: () => ({ ...method, clientId: 'other-client' }) });
    const cb3 = await loginWithHttp(await begin(one, method), { redirectUri });
    const r3 = await moved.finish({ currentUrl: cb3, callSessionId: SESSION });
    assert.deepEqual(r3.ok === false && r3.reason, 'expired');
    noValues(r3);
  });

  it('callback in another call session -> wrong_session, and the state is spent', async () => {
    const url = await begin(flows, testMethod(op, 'secret'));
    const cb = await loginWithHttp(url, { redirectUri });
    const res = await flows.finish({ currentUrl: cb, callSessionId: 'someone-else' });
    assert.equal(res.ok === false && res.reason, 'wrong_session');
    const again = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(again.ok === false && again.reason, 'replayed');
  });

  it('a request older than 10 minutes -> expired (clock injected)', async () => {
    let t = Date.now();
    const aged = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 3000, now: () => t });
    const url = await begin(aged, testMethod(op, 'secret'));
    const cb = await loginWithHttp(url, { redirectUri });
    t += 10 * 60_000 + 1;
    const res = await aged.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'expired');
    assert.equal(await aged.pendingCount(), 0);
  });

  it('unknown, missing, doubled or malformed state is refused without touching the provider', async () => {
    assert.deepEqual(await flows.finish({ currentUrl: `${redirectUri}?code=abc&state=${randomBytes(32).toString('base64url')}`, callSessionId: SESSION }), { ok: false, reason: 'expired' });
    assert.deepEqual(await flows.finish({ currentUrl: `${redirectUri}?code=abc`, callSessionId: SESSION }), { ok: false, reason: 'validation_failed' });
    assert.deepEqual(await flows.finish({ currentUrl: `${redirectUri}?state=%27%3B--`, callSessionId: SESSION }), { ok: false, reason: 'validation_failed' });
    assert.deepEqual(await flows.finish({ currentUrl: 'http://[::1', callSessionId: SESSION }), { ok: false, reason: 'validation_failed' });
    const url = new URL(await begin(flows, testMethod(op, 'secret')));
    const s = url.searchParams.get('state');
    assert.deepEqual(await flows.finish({ currentUrl: `${redirectUri}?code=a&state=${s}&state=${s}`, callSessionId: SESSION }), { ok: false, reason: 'validation_failed' });
  });

  it('a tampered nonce (ID token for another request) -> validation_failed', async () => {
    const url = new URL(await begin(flows, testMethod(op, 'secret')));
    url.searchParams.set('nonce', randomBytes(32).toString('base64url'));
    const res = await flows.finish({ currentUrl: await loginWithHttp(url.href, { redirectUri }), callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'validation_failed');
    noValues(res);
  });

  it('a tampered PKCE challenge -> validation_failed (the OP refuses our verifier)', async () => {
    const url = new URL(await begin(flows, testMethod(op, 'jwt')));
    url.searchParams.set('code_challenge', createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'));
    const res = await flows.finish({ currentUrl: await loginWithHttp(url.href, { redirectUri }), callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'validation_failed');
  });

  it('a foreign iss on the callback -> validation_failed', async () => {
    const url = await begin(flows, testMethod(op, 'secret'));
    const cb = new URL(await loginWithHttp(url, { redirectUri }));
    assert.equal(cb.searchParams.get('iss'), op.issuer, 'the OP sends iss (RFC 9207)');
    cb.searchParams.set('iss', 'https://evil.example');
    const res = await flows.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'validation_failed');
  });

  for (const [account, label] of [['ongeldig', '123456789'], ['nul', '000000000']] as const) {
    it(`a BSN failing the elfproef (${label}) -> bsn_invalid, no value in the result`, async () => {
      const url = await begin(flows, testMethod(op, 'secret'));
      const res = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri, account }), callSessionId: SESSION });
      assert.equal(res.ok === false && res.reason, 'bsn_invalid');
      noValues(res);
    });
  }

  it('claims not on the allow-list are dropped', async () => {
    const method = testMethod(op, 'secret', { claims: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }] });
    const url = await begin(flows, method);
    const res = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri, account: 'sophie' }), callSessionId: SESSION });
    assert.ok(res.ok);
    assert.deepEqual(res.attributes, [{ key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: '999990019' }]);
    assert.ok(!JSON.stringify(res).includes('Sophie'));
  });

  it('an acr below the minimum -> acr_too_low; the highest passes', async () => {
    const url = await begin(flows, testMethod(op, 'jwt'));
    const low = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri, acr: DIGID_ACR_ORDER[1] }), callSessionId: SESSION });
    assert.equal(low.ok === false && low.reason, 'acr_too_low');
    noValues(low);
    const url2 = await begin(flows, testMethod(op, 'jwt'));
    const high = await flows.finish({ currentUrl: await loginWithHttp(url2, { redirectUri, acr: DIGID_ACR_ORDER[3] }), callSessionId: SESSION });
    assert.ok(high.ok && high.acr === DIGID_ACR_ORDER[3]);
  });

  it('the OP\'s acr comes from the client default, and an account can force its own', async () => {
    const low = await startTestOp({ redirectUri, acr: DIGID_ACR_ORDER[1], accounts: [...DEMO_ACCOUNTS, { ...DEMO_ACCOUNTS[0]!, id: 'hoog', acr: DIGID_ACR_ORDER[3] }] });
    try {
      const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 3000 });
      const byClient = await f.finish({ currentUrl: await loginWithHttp(await begin(f, testMethod(low, 'secret')), { redirectUri }), callSessionId: SESSION });
      assert.equal(byClient.ok === false && byClient.reason, 'acr_too_low');
      const forced = await f.finish({ currentUrl: await loginWithHttp(await begin(f, testMethod(low, 'secret')), { redirectUri, account: 'hoog', acr: DIGID_ACR_ORDER[0] }), callSessionId: SESSION });
      assert.ok(forced.ok && forced.acr === DIGID_ACR_ORDER[3]);
    } finally {
      await low.close();
    }
  });

  it('an acr the method does not know -> acr_too_low', async () => {
    const method = testMethod(op, 'secret', { acr: { minimum: 'loa-low', order: ['loa-low', 'loa-high'] } });
    const res = await flows.finish({ currentUrl: await loginWithHttp(await begin(flows, method), { redirectUri }), callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'acr_too_low');
  });

  it('a huge userinfo answer -> too_large (over the claims cap, and over the response cap)', async () => {
    for (const account of ['groot', 'reus']) {
      const url = await begin(flows, testMethod(op, 'secret'));
      const res = await flows.finish({ currentUrl: await loginWithHttp(url, { redirectUri, account }), callSessionId: SESSION });
      assert.equal(res.ok === false && res.reason, 'too_large', account);
    }
  });

  it('provider down after the login (closed port) -> provider_error', async () => {
    const lone = await startTestOp({ redirectUri });
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 2000 });
    const url = await begin(f, testMethod(lone, 'secret'));
    const cb = await loginWithHttp(url, { redirectUri });
    await lone.close();
    const started = Date.now();
    const res = await f.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'provider_error');
    assert.ok(Date.now() - started < 5000);
  });
});

describe('auth/oidc against unreachable and misbehaving providers', function () {
  this.timeout(20_000);
  let hop: HostileOp;
  let method: AuthMethod;
  beforeEach(async () => {
    hop = await startHostileOp('hostile-client');
    method = validateAuthMethod({
      id: 'hostile', displayName: 'Hostile', logo: 'generic', issuer: hop.issuer, clientId: 'hostile-client',
      clientAuth: 'client_secret_basic', credentials: { clientSecret: 'a-long-enough-secret-1234' }, scopes: ['openid'],
      claims: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }], allowInsecureLoopback: true,
    });
  });
  afterEach(() => hop.close());

  async function callbackFor(f: OidcFlows): Promise<string> {
    const url = new URL(await begin(f, method));
    hop.nonce = url.searchParams.get('nonce') ?? '';
    return `${redirectUri}?code=code-1&state=${url.searchParams.get('state')}&iss=${encodeURIComponent(hop.issuer)}`;
  }

  // The deadline the hanging cases prove. It also bounds discovery and the token call of the good path before the
  // hang, so it must hold on a busy machine: a second and a half, far from the library's 30 s default.
  const DEADLINE_MS = 1500;

  async function startFails(f: OidcFlows): Promise<number> {
    const t = Date.now();
    await assert.rejects(begin(f, method), (e: unknown) => isUserError(e) && e.code === 'provider_error' && !e.message.includes('secret'));
    return Date.now() - t;
  }

  it('the hostile OP itself works when it behaves (control)', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 2000 });
    const res = await f.finish({ currentUrl: await callbackFor(f), callSessionId: SESSION });
    assert.deepEqual(res.ok && res.attributes, [{ key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: '999993653' }]);
  });

  it('closed port at discovery -> start refuses with provider_error', async () => {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    method = validateAuthMethod({ ...method, issuer: `http://127.0.0.1:${port}` });
    await startFails(createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000 }));
  });

  it('discovery that hangs -> provider_error within the timeout', async () => {
    hop.mode.discovery = 'hang';
    const ms = await startFails(createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: DEADLINE_MS }));
    assert.ok(ms < DEADLINE_MS + 8000, `took ${ms} ms: bounded by our deadline, far below the 30 s default`);
  });

  it('discovery answering 500, or naming another issuer -> provider_error', async () => {
    hop.mode.discovery = '500';
    await startFails(createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000 }));
    hop.mode.discovery = 'foreign_issuer';
    await startFails(createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000 }));
  });

  it('a token endpoint that hangs -> provider_error within the timeout', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: DEADLINE_MS });
    const cb = await callbackFor(f);
    hop.mode.token = 'hang';
    const t = Date.now();
    const res = await f.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'provider_error');
    assert.ok(Date.now() - t < DEADLINE_MS + 8000, 'bounded by our deadline, far below the 30 s default');
  });

  it('a broken or hanging JWKS -> provider_error', async () => {
    for (const b of ['500', 'hang'] as const) {
      const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: DEADLINE_MS });
      const cb = await callbackFor(f);
      hop.mode.jwks = b;
      const res = await f.finish({ currentUrl: cb, callSessionId: SESSION });
      assert.equal(res.ok === false && res.reason, 'provider_error', b);
    }
  });

  it('an ID token signed with a key not in the JWKS -> validation_failed', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000 });
    const cb = await callbackFor(f);
    hop.forge = true;
    const res = await f.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'validation_failed');
  });

  it('a failing userinfo endpoint -> provider_error', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: DEADLINE_MS });
    const cb = await callbackFor(f);
    hop.mode.userinfo = '500';
    const res = await f.finish({ currentUrl: cb, callSessionId: SESSION });
    assert.equal(res.ok === false && res.reason, 'provider_error');
  });

  it('discovery is cached per method for its TTL and retried after a failure', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000, discoveryTtlMs: 60_000 });
    await begin(f, method);
    await begin(f, method);
    assert.equal(hop.hits['/.well-known/openid-configuration'], 1);
    f.forgetMethod(method.id);
    await begin(f, method);
    assert.equal(hop.hits['/.well-known/openid-configuration'], 2);
    const g = createOidcFlows({ pending: freshPending(), redirectUri, httpTimeoutMs: 1000 });
    hop.mode.discovery = '500';
    await startFails(g);
    hop.mode.discovery = 'ok';
    await begin(g, method);
  });

  it('refuses a bad redirect URI and bad start input', async () => {
    assert.throws(() => createOidcFlows({ pending: freshPending(), redirectUri: 'http://example.org/cb' }), /https/);
    const f = createOidcFlows({ pending: freshPending(), redirectUri });
    await assert.rejects(f.start({ method, appointmentId: '', callSessionId: 's', purpose: 'p', requestId: 'r' }), /appointmentId/);
    await assert.rejects(f.start({ method, appointmentId: 'a', callSessionId: 's', purpose: 'p'.repeat(201), requestId: 'r' }), /purpose/);
  });

  it('refuses new requests beyond the pending limit', async () => {
    const f = createOidcFlows({ pending: freshPending(), redirectUri, maxPending: 2 });
    await begin(f, method);
    await begin(f, method);
    await assert.rejects(begin(f, method), (e: unknown) => isUserError(e) && e.status === 503);
  });
});
