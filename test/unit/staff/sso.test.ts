import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import express from 'express';
import { editorGuard } from '../../../lib/editor/guard';
import { createEditorSessions, type EditorSessions } from '../../../lib/editor/sessions';
import { createCsrf } from '../../../lib/http/csrf';
import { createRateLimiter, type RateLimiter } from '../../../lib/http/rate-limit';
import { createStaffAuth, type StaffAuth } from '../../../lib/staff/auth';
import { staffLoginRouter } from '../../../lib/staff/login-page';
import { hashPassword } from '../../../lib/staff/password';
import { createStaffSso, type StaffSso } from '../../../lib/staff/sso';
import { staffSignInFromEnv } from '../../../lib/staff/sso-config';
import { openDatabase, type Db } from '../../../lib/store/db';
import { SqliteStaffStore } from '../../../lib/store/sqlite/staff';
import { tempDir } from '../../support/runtime';
import { HttpBrowser, startStaffIdp, type StaffAccount, type StaffIdp } from '../../support/staff-idp';

/**
 * Staff sign-in through the gemeente's provider, in process against a real OpenID provider on loopback (the test IdP
 * plays Entra ID / Keycloak with employees in groups), walked with plain HTTP: who lands where, who gets "no access",
 * a removed group at the next sign-in, forged/replayed/foreign callbacks, sign-out at the provider, the sign-in limit,
 * local accounts switched off, and the editor's token after an SSO sign-in.
 */

const PASSWORD = 'een lokaal wachtwoord 2026';
const ACCOUNTS: StaffAccount[] = [
  { id: 'sub-anna', username: 'anna@gemeente.test', name: 'Anna de Vries', email: 'anna@gemeente.test', groups: ['IDV-Agents', 'Iedereen'] },
  { id: 'sub-karin', username: 'karin@gemeente.test', name: 'Karin Claassen', email: 'karin@gemeente.test', groups: ['idv-kcc'] },
  { id: 'sub-bert', username: 'bert@gemeente.test', name: 'Bert Beheer', email: 'bert@gemeente.test', groups: ['idv-beheer'] },
  { id: 'sub-manon', username: 'manon@gemeente.test', name: 'Manon Manager', email: 'manon@gemeente.test', groups: ['idv-managers'] },
  { id: 'sub-zonder', username: 'zonder@gemeente.test', name: 'Zonder Groep', email: 'zonder@gemeente.test', groups: ['Iedereen'] },
  { id: 'sub-wisselt', username: 'wisselt@gemeente.test', name: 'Wim Wisselt', email: 'wisselt@gemeente.test', groups: ['idv-agents'] },
  { id: 'sub-weg', username: 'weg@gemeente.test', name: 'Willem Weg', email: 'weg@gemeente.test', groups: ['idv-agents'] },
  // Their username is a local account's: the provider cannot take it over.
  { id: 'sub-lokaal', username: 'lokaal', name: 'Niet Lokaal', email: 'x@gemeente.test', groups: ['idv-agents'] },
  { id: 'sub-uit', username: 'uit@gemeente.test', name: 'Uit Geschakeld', email: 'uit@gemeente.test', groups: ['idv-agents'] },
];

function envFor(idp: StaffIdp, extra: Record<string, string> = {}): Record<string, string> {
  return {
    IDV_STAFF_OIDC_ISSUER: idp.issuer,
    IDV_STAFF_OIDC_CLIENT_ID: idp.clientId,
    IDV_STAFF_OIDC_CLIENT_SECRET: idp.clientSecret,
    IDV_STAFF_OIDC_ROLE_AGENT: 'idv-agents',
    IDV_STAFF_OIDC_ROLE_KCC: 'idv-kcc',
    IDV_STAFF_OIDC_ROLE_ADMIN: 'idv-beheer',
    IDV_STAFF_OIDC_ROLE_MANAGER: 'idv-managers',
    ...extra,
  };
}

