import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importCopy, waitsForCredentials, type FlowNode } from '../support/flows';
import { DEMO_PASSWORD, ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';

/**
 * Every example (Import → Examples) in the real runtime, all in one runtime: first every example at once, as imported
 * copies side by side (they must not clash), then each example alone and the 0.1 default flows, each by a full deploy
 * through the admin API (as the editor's Deploy does). One runtime start instead of one per example (issue 18).
 * For each: /healthz is healthy, or unhealthy for identification only and then only because an example's real
 * provider or ID Contact core waits for its secret (imports never carry credentials); no error line but those.
 */

const EXAMPLES = path.join(ROOT, 'examples');
const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as FlowNode[];

/** The error lines an import without credentials provokes, by the missing secret's field. */
const WAITS_FOR_CREDENTIALS = /clientSecret: required for client_secret_basic|decryptionKey: required|token: the API token of Open Klant is required/;

type Health = Record<string, { ok: boolean; detail?: string } | string>;

/** The parts /healthz reports failing, as [name, detail]. */
async function failingParts(url: string): Promise<[string, string][]> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as Health;
  const failing = Object.entries(body).flatMap(([k, v]) => (k !== 'status' && typeof v === 'object' && !v.ok ? [[k, String(v.detail)] as [string, string]] : []));
  assert.equal(res.status === 200, failing.length === 0, `status ${res.status} agrees with the parts: ${JSON.stringify(body)}`);
  return failing;
}

/**
 * Waits (bounded) until /healthz fails exactly for identification when a node of `flow` waits for a provider's or a
 * core's secret, and for nothing otherwise; returns the failing parts last seen (the caller asserts).
 */
async function settledHealth(url: string, flow: FlowNode[], timeoutMs = 20_000): Promise<{ want: string[]; failing: [string, string][] }> {
  const waits = flow.some((n) => (n.type === 'idv-request-auth' || n.type === 'idv-idcontact-session') && waitsForCredentials(flow, n.id));
  const want = waits ? ['identification'] : [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const failing = await failingParts(url);
    if (JSON.stringify(failing.map(([k]) => k)) === JSON.stringify(want) || Date.now() > end) return { want, failing };
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('examples (Import → Examples), deployed into one runtime', function () {
  this.timeout(180_000);
  let rt: RuntimeHandle;
  let token = '';
  let deployedSinceStart = false;
  const dataDir = tempDir('idv-examples-');
  const together = files.flatMap((f, i) => importCopy(read(f), `ex${i}-`));

  /** A full deploy through the admin API, as the editor's Deploy button does; resolves once Node-RED started them. */
  async function deploy(flows: FlowNode[]): Promise<void> {
    const res = await fetch(`${rt.url}/admin/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' },
      body: JSON.stringify(flows),
    });
    assert.equal(res.status, 204, `deploy answered ${res.status}: ${await res.text()}`);
    deployedSinceStart = true;
  }

  /** Health and log after flows started: see the file's comment. `from`: where in the output this deploy began. */
  async function check(what: string, flow: FlowNode[], from: number): Promise<void> {
    const { want, failing } = await settledHealth(rt.url, flow);
    assert.deepEqual(failing.map(([k]) => k), want, `${what}: failing parts ${JSON.stringify(failing)}\n${rt.output().slice(from)}`);
    for (const [, detail] of failing) assert.match(detail, /clientSecret: required for client_secret_basic|decryptionKey: required/, what);
    const errors = rt
      .output()
      .slice(from)
      .split('\n')
      .filter((l) => /\[error\]/.test(l) && !WAITS_FOR_CREDENTIALS.test(l));
    assert.deepEqual(errors, [], `${what}:\n${errors.join('\n')}`);
  }

  before(async () => {
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(together));
    rt = await startRuntime({ dataDir });
    // Said on purpose, not defects: an example with a real provider has no client secret (exports never carry
    // one), an example with an ID Contact core has none of its keys (credentials too), and a KCC-only example
    // names the resident path of the default flows, which it does not serve alone; Open Klant waits for its API token.
    rt.log.allow(
      /clientSecret: required for client_secret_basic/,
      /the ID Contact core "[^"]+" is invalid: decryptionKey: required: .*; signingKeys: required: /,
      /KCC bookings name cancel pages at \/afspraak, but no resident booking node serves that path/,
      /the Open Klant configuration "[^"]+" is invalid: token: the API token of Open Klant is required/,
    );
    const res = await fetch(`${rt.url}/admin/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: DEMO_PASSWORD }),
    });
    assert.equal(res.status, 200, 'the demo administrator gets an editor token');
    token = ((await res.json()) as { access_token: string }).access_token;
  });
  after(async () => {
    await rt?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('cover every node of the package, each opening with a comment node', () => {
    const used = new Set<string>();
    for (const f of files) {
      const flow = read(f);
      assert.ok(Array.isArray(flow), f);
      assert.ok(flow.some((n) => n.type === 'comment'), `${f} has a comment node`);
      flow.forEach((n) => used.add(n.type));
    }
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `an example uses ${type}`);
  });

  it('every example at once, as imported copies side by side, starts without a clash or an error', async () => {
    // The runtime started on these flows (before): then health and the whole log so far count. When another test of
    // this file deployed first (IDV_TEST_ORDER), they are deployed again.
    let from = 0;
    if (deployedSinceStart) {
      from = rt.output().length;
      await deploy(together);
    }
    await check('all examples together', together, from);
    for (const f of files) {
      const booking = read(f).find((n) => n.type === 'idv-book-appointment');
      if (!booking) continue;
      // Served (the resident's form, or the KCC's sign-in redirect), not left to the 404 of nobody's path.
      const res = await fetch(`${rt.url}${String(booking.path)}`, { redirect: 'manual' });
      assert.ok(res.status === 200 || (res.status === 303 && /^\/login\?/.test(res.headers.get('location') ?? '')), `${f}: ${String(booking.path)} answered ${res.status}`);
    }
  });

  it('the default flows as ID Video 0.1 saved them (no settings versions) still deploy without errors', async () => {
    const saved = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'flows-0.1.json'), 'utf8')) as Record<string, unknown>;
    const flow = saved['flows/flows.json'] as FlowNode[];
    const from = rt.output().length;
    await deploy(flow);
    await check('0.1 default flows', flow, from);
    assert.equal((await fetch(`${rt.url}/afspraak`)).status, 200);
  });

  for (const f of files) {
    it(`"${f}" deploys alone in the real runtime without errors`, async () => {
      const flow = read(f);
      const from = rt.output().length;
      await deploy(flow);
      await check(f, flow, from);
    });
  }
});
