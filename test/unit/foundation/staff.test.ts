import assert from 'node:assert/strict';
import express from 'express';
import supertest from 'supertest';
import { createCsrf } from '../../../lib/http/csrf';
import { createRateLimiter } from '../../../lib/http/rate-limit';
import { createStaffAuth, safeNext, type StaffAuth } from '../../../lib/staff/auth';
import { staffLoginRouter } from '../../../lib/staff/login-page';
import { hashPassword, verifyPassword } from '../../../lib/staff/password';
import type { StaffStore } from '../../../lib/staff/types';
import { forEachEngine, type TestStore } from '../../support/engines';

const PASSWORD = 'correct horse battery';

function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'form has a CSRF field');
  return m[1];
}

function cookiesOf(res: supertest.Response): string {
  const set = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return set.map((c) => c.split(';')[0]).join('; ');
}

// The hash does not depend on the engine: tested once, with the service's own work factor.
describe('staff passwords', () => {
  it('hashes with scrypt and verifies only the right password', async () => {
    const h = await hashPassword(PASSWORD);
    assert.match(h, /^scrypt\$65536\$8\$1\$/);
    assert.equal(await verifyPassword(PASSWORD, h), true);
    assert.equal(await verifyPassword(PASSWORD + 'x', h), false);
    assert.equal(await verifyPassword(PASSWORD, 'garbage'), false);
    const light = await hashPassword(PASSWORD, { N: 1 << 14 });
    assert.match(light, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword(PASSWORD, light), true);
    await assert.rejects(hashPassword(PASSWORD, { N: 1 << 10 }), /2\^14/);
  });
});