/** A limiter the test can swap (the sign-in limit test uses a small one). */
function swappable(initial: RateLimiter): RateLimiter & { current: RateLimiter } {
  const s = {
    current: initial,
    hit: (k: string, p?: number) => s.current.hit(k, p),
    peek: (k: string) => s.current.peek(k),
    reset: (k: string) => s.current.reset(k),
  };
  return s;
}

interface Rp {
  base: string;
  db: Db;
  store: SqliteStaffStore;
  auth: StaffAuth;
  sso: StaffSso;
  editor: EditorSessions;
  limiter: ReturnType<typeof swappable>;
  logs: string[];
  close(): Promise<void>;
}

async function startRp(dir: string, name: string, env: Record<string, string>, localAccounts = true): Promise<Rp> {
  const db = openDatabase(path.join(dir, `${name}.sqlite`));
  const store = new SqliteStaffStore(db);
  await store.upsertUser({ username: 'lokaal', displayName: 'Lokale Beheerder', roles: ['admin', 'agent'], passwordHash: await hashPassword(PASSWORD) });
  const { config, problems } = staffSignInFromEnv({ ...env, IDV_STAFF_LOCAL_ACCOUNTS: localAccounts ? 'on' : 'off' }, true);
  assert.deepEqual(problems, []);
  const auth = createStaffAuth({ store, secure: false, localAccounts });
  const editor = createEditorSessions({ store, localAccounts });
  const limiter = swappable(createRateLimiter({ windowMs: 15 * 60_000, max: 1000 }));
  const logs: string[] = [];
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sso = createStaffSso({ settings: config.sso!, store, auth, publicUrl: () => base, log: (m) => logs.push(m), httpTimeoutMs: 5000 });
  app.use(staffLoginRouter({ auth, csrf: createCsrf(randomBytes(32), false), secure: false, limiter, sso, log: (m) => logs.push(m) }));
  app.use('/admin', editorGuard({ sessions: editor, staff: auth, signInLimiter: limiter, publicUrl: () => base, log: (m) => logs.push(m), sso }));
  app.get('/agent', auth.requireStaff('agent'), (req, res) => res.send(`dashboard of ${req.staff?.username}`));
  app.get('/kcc/afspraak', auth.requireStaff('kcc'), (req, res) => res.send(`kcc form for ${req.staff?.username}`));
  return {
    base, db, store, auth, sso, editor, limiter, logs,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
        db.close();
      }),
  };
}

const uris = (...rps: Rp[]) => ({
  redirectUris: rps.map((r) => `${r.base}/login/sso/callback`),
  postLogoutRedirectUris: rps.map((r) => `${r.base}/login/sso/signed-out`),
});

/** Signs `account` in at `rp` in browser `b` from `start` (default /login/sso) and returns where it ends. */
async function signIn(b: HttpBrowser, rp: Rp, account: string, start = '/login/sso', stop?: (u: string) => boolean) {
  const page = await b.follow(rp.base + start);
  if (!page.body.includes('Inloggen bij de gemeente (test)')) return page; // the provider's session: straight back
  return b.loginAt(page, account, stop);
}

