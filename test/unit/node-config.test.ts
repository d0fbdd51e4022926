/**
 * Settings versions and migrations (lib/node-config) on flows saved by ID Video 0.1 (test/fixtures/flows-0.1.json: the
 * default flows and every example as 0.1 shipped them), and the one validation source as the editor gets it
 * (resources/editor.js, the same lib/ functions bundled for the browser).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { currentSettingsVersion, migrateSettings, migrationsOf, storedSettingsVersion } from '../../lib/node-config/migrations';
import { fieldProblem, nodeConfigProblems } from '../../lib/node-config/validate';
import { ROOT } from '../support/runtime';

type FlowNode = Record<string, unknown> & { id: string; type: string };
const SAVED_BY_01 = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'flows-0.1.json'), 'utf8')) as Record<string, FlowNode[]>;
const idvNodes = Object.entries(SAVED_BY_01).flatMap(([file, flow]) => flow.filter((n) => n.type.startsWith('idv-')).map((n) => ({ file, node: n })));

describe('node settings versions and migrations (a flow saved by 0.1)', () => {
  it('the fixture is really 0.1: no node has a settings version', () => {
    assert.equal(idvNodes.length, 54);
    for (const { node } of idvNodes) assert.equal(node.settingsVersion, undefined);
  });

  it('every 0.1 node migrates to the current version and then passes the runtime validation', () => {
    for (const { file, node } of idvNodes) {
      const def = structuredClone(node);
      const m = migrateSettings(node.type, def);
      assert.equal(m.from, 1);
      assert.equal(def.settingsVersion, currentSettingsVersion(node.type), `${file} ${node.id}`);
      // The example's real provider has no client secret in the flow (credentials are never exported): only that.
      const problems = nodeConfigProblems(node.type, def, node.type === 'idv-auth-method' ? {} : undefined).filter((p) => !/clientSecret/.test(p));
      assert.deepEqual(problems, [], `${file} ${node.type} ${node.id}`);
    }
  });

  it('migrations keep the meaning: lists from the 0.1 texts, the 0.1 theme class where a theme was loaded, msg.purpose', () => {
    const links = structuredClone(SAVED_BY_01['flows/flows.json'].find((n) => n.type === 'idv-session-link') as FlowNode);
    migrateSettings('idv-session-link', links);
    assert.deepEqual(links.agentEmails, [
      { username: 'agent1', email: 'anna.devries@gemeente-voorbeeld.example' },
      { username: 'agent2', email: 'bram.jansen@gemeente-voorbeeld.example' },
    ]);

    // The 0.1 editor saved the claims as JSON text (the shipped examples had them as a list already).
    const method = structuredClone(idvNodes.find((x) => x.node.type === 'idv-auth-method')?.node as FlowNode);
    const claims = method.claims;
    method.claims = JSON.stringify(claims);
    method.extraAuthParams = 'kc_idp_hint=digid\nacr_values = urn:x';
    method.acrOrder = 'urn:low, urn:high';
    migrateSettings('idv-auth-method', method);
    assert.deepEqual(method.claims, claims);
    assert.deepEqual(method.extraAuthParams, [{ name: 'kc_idp_hint', value: 'digid' }, { name: 'acr_values', value: 'urn:x' }]);
    assert.deepEqual(method.acrOrder, ['urn:low', 'urn:high']);

    const withTheme = { type: 'idv-settings', themeCssUrl: 'https://www.gemeente.nl/thema.css' };
    migrateSettings('idv-settings', withTheme);
    assert.equal((withTheme as Record<string, unknown>).themeClass, 'utrecht-theme', '0.1 always used utrecht-theme');
    const without = { type: 'idv-settings', themeCssUrl: '' };
    migrateSettings('idv-settings', without);
    assert.equal((without as Record<string, unknown>).themeClass, '', 'no own theme: the new default');

    const request = { type: 'idv-request-auth', purposes: 'Doel een\n\nDoel twee\n' };
    migrateSettings('idv-request-auth', request);
    assert.deepEqual(request, { type: 'idv-request-auth', purposes: ['Doel een', 'Doel twee'], purpose: 'purpose', purposeType: 'msg', settingsVersion: 2 });

    const cors = { corsOrigins: 'https://a.example, https://b.example\nhttps://c.example' };
    migrateSettings('idv-book-appointment', cors);
    assert.deepEqual(cors.corsOrigins, ['https://a.example', 'https://b.example', 'https://c.example']);
  });

  it('a bad 0.1 value stays visible after migrating (the validation still names it) and nothing leaks an address', () => {
    const bad = { agentEmails: 'agent1 = geheim adres@x\nagent2=bram@gemeente.example' };
    const problems = nodeConfigProblems('idv-session-link', bad);
    assert.deepEqual(problems, ['agentEmails entry 1: expected a username and an e-mail address']);
    assert.equal(bad.agentEmails, 'agent1 = geheim adres@x\nagent2=bram@gemeente.example', 'validation works on a copy');
  });

  it('is idempotent, and leaves settings of a newer version alone', () => {
    for (const { node } of idvNodes) {
      const once = structuredClone(node);
      migrateSettings(node.type, once);
      const twice = structuredClone(once);
      migrateSettings(node.type, twice);
      assert.deepEqual(twice, once);
    }
    const future = { settingsVersion: 99, agentEmails: 'kept as it is' };
    assert.deepEqual(migrateSettings('idv-session-link', future), { from: 99, to: 2, newer: true });
    assert.equal(future.agentEmails, 'kept as it is');
    assert.equal(storedSettingsVersion({}), 1);
    for (const type of ['idv-settings', 'idv-book-appointment', 'idv-session-link', 'idv-auth-method', 'idv-request-auth']) {
      assert.ok(migrationsOf(type).every((m) => m.why.length > 20), `${type} says why`);
    }
  });

  it('the shipped flows and examples are saved at the current versions', () => {
    const files = ['flows/flows.json', ...fs.readdirSync(path.join(ROOT, 'examples')).map((f) => `examples/${f}`)];
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8')) as FlowNode[];
      for (const n of flow.filter((x) => x.type.startsWith('idv-'))) assert.equal(n.settingsVersion, currentSettingsVersion(n.type), `${f} ${n.id}`);
    }
  });
});

describe('one validation source: the editor bundle (resources/editor.js) answers as the runtime does', () => {
  type EditorApi = {
    validate(type: string, field: string): (this: Record<string, unknown>, v: unknown) => true | string;
    version(type: string): number;
  };
  let editor: EditorApi;
  let context: vm.Context;
  // Values made inside the bundle's own realm, as the editor's are (a plain-object check is realm-bound).
  const local = <T>(v: T): T => vm.runInContext(`(${JSON.stringify(v)})`, context) as T;

  before(() => {
    const code = fs.readFileSync(path.join(ROOT, 'resources', 'editor.js'), 'utf8');
    // A browser has URL; nothing else of the page is needed by the validators.
    context = vm.createContext({ URL });
    vm.runInContext(code, context);
    editor = vm.runInContext('IDVideoEditor', context) as EditorApi;
  });

  const cases: [string, string, Record<string, unknown>, unknown][] = [
    ['idv-settings', 'publicUrl', {}, 'ftp://video.gemeente.nl'],
    ['idv-settings', 'themeClass', {}, 'utrecht-theme"><script>'],
    ['idv-schedule', 'agents', { slotMinutes: '30', openingHours: { mon: [{ from: '09:00', to: '17:00' }] } }, [{ username: 'met spatie', displayName: 'A' }]],
    ['idv-book-appointment', 'path', {}, '/admin/afspraak'],
    ['idv-book-appointment', 'corsOrigins', {}, ['https://www.gemeente.nl', 'javascript:alert(1)']],
    ['idv-session-link', 'agentEmails', {}, [{ username: 'agent1', email: 'geen adres' }]],
    ['idv-request-auth', 'purpose', { purposeType: 'msg', method1: 'm' }, 'payload..purpose'],
    ['idv-agent-dashboard', 'days', {}, 91],
    ['idv-idcontact-core', 'coreUrl', { purpose: 'report_move', attributes: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }] }, 'http://core.idcontact.example'],
    ['idv-idcontact-core', 'signatureAlgs', { coreUrl: 'https://core.example', purpose: 'report_move', attributes: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }] }, 'none, RS256'],
    ['idv-idcontact-core', 'clientCertFingerprint', { coreUrl: 'https://core.example', purpose: 'report_move', startAuth: 'client-cert', attributes: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }] }, 'AB:CD'],
    ['idv-idcontact-session', 'agents', { core: 'c1', topic: 'Video' }, ['met spatie']],
    ['idv-idcontact-session', 'path', { core: 'c1', topic: 'Video', agents: ['agent1'] }, '/Admin!'],
    ['idv-auth-method', 'issuer', { methodId: 'digid', displayName: 'DigiD', logo: 'digid', clientId: 'c', clientAuth: 'client_secret_basic', scopes: 'openid', claims: [{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', kind: 'bsn' }] }, 'http://broker.example'],
  ];
  for (const [type, field, others, bad] of cases) {
    it(`${type} ${field}: the editor shows the runtime's own message for a bad value`, () => {
      const fromEditor = editor.validate(type, field).call(local(others), local(bad));
      const fromRuntime = fieldProblem(type, { ...others, [field]: bad }, field);
      assert.equal(typeof fromEditor, 'string', `${type}.${field} accepted ${JSON.stringify(bad)}`);
      assert.equal(fromEditor, fromRuntime);
    });
  }

  it('accepts good values, and reports the current settings version', () => {
    assert.equal(editor.validate('idv-settings', 'publicUrl').call({}, 'https://video.gemeente.nl'), true);
    assert.equal(editor.validate('idv-book-appointment', 'path').call({}, '/voorbeeld/afspraak'), true);
    assert.equal(editor.validate('idv-session-link', 'agentEmails').call({}, local([{ username: 'agent1', email: 'anna@gemeente.example' }])), true);
    assert.equal(editor.version('idv-session-link'), currentSettingsVersion('idv-session-link'));
  });
});