forEachEngine('staff sign-in', (engine) => {
  let t: TestStore;
  let store: StaffStore;
  let clock: Date;
  let auth: StaffAuth;
  let app: express.Express;

  before(async () => {
    t = await engine.open();
    store = t.store.staff;
    // The lightest work factor verifyPassword accepts: sign-ins are what this suite checks, not the hash's cost.
    const hash = await hashPassword(PASSWORD, { N: 1 << 14 });
    await store.upsertUser({ username: 'agent1', displayName: 'Agent Een', roles: ['agent'], passwordHash: hash });
    await store.upsertUser({ username: 'kcc1', displayName: 'KCC Een', roles: ['kcc'], passwordHash: hash });
  });
  after(() => t.close());
  beforeEach(async () => {
    clock = new Date('2026-12-01T09:00:00Z');
    await store.resetFailures('agent1');
    auth = createStaffAuth({ store, secure: false, now: () => clock });
    const csrf = createCsrf(Buffer.alloc(32, 7), false);
    app = express();
    app.use(staffLoginRouter({ auth, csrf, secure: false, limiter: createRateLimiter({ windowMs: 15 * 60_000, max: 30 }) }));
    app.get('/agent', auth.requireStaff('agent'), (req, res) => res.send(`hello ${req.staff?.username}`));
    app.get('/kcc', auth.requireStaff('kcc'), (_req, res) => res.send('kcc'));
  });

  async function signIn(username: string, password: string, next = '/agent') {
    const page = await supertest(app).get('/login');
    return supertest(app)
      .post('/login')
      .set('Cookie', cookiesOf(page))
      .type('form')
      .send({ _csrf: csrfOf(page.text), username, password, next });
  }

  it('signs in, keeps an HttpOnly SameSite session cookie, and reaches the role page', async () => {
    const res = await signIn('agent1', PASSWORD);
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/agent');
    const setCookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('idv_staff='));
    assert.ok(setCookie && /HttpOnly/.test(setCookie) && /SameSite=Lax/.test(setCookie));
    const page = await supertest(app).get('/agent').set('Cookie', setCookie.split(';')[0]);
    assert.equal(page.status, 200);
    assert.equal(page.text, 'hello agent1');
    assert.equal(page.headers['cache-control'], 'no-store');
  });

  it('a wrong password, an unknown user and an empty form are refused with the same message', async () => {
    const wrong = await signIn('agent1', 'not the password');
    const unknown = await signIn('nobody', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.match(wrong.text, /gebruikersnaam of het wachtwoord klopt niet/);
    assert.match(unknown.text, /gebruikersnaam of het wachtwoord klopt niet/);
    assert.equal((await signIn('', '')).status, 400);
  });

  it('locks the account after five failures, even for the right password, until the back-off has passed', async () => {
    for (let i = 0; i < 5; i++) await signIn('agent1', `wrong-${i}`);
    const locked = await signIn('agent1', PASSWORD);
    assert.equal(locked.status, 429);
    assert.match(locked.text, /tijdelijk geblokkeerd/);
    clock = new Date(clock.getTime() + 2 * 60_000);
    assert.equal((await signIn('agent1', PASSWORD)).status, 303);
  });

  it('refuses a missing or foreign CSRF token and a foreign Origin', async () => {
    const page = await supertest(app).get('/login');
    const noToken = await supertest(app).post('/login').set('Cookie', cookiesOf(page)).type('form').send({ username: 'agent1', password: PASSWORD });
    assert.equal(noToken.status, 403);
    const other = await supertest(app).get('/login');
    const foreign = await supertest(app).post('/login').set('Cookie', cookiesOf(page)).type('form').send({ _csrf: csrfOf(other.text), username: 'agent1', password: PASSWORD });
    assert.equal(foreign.status, 403);
    const crossSite = await supertest(app)
      .post('/login')
      .set('Cookie', cookiesOf(page))
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ _csrf: csrfOf(page.text), username: 'agent1', password: PASSWORD });
    assert.equal(crossSite.status, 403);
  });

  it('a cookie from another instance (unknown session) is not a sign-in', async () => {
    const res = await supertest(app).get('/agent').set('Cookie', 'idv_staff=' + 'A'.repeat(43));
    assert.equal(res.status, 303);
    assert.match(res.headers.location, /^\/login\?next=%2Fagent/);
    const api = await supertest(app).get('/agent').set('Accept', 'application/json').set('Cookie', 'idv_staff=junk');
    assert.equal(api.status, 401);
    assert.deepEqual(Object.keys(api.body).sort(), ['error', 'message']);
  });

  it('expires sessions after 30 idle minutes and after 10 hours in all', async () => {
    const res = await signIn('agent1', PASSWORD);
    const cookie = cookiesOf(res);
    clock = new Date(clock.getTime() + 29 * 60_000);
    assert.equal((await supertest(app).get('/agent').set('Cookie', cookie)).status, 200);
    clock = new Date(clock.getTime() + 31 * 60_000);
    assert.equal((await supertest(app).get('/agent').set('Cookie', cookie)).status, 303);
    const again = cookiesOf(await signIn('agent1', PASSWORD));
    for (let i = 0; i < 21; i++) {
      clock = new Date(clock.getTime() + 29 * 60_000);
      await supertest(app).get('/agent').set('Cookie', again);
    }
    assert.equal((await supertest(app).get('/agent').set('Cookie', again)).status, 303, 'absolute timeout');
  });

  it('gives 403 for a role the account lacks, and logs out for real', async () => {
    const cookie = cookiesOf(await signIn('kcc1', PASSWORD, '/kcc'));
    assert.equal((await supertest(app).get('/agent').set('Cookie', cookie)).status, 403);
    assert.equal((await supertest(app).get('/kcc').set('Cookie', cookie)).status, 200);
    const page = await supertest(app).get('/login').set('Cookie', cookie);
    const both = `${cookie}; ${cookiesOf(page)}`;
    const out = await supertest(app).post('/logout').set('Cookie', both).type('form').send({ _csrf: csrfOf(page.text) });
    assert.equal(out.status, 303);
    assert.equal((await supertest(app).get('/kcc').set('Cookie', cookie)).status, 303, 'the old cookie is dead server-side');
  });

  it('SSO accounts (migration 010): found by issuer and subject, updated on each sign-in, a taken username refused', async () => {
    const anna = { issuer: 'https://idp.example.nl', subject: 'sub-anna', username: 'anna', displayName: 'Anna', email: 'anna@gemeente.example', roles: ['agent' as const, 'manager' as const] };
    assert.deepEqual(await store.saveSsoUser(anna, '2026-12-01T09:00:00.000Z'), { ok: true, username: 'anna', created: true, disabled: false });
    const u = await store.getSsoUser(anna.issuer, anna.subject);
    assert.deepEqual([u?.username, u?.roles, u?.email, u?.sso], ['anna', ['agent', 'manager'], 'anna@gemeente.example', true]);
    assert.equal(await store.getSsoUser('https://other.example.nl', anna.subject), undefined, 'the subject counts only with its issuer');
    // A later sign-in updates the profile under the account's own username, whatever the claim now says.
    assert.deepEqual(await store.saveSsoUser({ ...anna, username: 'anna2', displayName: 'Anna B', roles: [] }, '2026-12-02T09:00:00.000Z'), { ok: true, username: 'anna', created: false, disabled: false });
    assert.deepEqual((await store.getUser('anna'))?.roles, []);
    assert.deepEqual(await store.saveSsoUser({ ...anna, subject: 'sub-other', username: 'agent1' }, '2026-12-01T09:00:00.000Z'), { ok: false, reason: 'username_taken' });
    assert.equal((await store.getUser('agent1'))?.sso, undefined, 'the local account is untouched');
    assert.deepEqual((await store.listAccounts()).filter((a) => a.sso).map((a) => a.username), ['anna']);
    await store.setDisabled('anna', true);
    assert.deepEqual(await store.saveSsoUser(anna, '2026-12-03T09:00:00.000Z'), { ok: true, username: 'anna', created: false, disabled: true });
    await store.removeUser('anna');
  });

  it('the first sign-in of one person on two instances at once makes one account', async () => {
    const other = (await t.another()).staff;
    const bert = { issuer: 'https://idp.example.nl', subject: 'sub-bert', username: 'bert', displayName: 'Bert', roles: ['kcc' as const] };
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).saveSsoUser(bert, '2026-12-01T09:00:00.000Z')));
    assert.ok(results.every((r) => r.ok && r.username === 'bert'), JSON.stringify(results));
    assert.equal(results.filter((r) => r.ok && r.created).length, 1);
    assert.equal(await t.count(`SELECT count(*) AS n FROM staff_users WHERE sso_subject = 'sub-bert'`), 1);
    await store.removeUser('bert');
  });

  it('a session keeps its sealed logout hint; sessions without one have none', async () => {
    await store.createSession('a'.repeat(64), 'agent1', '2026-12-01T09:00:00.000Z', 'sealed.hint.value');
    await store.createSession('b'.repeat(64), 'agent1', '2026-12-01T09:00:00.000Z');
    assert.equal((await store.getSession('a'.repeat(64)))?.logoutHint, 'sealed.hint.value');
    assert.equal('logoutHint' in ((await store.getSession('b'.repeat(64))) ?? {}), false);
    await store.deleteSessionsOf('agent1');
  });

  it('never redirects to another host after sign-in', () => {
    assert.equal(safeNext('/agent?x=1'), '/agent?x=1');
    for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/a\r\nLocation: x']) {
      assert.equal(safeNext(bad), '/', bad);
    }
  });
});