/** The provider session (`sid`) of the ID token `b`'s session at `rp` was opened with. */
async function sidOf(rp: Rp, b: HttpBrowser): Promise<string> {
  const cookie = [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const idToken = await rp.auth.idTokenOf({ headers: { cookie } } as express.Request);
  const sid = (JSON.parse(Buffer.from(String(idToken).split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid?: string }).sid;
  assert.ok(sid, 'the provider puts sid in the ID token');
  return sid;
}

/** A token signed with HMAC under the client secret: what a provider never sends as a logout token here. */
function hs256(claims: Record<string, unknown>, secret: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'HS256', typ: 'logout+jwt' })}.${part(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Waits for a condition (the provider posts its logout token while the browser confirms). */
async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const atCallback = (rp: Rp) => (u: string) => u.startsWith(`${rp.base}/login/sso/callback`);

describe('staff sign-in through the gemeente provider (SSO)', function () {
  this.timeout(60_000);
  const dir = tempDir('idv-sso-');
  let idp: StaffIdp;
  let rp: Rp;
  let rpOff: Rp;

  before(async () => {
    idp = await startStaffIdp({ accounts: ACCOUNTS });
    rp = await startRp(dir, 'on', envFor(idp));
    rpOff = await startRp(dir, 'off', envFor(idp), false);
    await idp.configure({ ...uris(rp, rpOff), backchannelLogoutUri: `${rp.base}/login/sso/backchannel-logout` });
  });
  after(async () => {
    await rp?.close();
    await rpOff?.close();
    await idp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an agent lands on the dashboard; the account carries name, e-mail and roles from the ID token', async () => {
    const b = new HttpBrowser();
    const page = await b.follow(`${rp.base}/login/sso`);
    assert.match(page.url, new RegExp(`^${idp.issuer}/interaction/`));
    const u = new URL((await new HttpBrowser().request(`${rp.base}/login/sso`)).headers.get('location')!);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(u.searchParams.get('scope'), 'openid profile email');
    assert.equal(u.searchParams.get('redirect_uri'), `${rp.base}/login/sso/callback`);
    const end = await b.loginAt(page, 'sub-anna');
    assert.equal(end.url, `${rp.base}/agent`);
    assert.equal(end.body, 'dashboard of anna@gemeente.test');
    const user = await rp.store.getUser('anna@gemeente.test');
    assert.deepEqual([user?.displayName, user?.email, user?.roles, user?.sso], ['Anna de Vries', 'anna@gemeente.test', ['agent'], true]);
    // The provider's session: the next sign-in goes straight back, without the login page.
    const again = await b.follow(`${rp.base}/login/sso`);
    assert.equal(again.url, `${rp.base}/agent`);
  });

  it('a KCC employee lands on the KCC form, an administrator on the editor, a manager on the start page; next= is kept, a foreign one not', async () => {
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-karin')).url, `${rp.base}/kcc/afspraak`);
    const admin = await signIn(new HttpBrowser(), rp, 'sub-bert', '/login/sso', (u) => u.startsWith(`${rp.base}/admin/`));
    assert.equal(admin.url, `${rp.base}/admin/`);
    const manager = await signIn(new HttpBrowser(), rp, 'sub-manon');
    assert.equal(manager.url, `${rp.base}/staff`);
    assert.match(manager.body, /Voor uw rol zijn er nog geen pagina/);
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-karin', `/login/sso?next=${encodeURIComponent('/kcc/afspraak?x=1')}`)).url, `${rp.base}/kcc/afspraak?x=1`);
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-karin', `/login/sso?next=${encodeURIComponent('//evil.example/x')}`)).url, `${rp.base}/kcc/afspraak`);
  });

  it('the login page offers the gemeente account first, the local form second', async () => {
    const body = await (await new HttpBrowser().request(`${rp.base}/login?next=/agent`)).text();
    assert.ok(body.indexOf('href="/login/sso?next=%2Fagent"') > 0 && body.indexOf('href="/login/sso?next=%2Fagent"') < body.indexOf('name="password"'));
    assert.match(body, /Aanmelden met uw gemeenteaccount/);
  });

  it('without a mapped group: "no access" (403), nothing written, one log line without names', async () => {
    const b = new HttpBrowser();
    const end = await signIn(b, rp, 'sub-zonder');
    assert.equal(end.status, 403);
    assert.match(end.body, /Geen toegang tot ID Video/);
    assert.match(end.body, /U bent bij de gemeente aangemeld als Zonder Groep/);
    assert.equal(await rp.store.getUser('zonder@gemeente.test'), undefined);
    assert.ok(rp.logs.some((l) => /no mapped role \("groups" has 1 value\(s\), none mapped\)/.test(l)));
    assert.ok(!rp.logs.join('\n').includes('Iedereen') && !rp.logs.join('\n').includes('zonder'));
    assert.equal((await b.request(`${rp.base}/agent`)).status, 303);
  });

  it('a removed group takes effect at the next sign-in, for every session of that person', async () => {
    const first = new HttpBrowser();
    assert.equal((await signIn(first, rp, 'sub-weg')).url, `${rp.base}/agent`);
    idp.setGroups('sub-weg', ['Iedereen']);
    // The first browser's session still reads the account as it was: the provider is not asked per request.
    assert.equal((await first.request(`${rp.base}/agent`)).status, 200);
    const second = await signIn(new HttpBrowser(), rp, 'sub-weg');
    assert.equal(second.status, 403);
    assert.match(second.body, /Geen toegang tot ID Video/);
    assert.deepEqual((await rp.store.getUser('weg@gemeente.test'))?.roles, []);
    const res = await first.request(`${rp.base}/agent`);
    assert.equal(res.status, 303, 'the session of the first browser has ended');
    assert.match(res.headers.get('location') ?? '', /^\/login\?next=/);
  });

  it('a changed group changes the roles of the sessions that are open', async () => {
    const first = new HttpBrowser();
    assert.equal((await signIn(first, rp, 'sub-wisselt')).url, `${rp.base}/agent`);
    idp.setGroups('sub-wisselt', ['idv-kcc']);
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-wisselt')).url, `${rp.base}/kcc/afspraak`);
    assert.equal((await first.request(`${rp.base}/agent`)).status, 403);
    assert.equal((await first.request(`${rp.base}/kcc/afspraak`)).status, 200);
  });

  it('a forged state, a malformed one and a callback without one are refused (400) without a session', async () => {
    const b = new HttpBrowser();
    await b.follow(`${rp.base}/login/sso`);
    for (const q of [`code=abc&state=${randomBytes(32).toString('base64url')}`, 'code=abc&state=kort', 'code=abc', `state=${'x'.repeat(5000)}`]) {
      const res = await b.follow(`${rp.base}/login/sso/callback?${q}`);
      assert.equal(res.status, 400, q.slice(0, 40));
      assert.match(res.body, /Aanmelden is niet gelukt/);
      assert.doesNotMatch(res.body, /Error:|stack|openid-client|oauth4webapi|node_modules/i);
    }
    assert.ok(![...b.jar.keys()].includes('idv_staff'));
  });

  it('a replayed callback is refused: the code and state are single use', async () => {
    const b = new HttpBrowser();
    const cb = await signIn(b, rp, 'sub-karin', '/login/sso', atCallback(rp));
    assert.equal((await b.follow(cb.url)).url, `${rp.base}/kcc/afspraak`);
    const again = await b.follow(cb.url);
    assert.equal(again.status, 400);
    assert.match(again.body, /al gebruikt/);
  });

  it('a callback in another browser is refused (the attempt is bound to the browser that started it)', async () => {
    const b = new HttpBrowser();
    const cb = await signIn(b, rp, 'sub-karin', '/login/sso', atCallback(rp));
    const other = await new HttpBrowser().follow(cb.url);
    assert.equal(other.status, 400);
    assert.match(other.body, /in een andere browser begonnen/);
    assert.equal((await b.follow(cb.url)).status, 400, 'and the attempt is spent');
  });

  it('an answer from another provider (wrong issuer) is refused, even with the same client', async () => {
    const evil = await startStaffIdp({ accounts: ACCOUNTS, clientSecret: idp.clientSecret });
    try {
      await evil.configure(uris(rp));
      const b = new HttpBrowser();
      const atIdp = await b.follow(`${rp.base}/login/sso`, (u) => u.startsWith(`${idp.issuer}/auth`));
      const foreign = atIdp.url.replace(idp.issuer, evil.issuer);
      const cb = await b.loginAt(await b.follow(foreign), 'sub-bert', atCallback(rp));
      assert.equal(new URL(cb.url).searchParams.get('iss'), evil.issuer);
      const res = await b.follow(cb.url);
      assert.equal(res.status, 400);
      assert.match(res.body, /kon niet worden gecontroleerd/);
      assert.ok(![...b.jar.keys()].includes('idv_staff'));
    } finally {
      await evil.close();
    }
  });

  it('an ID token for another nonce is refused', async () => {
    const b = new HttpBrowser();
    const atIdp = await b.follow(`${rp.base}/login/sso`, (u) => u.startsWith(`${idp.issuer}/auth`));
    const u = new URL(atIdp.url);
    u.searchParams.set('nonce', randomBytes(32).toString('base64url'));
    // A fresh browser at the provider: no session there, so it asks who signs in.
    const cb = await b.loginAt(await b.follow(u.href), 'sub-karin', atCallback(rp));
    const res = await b.follow(cb.url);
    assert.equal(res.status, 400);
    assert.match(res.body, /kon niet worden gecontroleerd/);
  });

  it('cancelling at the provider, and an error from it, get a page saying so', async () => {
    const b = new HttpBrowser();
    const atIdp = await b.follow(`${rp.base}/login/sso`, (u) => u.startsWith(`${idp.issuer}/auth`));
    const state = new URL(atIdp.url).searchParams.get('state')!;
    const cancelled = await b.follow(`${rp.base}/login/sso/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`);
    assert.equal(cancelled.status, 400);
    assert.match(cancelled.body, /afgebroken/);
  });

  it('sign-out ends the local session and the provider session (RP-initiated logout)', async () => {
    const b = new HttpBrowser();
    assert.equal((await signIn(b, rp, 'sub-anna')).url, `${rp.base}/agent`);
    const login = await (await b.request(`${rp.base}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login)![1];
    const out = await b.request(`${rp.base}/logout`, { form: { _csrf: csrf } });
    assert.equal(out.status, 200);
    const body = await out.text();
    const refresh = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(body)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(refresh?.startsWith(`${idp.issuer}/session/end?`), 'the page goes on to the provider');
    const end = new URL(refresh!);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${rp.base}/login/sso/signed-out`);
    assert.match(end.searchParams.get('id_token_hint') ?? '', /^ey/);
    assert.equal((await b.request(`${rp.base}/agent`)).status, 303, 'the local session has ended');
    const confirm = await b.follow(refresh!);
    const back = await b.confirmLogout(confirm);
    assert.equal(back.url, `${rp.base}/login?out=1`);
    assert.match(back.body, /U bent afgemeld/);
    // The provider's session has ended too: it asks who signs in again.
    const next = await b.follow(`${rp.base}/login/sso`);
    assert.match(next.url, new RegExp(`^${idp.issuer}/interaction/`));
  });

  it('a local account signs out locally only', async () => {
    const b = new HttpBrowser();
    const page = await (await b.request(`${rp.base}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
    assert.equal((await b.request(`${rp.base}/login`, { form: { _csrf: csrf, username: 'lokaal', password: PASSWORD, next: '/agent' } })).status, 303);
    const out = await b.request(`${rp.base}/logout`, { form: { _csrf: csrf } });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/login?out=1');
  });

  it("an account of the provider cannot take a local account's username; a disabled one stays out", async () => {
    const taken = await signIn(new HttpBrowser(), rp, 'sub-lokaal');
    assert.equal(taken.status, 403);
    assert.match(taken.body, /al in gebruik door een ander account/);
    assert.equal((await rp.store.getUser('lokaal'))?.displayName, 'Lokale Beheerder');
    assert.ok(rp.logs.some((l) => l.includes('"lokaal"') && l.includes('staff-account remove')));

    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-uit')).url, `${rp.base}/agent`);
    await rp.store.setDisabled('uit@gemeente.test', true);
    const off = await signIn(new HttpBrowser(), rp, 'sub-uit');
    assert.equal(off.status, 403);
    assert.match(off.body, /uitgeschakeld/);
  });

  it('an account of the provider has no password here: the form refuses it without counting a failure', async () => {
    await signIn(new HttpBrowser(), rp, 'sub-karin');
    for (let i = 0; i < 6; i++) assert.equal((await rp.auth.verify('karin@gemeente.test', '!sso')).ok, false);
    assert.equal((await rp.store.getUser('karin@gemeente.test'))?.failedLogins, 0);
  });

  it('the sign-in limit counts the SSO door: starts and refused callbacks, then 429 with Retry-After', async () => {
    rp.limiter.current = createRateLimiter({ windowMs: 60_000, max: 3 });
    try {
      const b = new HttpBrowser();
      assert.equal((await b.request(`${rp.base}/login/sso`)).status, 303);
      assert.equal((await b.follow(`${rp.base}/login/sso/callback?code=a&state=${randomBytes(32).toString('base64url')}`)).status, 400);
      assert.equal((await b.request(`${rp.base}/login/sso`)).status, 303);
      const res = await b.request(`${rp.base}/login/sso`);
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.match(await res.text(), /Te veel aanmeldpogingen/);
      const page = await (await b.request(`${rp.base}/login`)).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
      assert.equal((await b.request(`${rp.base}/login`, { form: { _csrf: csrf, username: 'lokaal', password: PASSWORD } })).status, 429, 'one limit for both doors');
    } finally {
      rp.limiter.current = createRateLimiter({ windowMs: 15 * 60_000, max: 1000 });
    }
  });

  it('local accounts switched off: no password form, the password refused, old local sessions and editor tokens end', async () => {
    // A session and an editor token of the local account from before the switch.
    const before = createStaffAuth({ store: rpOff.store, secure: false });
    const login = await before.login('lokaal', PASSWORD);
    assert.ok(login.ok);
    const token = (await createEditorSessions({ store: rpOff.store }).issue('lokaal')).token;

    const b = new HttpBrowser();
    const page = await (await b.request(`${rpOff.base}/login`)).text();
    assert.doesNotMatch(page, /name="password"/);
    assert.match(page, /Aanmelden met uw gemeenteaccount/);
    const refused = await b.request(`${rpOff.base}/login`, { form: { username: 'lokaal', password: PASSWORD } });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /is uitgeschakeld/);
    assert.ok(![...b.jar.keys()].includes('idv_staff'));

    b.jar.set('idv_staff', login.ok ? login.sessionId : '');
    assert.equal((await b.request(`${rpOff.base}/agent`)).status, 303, 'the local session no longer works');
    assert.equal(await rpOff.editor.validate(token), null, 'nor the editor token');
    const grant = await b.request(`${rpOff.base}/admin/auth/token`, { form: { client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'lokaal', password: PASSWORD } });
    assert.equal(grant.status, 400);
    assert.equal(((await grant.json()) as { error: string }).error, 'unsupported_grant_type');

    assert.equal((await signIn(new HttpBrowser(), rpOff, 'sub-anna')).url, `${rpOff.base}/agent`, 'the gemeente account works');
  });

  it('a sign-out at the provider ends the person\'s sessions here and their editor token (Back-Channel Logout 1.0)', async () => {
    const b = new HttpBrowser();
    assert.equal((await signIn(b, rp, 'sub-anna')).url, `${rp.base}/agent`);
    const other = new HttpBrowser();
    assert.equal((await signIn(other, rp, 'sub-anna')).url, `${rp.base}/agent`);
    const sids = rp.db.prepare("SELECT sso_sid FROM staff_sessions WHERE username = 'anna@gemeente.test'").all() as { sso_sid: string | null }[];
    assert.ok(sids.length >= 2 && sids.every((r) => /^[0-9a-f]{64}$/.test(r.sso_sid ?? '')), 'the provider session of each sign-in is kept, hashed');
    const { token } = await rp.editor.issue('anna@gemeente.test');
    // The person signs out at the provider itself (another application's sign-out link): no id_token_hint.
    const confirm = await b.follow(`${idp.issuer}/session/end`);
    const signedOut = await b.confirmLogout(confirm);
    assert.equal(signedOut.status, 200, `the provider's sign-out ended on its page: ${signedOut.url}`);
    await until(async () => (await b.request(`${rp.base}/agent`)).status === 303).catch((e: Error) => {
      throw new Error(`${e.message}\n${rp.logs.slice(-5).join('\n')}`);
    });
    assert.equal((await other.request(`${rp.base}/agent`)).status, 303, 'every session of the person ended');
    assert.equal(await rp.editor.validate(token), null);
    assert.ok(rp.logs.some((l) => /staff back-channel logout: \d+ session\(s\) of 1 person\(s\) ended/.test(l)), rp.logs.join('\n'));
  });

  it('hostile logout tokens: 400 with a plain sentence, nothing ended; a token is used once; one naming only the sid works', async () => {
    const b = new HttpBrowser();
    assert.equal((await signIn(b, rp, 'sub-karin')).url, `${rp.base}/kcc/afspraak`);
    const now = Math.floor(Date.now() / 1000);
    const good = () => ({ iss: idp.issuer, aud: idp.clientId, iat: now, jti: randomBytes(12).toString('hex'), sub: 'sub-karin', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    const post = (form: Record<string, string>) => new HttpBrowser().request(`${rp.base}/login/sso/backchannel-logout`, { form });
    const without = (k: string) => {
      const c: Record<string, unknown> = good();
      delete c[k];
      return c;
    };
    const cases: [string, Promise<string> | string, RegExp][] = [
      ['none', '', /has no logout_token/],
      ['garbage', 'niet-een-token', /not a signed JWT/],
      ['unsigned', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good())).toString('base64url')}.`, /not a signed JWT/],
      ['too large', 'a'.repeat(20_000), /not a signed JWT/],
      ['foreign key', idp.signLogoutToken(good(), { foreignKey: true }), /not signed with the provider's key/],
      ['other audience', idp.signLogoutToken({ ...good(), aud: 'another-client' }), /not meant for this client/],
      ['other issuer', idp.signLogoutToken({ ...good(), iss: 'https://evil.example' }), /from another issuer/],
      ['nonce', idp.signLogoutToken({ ...good(), nonce: 'n-0S6_WzA2Mj' }), /must not carry a nonce/],
      ['no events', idp.signLogoutToken(without('events')), /lacks a valid events/],
      ['wrong event', idp.signLogoutToken({ ...good(), events: { 'http://schemas.openid.net/event/other': {} } }), /does not carry the back-channel logout event/],
      ['event not an object', idp.signLogoutToken({ ...good(), events: { 'http://schemas.openid.net/event/backchannel-logout': true } }), /does not carry the back-channel logout event/],
      ['no jti', idp.signLogoutToken(without('jti')), /lacks a valid jti/],
      ['no iat', idp.signLogoutToken(without('iat')), /lacks a valid claim|unusable iat/],
      ['old', idp.signLogoutToken({ ...good(), iat: now - 3600 }), /too old/],
      ['future', idp.signLogoutToken({ ...good(), iat: now + 3600 }), /in the future|unusable iat/],
      ['expired', idp.signLogoutToken({ ...good(), exp: now - 120 }), /expired/],
      ['no sub or sid', idp.signLogoutToken(without('sub')), /neither a sub nor a sid/],
      ['an access token type', idp.signLogoutToken(good(), { header: { typ: 'at+jwt' } }), /type other than logout\+jwt/],
      ['HS256 with the client secret', hs256(good(), idp.clientSecret), /algorithm the provider announces|not signed with the provider's key/],
    ];
    for (const [name, token, message] of cases) {
      const res = await post({ logout_token: await token });
      assert.equal(res.status, 400, name);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_request', name);
      assert.match(body.error_description, message, name);
      assert.doesNotMatch(JSON.stringify(body), /jose|JWS|Error:|at \/|node_modules/, name);
    }
    assert.equal((await b.request(`${rp.base}/kcc/afspraak`)).status, 200, 'nothing ended');

    // Only the provider session: the person who signed in through it loses their sessions; the token is used once.
    const sidOnly = await idp.signLogoutToken({ ...without('sub'), sid: await sidOf(rp, b) });
    const first = await post({ logout_token: sidOnly });
    assert.equal(first.status, 200);
    assert.equal((await b.request(`${rp.base}/kcc/afspraak`)).status, 303);
    const again = await post({ logout_token: sidOnly });
    assert.equal(again.status, 400);
    assert.match(((await again.json()) as { error_description: string }).error_description, /used before/);
    // A valid token about somebody unknown here: 200, nothing to end (the provider need not know who signed in here).
    assert.equal((await post({ logout_token: await idp.signLogoutToken({ ...good(), sub: 'sub-niemand' }) })).status, 200);
  });

  it('the editor: its login goes to auth/strategy, which turns an administrator\'s session into a token; sign-out goes to the provider', async () => {
    const login = await (await new HttpBrowser().request(`${rp.base}/admin/auth/login`)).json();
    assert.deepEqual(login, { type: 'strategy', prompts: [{ type: 'button', label: 'Aanmelden / Sign in', url: 'auth/strategy' }], autoLogin: true, loginRedirect: 'auth/strategy' });
    const b = new HttpBrowser();
    const first = await b.request(`${rp.base}/admin/auth/strategy`);
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/login?next=%2Fadmin%2Fauth%2Fstrategy');
    const page = await signIn(b, rp, 'sub-bert', `/login/sso?next=${encodeURIComponent('/admin/auth/strategy')}`);
    assert.equal(page.url, `${rp.base}/admin/auth/strategy`);
    assert.equal(page.status, 200);
    const token = /data-token="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(token && (await rp.editor.validate(token))?.username === 'bert@gemeente.test');
    assert.match(page.body, /editor-sign-in\.js/);

    const agent = new HttpBrowser();
    await signIn(agent, rp, 'sub-karin');
    assert.equal((await agent.request(`${rp.base}/admin/auth/strategy`)).status, 403);

    const revoke = await b.request(`${rp.base}/admin/auth/revoke`, { form: { token: token! }, headers: { authorization: `Bearer ${token}` } });
    const { redirect } = (await revoke.json()) as { redirect: string };
    assert.ok(redirect.startsWith(`${idp.issuer}/session/end?`));
    assert.match(new URL(redirect).searchParams.get('id_token_hint') ?? '', /^ey/);
    assert.equal(await rp.editor.validate(token), null);
    assert.equal((await b.request(`${rp.base}/admin/auth/strategy`)).status, 303, 'the staff session of this browser has ended too');
  });
});

describe('staff SSO with Keycloak-style realm roles in userinfo only', function () {
  this.timeout(30_000);
  const dir = tempDir('idv-sso-kc-');
  let idp: StaffIdp;
  let rp: Rp;
  before(async () => {
    idp = await startStaffIdp({ accounts: ACCOUNTS, groupClaim: 'realm_access.roles', groupsInUserinfoOnly: true });
    rp = await startRp(dir, 'kc', envFor(idp, { IDV_STAFF_OIDC_ROLES_CLAIM: 'realm_access.roles' }));
    await idp.configure(uris(rp));
  });
  after(async () => {
    await rp?.close();
    await idp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the roles from userinfo when the ID token lacks them', async () => {
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-karin')).url, `${rp.base}/kcc/afspraak`);
    assert.equal((await signIn(new HttpBrowser(), rp, 'sub-zonder')).status, 403);
  });
});
