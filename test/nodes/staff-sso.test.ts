import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../lib/config';
import { createServices, currentServices } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { validateStaffSsoConfig } from '../../lib/staff/sso-node-config';
import { fieldProblem } from '../../lib/node-config/validate';
import { helper, startServices, stopServices } from '../support/node-red';
import { tempDir } from '../support/runtime';
import { HttpBrowser, startStaffIdp, type StaffIdp } from '../support/staff-idp';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const staffSsoNode = require('../../nodes/idv-staff-sso/idv-staff-sso');

/**
 * The idv-staff-sso config node: while deployed and enabled it is the staff pages' sign-in through the gemeente's
 * provider (a real oidc-provider on loopback), with or without local accounts; a redeploy without it takes it away;
 * it stands aside for IDV_STAFF_OIDC_* and for a second enabled node; bad settings are said in one line.
 */

const PASSWORD = 'een lokaal wachtwoord 2026';

describe('idv-staff-sso (staff sign-in configured in the flows)', function () {
  this.timeout(60_000);
  let idp: StaffIdp;
  let base = '';
  let server: http.Server;

  const nodeDef = (over: Record<string, unknown> = {}) => ({
    id: 'sso1',
    type: 'idv-staff-sso',
    name: 'Gemeente-IdP',
    enabled: true,
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientAuth: 'client_secret_basic',
    rolesClaim: 'groups',
    roleAgent: 'IDV-Agents',
    roleKcc: 'idv-kcc',
    ...over,
  });
  /** The node and a flow node that mounts the httpNode app (the login router lives on it). */
  const load = async (over: Record<string, unknown> = {}, creds?: Record<string, string>) => {
    await helper.load(staffSsoNode, [nodeDef(over)], { sso1: creds ?? { clientSecret: idp.clientSecret } });
  };

  before(async () => {
    idp = await startStaffIdp({
      accounts: [
        { id: 'sub-anna', username: 'anna@gemeente.test', name: 'Anna de Vries', email: 'anna@gemeente.test', groups: ['idv-agents'] },
        { id: 'sub-zonder', username: 'zonder@gemeente.test', name: 'Zonder Groep', email: 'zonder@gemeente.test', groups: ['Iedereen'] },
      ],
    });
    // The runtime's public app (httpNode, where /login lives) on a real port: the provider redirects browsers to it.
    server = http.createServer((req, res) => {
      const app = currentServices()?.app();
      if (app) app(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const services = startServices({ IDV_PUBLIC_URL: base });
    await services.staffStore.upsertUser({ username: 'lokaal', displayName: 'Lokaal', roles: ['agent'], passwordHash: await hashPassword(PASSWORD) });
    await idp.configure({ redirectUris: [`${base}/login/sso/callback`], postLogoutRedirectUris: [`${base}/login/sso/signed-out`] });
  });
  after(async () => {
    await helper.unload();
    await stopServices();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await idp?.close();
  });
  afterEach(() => helper.unload());

  it('enabled: /login offers the gemeente account, an agent signs in through the provider, a person without a mapped group gets "no access"', async () => {
    await load();
    const login = await (await new HttpBrowser().request(`${base}/login?next=/agent`)).text();
    assert.match(login, /href="\/login\/sso\?next=%2Fagent"/);
    assert.match(login, /name="password"/, 'local accounts stay on by default');
    const b = new HttpBrowser();
    const page = await b.follow(`${base}/login/sso`);
    assert.equal(new URL(page.url).origin, idp.issuer);
    const end = await b.loginAt(page, 'sub-anna', (u) => u.startsWith(`${base}/agent`));
    assert.equal(end.url, `${base}/agent`);
    const user = await currentServices()!.staffStore.getUser('anna@gemeente.test');
    assert.deepEqual([user?.roles, user?.sso], [['agent'], true]);
    const nb = new HttpBrowser();
    const none = await nb.loginAt(await nb.follow(`${base}/login/sso`), 'sub-zonder');
    assert.equal(none.status, 403);
    assert.match(none.body, /Geen toegang tot ID Video/);
  });

  it('local accounts off on the pages: no password form, a password refused, an open local session ends; the node gone, all as before', async () => {
    await load();
    const local = new HttpBrowser();
    const signedIn = await passwordSignIn(local);
    assert.equal(signedIn.status, 303, await signedIn.text());
    await helper.unload();
    await load({ localAccounts: false });
    const form = await (await new HttpBrowser().request(`${base}/login`)).text();
    assert.doesNotMatch(form, /name="password"/);
    assert.match(form, /href="\/login\/sso/);
    const refused = await passwordSignIn(new HttpBrowser());
    assert.equal(refused.status, 403);
    const staff = await local.request(`${base}/staff`);
    assert.equal(staff.status, 303, 'the local session is not live on the pages any more');
    await helper.unload();
    // Redeployed without the node: no provider door, passwords again, the same local session works again.
    assert.equal((await new HttpBrowser().request(`${base}/login/sso`)).status, 404);
    const plain = await (await new HttpBrowser().request(`${base}/login`)).text();
    assert.doesNotMatch(plain, /login\/sso/);
    assert.equal((await local.request(`${base}/staff`)).status, 200);
  });

  it('not enabled: nothing checked, nothing used; invalid: one error line naming the fields, no door', async () => {
    await load({ enabled: false, issuer: '' });
    assert.equal((await new HttpBrowser().request(`${base}/login/sso`)).status, 404);
    await helper.unload();
    await load({ issuer: 'http://idp.gemeente.test', roleAgent: '', roleKcc: '' }, {});
    assert.match(nodeLog('error'), /the staff sign-in "Gemeente-IdP" is invalid: issuer: the issuer must use https; clientSecret: required for client_secret_basic.*; roleAgent: map at least one group/);
    assert.doesNotMatch(nodeLog('error'), new RegExp(idp.clientSecret));
    assert.equal((await new HttpBrowser().request(`${base}/login/sso`)).status, 404);
  });

  it('a second enabled node stands aside, and so does any node when IDV_STAFF_OIDC_* configures the sign-in', async () => {
    await helper.load(staffSsoNode, [nodeDef(), { ...nodeDef(), id: 'sso2', name: 'Tweede' }], { sso1: { clientSecret: idp.clientSecret }, sso2: { clientSecret: idp.clientSecret } });
    assert.match(nodeLog('warn'), /the staff sign-in "Tweede" stands aside: another idv-staff-sso node \(sso1\) is in use/);
    assert.equal((await new HttpBrowser().request(`${base}/login/sso`, {})).status, 303);

    const dataDir = tempDir('idv-sso-env-');
    const env = createServices({
      config: loadConfig({
        IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '0',
        IDV_STAFF_OIDC_ISSUER: idp.issuer, IDV_STAFF_OIDC_CLIENT_ID: idp.clientId, IDV_STAFF_OIDC_CLIENT_SECRET: idp.clientSecret, IDV_STAFF_OIDC_ROLE_AGENT: 'idv-agents',
      }),
    });
    try {
      const r = validateStaffSsoConfig(nodeDef(), { clientSecret: idp.clientSecret }, true);
      assert.ok(r.ok && r.settings);
      const used = env.useFlowStaffSso('n', r.settings);
      assert.equal(used.ok, false);
      assert.match(!used.ok ? used.problem : '', /the environment configures the staff sign-in \(IDV_STAFF_OIDC_ISSUER http:\/\/127\.0\.0\.1:\d+\); this node is not used/);
      assert.equal(env.pagesSso(), env.staffSso);
    } finally {
      await env.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the editor shows the runtime\'s own check per field, without the credentials it never sees', () => {
    const def = { enabled: true, issuer: 'https://login.microsoftonline.com/t/v2.0', clientId: 'c', clientAuth: 'client_secret_basic', roleAgent: 'g1' };
    assert.deepEqual(validateStaffSsoConfig(def, undefined, true), { ok: true });
    assert.equal(fieldProblem('idv-staff-sso', { ...def, issuer: 'ftp://x' }, 'issuer'), 'issuer: the issuer must use https');
    assert.match(String(fieldProblem('idv-staff-sso', { ...def, roleAgent: '' }, 'roleAgent')), /^roleAgent: map at least one/);
    assert.match(String(fieldProblem('idv-staff-sso', { ...def, rolesClaim: 'met spatie' }, 'rolesClaim')), /^rolesClaim: must be a claim name/);
    assert.match(String(fieldProblem('idv-staff-sso', { ...def, authParams: 'state=x' }, 'authParams')), /^authParams: parameter "state" is set by ID Video itself/);
    assert.match(String(fieldProblem('idv-staff-sso', { ...def, clientAuth: 'none' }, 'clientAuth')), /^clientAuth:/);
    assert.equal(fieldProblem('idv-staff-sso', { enabled: false, issuer: 'ftp://x' }, 'issuer'), undefined, 'a node that is off is not checked');
    const key = validateStaffSsoConfig({ ...def, clientAuth: 'private_key_jwt' }, { privateKey: '{not json' }, false);
    assert.ok(!key.ok && key.errors.some((e) => e.startsWith('privateKey: neither a PEM key nor a JSON Web Key')), JSON.stringify(key));
  });

  async function passwordSignIn(b: HttpBrowser) {
    const page = await (await b.request(`${base}/login`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return b.request(`${base}/login`, { method: 'POST', form: { _csrf: csrf, username: 'lokaal', password: PASSWORD, next: '/staff' } });
  }

  /** What the nodes said at one level (Node-RED's log, as the test helper records it). */
  function nodeLog(level: 'error' | 'warn'): string {
    const n = level === 'error' ? 20 : 30;
    const calls = (helper.log() as unknown as { args: { level: number; msg: unknown }[][] }).args;
    return calls.filter(([e]) => e?.level === n).map(([e]) => String(e.msg)).join('\n');
  }
});
