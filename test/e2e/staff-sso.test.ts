import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { ENGINES, TESTED_ENGINES } from '../support/engines';
import { defaultFlowsOpenNow } from '../support/flows';
import { freshDatabase } from '../support/postgres';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { HttpBrowser, startStaffIdp, type StaffIdp } from '../support/staff-idp';
import { waitFor } from '../support/call-media';

/**
 * Staff sign in with their gemeente account, in the real runtime with the default flows and Debian's Chromium, against
 * a second OpenID provider on loopback playing the gemeente's IdP (employees in groups), with local accounts switched
 * off: an agent gets the dashboard and signs out of both ID Video and the provider; an administrator gets the flow
 * editor through the same sign-in, with a token that works on the admin API and dies at the editor's sign-out; a
 * person without a mapped group gets the "no access" page (axe 0, phone layout); a KCC employee the KCC form; the
 * password doors refuse. The finer cases (forged, replayed, foreign callbacks, removed groups) are in
 * test/unit/staff/sso.test.ts over HTTP. Once per store engine: SQLite, and PostgreSQL (the run's own cluster), where
 * accounts, sessions, started sign-ins and used logout tokens live in the database; the provider's back-channel
 * logout ends a session on either.
 */

for (const engine of ENGINES) {
(TESTED_ENGINES.has(engine.name) ? describe : describe.skip)(`staff sign-in with the gemeente account (runtime, Chromium) [${engine.name}]`, function () {
  this.timeout(180_000);
  let idp: StaffIdp;
  let rt: RuntimeHandle;
  let browser: Browser;
  let base: string;
  const dataDir = tempDir('idv-sso-e2e-');

  before(async () => {
    idp = await startStaffIdp({
      accounts: [
        { id: 'sub-anna', username: 'anna@gemeente.test', name: 'Anna de Vries', email: 'anna@gemeente.test', groups: ['IDV-Agents'] },
        { id: 'sub-karin', username: 'karin@gemeente.test', name: 'Karin Claassen', email: 'karin@gemeente.test', groups: ['IDV-KCC'] },
        { id: 'sub-bert', username: 'bert@gemeente.test', name: 'Bert Beheer', email: 'bert@gemeente.test', groups: ['IDV-Beheer'] },
        { id: 'sub-zonder', username: 'zonder@gemeente.test', name: 'Zonder Groep', email: 'zonder@gemeente.test', groups: ['Alle medewerkers'] },
      ],
    });
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(defaultFlowsOpenNow(ROOT), null, 2));
    // PostgreSQL: accounts, sessions, started sign-ins and used logout tokens in this run's own database.
    const database: Record<string, string> = engine.name === 'postgres' ? { IDV_DATABASE_URL: await freshDatabase('sso') } : {};
    rt = await startRuntime({
      dataDir,
      timeoutMs: 90_000,
      env: {
        ...database,
        IDV_STAFF_OIDC_ISSUER: idp.issuer,
        IDV_STAFF_OIDC_CLIENT_ID: idp.clientId,
        IDV_STAFF_OIDC_CLIENT_SECRET: idp.clientSecret,
        IDV_STAFF_OIDC_ROLE_AGENT: 'IDV-Agents',
        IDV_STAFF_OIDC_ROLE_KCC: 'IDV-KCC',
        IDV_STAFF_OIDC_ROLE_ADMIN: 'IDV-Beheer',
        IDV_STAFF_LOCAL_ACCOUNTS: 'off',
      },
    });
    base = rt.url;
    // The provider answers 503 until it knows the runtime's redirect URIs (its port): a check at start that comes
    // first says the provider cannot be used now, as it should.
    rt.log.allow(new RegExp(`^\\[idv\\] the staff sign-in provider ${idp.issuer.replace(/[.]/g, '\\.')} cannot be used now \\(no valid discovery document at `));
    await idp.configure({ redirectUris: [`${base}/login/sso/callback`], postLogoutRedirectUris: [`${base}/login/sso/signed-out`], backchannelLogoutUri: `${base}/login/sso/backchannel-logout` });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rt?.stop();
    await idp?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** On the test IdP's login page: picks the employee and signs in there. */
  async function atProvider(page: Page, account: string): Promise<void> {
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.selectOption('#account', account);
    await Promise.all([page.waitForURL(`${base}/**`), page.click('#login')]);
  }

  it('names the redirect URIs to register at start', () => {
    assert.match(rt.output(), new RegExp(`staff sign-in through ${idp.issuer} only \\(local accounts off\\); redirect URI ${base}/login/sso/callback, post-logout redirect URI ${base}/login/sso/signed-out, back-channel logout URI ${base}/login/sso/backchannel-logout`));
    assert.match(rt.output(), engine.name === 'postgres' ? /store: PostgreSQL/i : /store: SQLite/i);
    assert.doesNotMatch(rt.output(), /Demo mode\. Staff accounts/, 'no demo accounts with local accounts off');
  });

  it('an agent: sign-in page (axe 0) → the gemeente → the dashboard; sign-out ends both sessions', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORTS.laptop });
    try {
      const page = await ctx.newPage();
      await page.goto(`${base}/agent`);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(await page.locator('input[type="password"]').count(), 0, 'no password form: local accounts are off');
      assert.equal(describeViolations(await axeViolations(page)), '');
      await page.click('a.idv-sso-button');
      await atProvider(page, 'sub-anna');
      assert.equal(new URL(page.url()).pathname, '/agent');
      await page.waitForSelector('h1.idv-agent-title');
      assert.match((await page.textContent('header')) ?? '', /Anna de Vries/);

      // Sign out: the local session ends, then the provider asks to confirm its own sign-out and sends us back.
      await Promise.all([page.waitForURL(`${idp.issuer}/session/end**`), page.click('button.idv-logout')]);
      await Promise.all([page.waitForURL(`${base}/login?out=1`), page.click('#logout-yes')]);
      assert.match((await page.textContent('main')) ?? '', /U bent afgemeld/);
      await page.goto(`${base}/agent`);
      assert.equal(new URL(page.url()).pathname, '/login', 'the ID Video session has ended');
      await page.click('a.idv-sso-button');
      await page.waitForURL(`${idp.issuer}/interaction/**`);
      assert.ok(await page.isVisible('#account'), 'the provider asks again: its session has ended');
    } finally {
      await ctx.close();
    }
  });

  it('an administrator: the flow editor signs in through the gemeente; its token works on the admin API and ends at sign-out', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORTS.laptop });
    try {
      const page = await ctx.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text().slice(0, 200));
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message.slice(0, 200)}`));
      await page.goto(`${base}/admin/`);
      // The editor's login sends the browser to our sign-in at once (no dialog with a password field).
      await page.waitForURL(`${base}/login?next=%2Fadmin%2Fauth%2Fstrategy`);
      await page.click('a.idv-sso-button');
      await atProvider(page, 'sub-bert');
      await page.waitForURL(`${base}/admin/`);
      await page.waitForSelector('.red-ui-palette-node[data-palette-type="idv-book-appointment"]', { state: 'attached', timeout: 60_000 });
      const token = (await page.evaluate(`JSON.parse(localStorage.getItem('auth-tokens-admin')).access_token`)) as string;
      const api = () => fetch(`${base}/admin/flows`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await api()).status, 200, 'the token works on the admin API');
      assert.ok(!page.url().includes(token), 'the token was never in an address');
      assert.equal(await page.evaluate('RED.settings.user.username'), 'bert@gemeente.test');

      await Promise.all([page.waitForURL(`${idp.issuer}/session/end**`), page.evaluate('RED.user.logout()')]);
      await Promise.all([page.waitForURL(`${base}/login?out=1`), page.click('#logout-yes')]);
      assert.equal((await api()).status, 401, 'the editor token has ended');
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  it('a person without a mapped group: the "no access" page (403), axe 0, fits a phone', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORTS.phoneSmall });
    try {
      const page = await ctx.newPage();
      await page.goto(`${base}/login`);
      await page.click('a.idv-sso-button');
      await page.waitForURL(`${idp.issuer}/interaction/**`);
      await page.selectOption('#account', 'sub-zonder');
      const [res] = await Promise.all([page.waitForResponse((r) => r.url().startsWith(`${base}/login/sso/callback`)), page.click('#login')]);
      assert.equal(res.status(), 403);
      assert.equal(await page.textContent('h1'), 'Geen toegang tot ID Video');
      assert.match((await page.textContent('main')) ?? '', /Zonder Groep.*hoort niet bij een groep/s);
      assert.equal(describeViolations(await axeViolations(page)), '');
      assert.deepEqual(await layoutProblems(page), []);
      assert.deepEqual(await smallTargets(page), []);
      await page.goto(`${base}/agent`);
      assert.equal(new URL(page.url()).pathname, '/login', 'no session');
      // In English too.
      await page.goto(`${base}/login?lang=en`);
      assert.match((await page.textContent('main')) ?? '', /Sign in with your municipality account/);
    } finally {
      await ctx.close();
    }
  });

  it('a KCC employee gets the KCC form; the password doors are shut', async () => {
    const b = new HttpBrowser();
    const page = await b.follow(`${base}/login/sso`);
    const end = await b.loginAt(page, 'sub-karin');
    assert.equal(end.url, `${base}/kcc/afspraak`);
    assert.equal(end.status, 200);
    assert.match(end.body, /Karin Claassen/);
    const refused = await new HttpBrowser().request(`${base}/login`, { form: { username: 'admin', password: 'wat-dan-ook-2026' } });
    assert.equal(refused.status, 403);
    const token = await new HttpBrowser().request(`${base}/admin/auth/token`, { form: { client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: 'wat-dan-ook-2026' } });
    assert.equal(token.status, 400);
  });

  it('a sign-out at the provider elsewhere ends the session here (back-channel logout); a replayed or forged token changes nothing', async () => {
    const b = new HttpBrowser();
    assert.equal((await b.loginAt(await b.follow(`${base}/login/sso`), 'sub-karin')).url, `${base}/kcc/afspraak`);
    const forged = await idp.signLogoutToken({ iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: 'vervalst-1', sub: 'sub-karin', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, { foreignKey: true });
    const refused = await new HttpBrowser().request(`${base}/login/sso/backchannel-logout`, { form: { logout_token: forged } });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error_description: string }).error_description, /not signed with the provider's key/);
    assert.equal((await b.request(`${base}/kcc/afspraak`)).status, 200, 'a forged token ended nothing');
    // Karin signs out at the provider itself (another application's sign-out): the provider tells us over the back channel.
    const signedOut = await b.confirmLogout(await b.follow(`${idp.issuer}/session/end`));
    assert.equal(signedOut.status, 200, `the provider's sign-out ended on its page: ${signedOut.url}`);
    // The provider's back-channel call may land just after its page: wait for the condition, never a fixed time.
    await waitFor('the session here has ended', async () => (await b.request(`${base}/kcc/afspraak`)).status === 303, 10_000);
    const valid = await idp.signLogoutToken({ iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: 'eenmalig-1', sub: 'sub-karin', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    const post = () => new HttpBrowser().request(`${base}/login/sso/backchannel-logout`, { form: { logout_token: valid } });
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 400, 'a logout token is used once (in the store)');
  });
});
}
