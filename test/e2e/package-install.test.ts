/**
 * The package as a functional administrator gets it: `npm pack`, installed without dev dependencies into a fresh
 * Node-RED user directory, run by a plain Node-RED (not our embedded runtime). The Node-RED version follows the Node
 * running the tests, so CI's two runs cover both supported pairs: Node-RED 4.1 (the project's own) on Node 20, and
 * Node-RED 5 (from the npm registry, in the test cache of scripts/test-runtimes.js) on Node 24.
 *
 * - Node 20 / Node-RED 4.1 installs as the palette does: no allowScripts in the user directory (npm runs every
 *   install script; mediasoup's own fails and npm drops the optional dependency) and no apt (IDV_SKIP_WORKER=1). The
 *   runtime must say what to run, the dashboard node must be red with that command, nothing else may break; then the
 *   command is run (with a worker binary given, so nothing is downloaded) and a restart brings video back.
 * - Node 24 / Node-RED 5 installs as the README says (allowScripts prepared, the worker binary given).
 * Both then check that every idv-* type loaded, the default flows run, and every example deploys beside them without a
 * route clash. Bounded: each command and wait has its own limit; without the better-sqlite3 prebuild cache the install
 * compiles SQLite (about two minutes), with it the whole file takes about a minute.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { importCopy, waitsForCredentials, type FlowNode } from '../support/flows';
import { ROOT, tempDir } from '../support/runtime';
import { keepOrder } from '../support/test-order';
import { watchNodeRedOutput, type WatchedLog } from '../support/server-log';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimes = require(path.join(ROOT, 'scripts', 'test-runtimes.js')) as {
  ensureOwnPrebuild(): string;
  ensureNodeRed5(): string;
};

const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; 'node-red': { nodes: Record<string, string> } };
const IDV_TYPES = Object.keys(PKG['node-red'].nodes).sort();
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const NODE_RED_5 = NODE_MAJOR >= 22;
const WORKER_BIN = path.join(ROOT, '.media-worker', 'mediasoup-worker');

/**
 * The machine's npm (11, which knows allowScripts), run by the Node of this test: not an npm that a dependency put in
 * node_modules/.bin, which comes first on PATH when mocha runs through npx.
 */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$|npx-cli\.js$/.test(fromNpm)) return fromNpm.replace(/npx-cli\.js$/, 'npm-cli.js');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const bin = path.join(dir, 'npm');
    if (fs.existsSync(bin)) return path.join(path.dirname(fs.realpathSync(bin)), 'npm-cli.js');
  }
  throw new Error('npm not found on PATH');
}

function npm(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  return sh(process.execPath, [npmCli(), ...args], opts);
}

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  const res = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}\n${out.slice(-3000)}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}:\n${out.slice(-3000)}`);
  return out;
}

interface Host {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** Its warn/error lines, checked after every test like a runtime's (test/support/server-log.ts). */
  log: WatchedLog;
  stop(): Promise<void>;
}

/** Starts Node-RED from `nodeRedDir` on `userDir` with this test's Node binary; resolves once flows started. */
const started: Host[] = [];

function startNodeRed(nodeRedDir: string, userDir: string, env: NodeJS.ProcessEnv): Promise<Host> {
  return startHost(nodeRedDir, userDir, env).then((h) => {
    // Every host this file starts is stopped in after(), also when a test failed before stopping its own.
    started.push(h);
    return h;
  });
}

function startHost(nodeRedDir: string, userDir: string, env: NodeJS.ProcessEnv): Promise<Host> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'support', 'node-red-host.js'), nodeRedDir, userDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let onData = () => {};
  const log = watchNodeRedOutput(`installed package in ${userDir}`, proc, (text) => {
    out += text;
    onData();
  });
  allowHostNotices(log);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`Node-RED did not start within 60 s:\n${out}`));
    }, 60_000);
    onData = () => {
      const m = /\[host\] .* listening (\d+)/.exec(out);
      if (m) {
        onData = () => {};
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          proc,
          output: () => out,
          log,
          stop: async () => {
            if (proc.exitCode === null) proc.kill('SIGTERM');
            const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited before listening:\n${out}`));
    });
  });
}

/**
 * Notices every plain Node-RED host prints, not faults: projects are off in its settings (node-red-host.ts), and a new
 * user directory has no flows_cred.json before the first deploy with credentials.
 */
function allowHostNotices(log: WatchedLog): void {
  log.allow(/ - \[warn\] Projects disabled : editorTheme\.projects\.enabled=false$/, / - \[warn\] Encrypted credentials not found$/);
  // Demo mode's identity provider (as for the embedded runtime, test/support/runtime.ts): oidc-provider with its
  // in-memory store on purpose, and the library wants Node 22 (README: Node 20.19+).
  log.allow(/^oidc-provider WARNING: (a quick start development-only in-memory adapter is used|Unsupported runtime\. Use Node\.js v22)/);
}

type Status = { fill?: string; shape?: string; text?: string };

/** The current status of every node, as the editor gets it (retained "status/<id>" messages on /admin/comms). */
async function statuses(url: string, settleMs = 500): Promise<Map<string, Status>> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/admin/comms`);
  const seen = new Map<string, Status>();
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (data: Buffer) => {
    const parsed = JSON.parse(data.toString()) as { topic: string; data: Status } | { topic: string; data: Status }[];
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) if (m.topic.startsWith('status/')) seen.set(m.topic.slice(7), m.data);
  });
  ws.send(JSON.stringify({ subscribe: 'status/#' }));
  await new Promise((r) => setTimeout(r, settleMs));
  ws.close();
  return seen;
}

/** Waits (bounded) until `check` holds for the nodes' statuses; returns the last statuses seen. */
async function waitForStatuses(url: string, check: (s: Map<string, Status>) => boolean, what: string, timeoutMs = 20_000): Promise<Map<string, Status>> {
  const end = Date.now() + timeoutMs;
  let last = await statuses(url);
  while (!check(last)) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms; statuses ${JSON.stringify([...last])}`);
    last = await statuses(url, 300);
  }
  return last;
}

async function deploy(url: string, flows: FlowNode[]): Promise<void> {
  const res = await fetch(`${url}/admin/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' },
    body: JSON.stringify(flows),
  });
  assert.equal(res.status, 204, `deploy answered ${res.status}: ${await res.text()}`);
}

const ERROR_LINE = /\[error\]/;
/** The error lines of the nodes waitsForCredentials names: the missing secret, by its field. */
const WAITS_FOR_CREDENTIALS = /\[error\] .*(clientSecret: required for client_secret_basic|decryptionKey: required|token: the API token of Open Klant is required)/;


describe(`the npm package installed into a fresh Node-RED user directory (Node-RED ${NODE_RED_5 ? 5 : '4.1'} on Node ${NODE_MAJOR})`, function () {
  // One installation, checked step by step (found by IDV_TEST_ORDER=reverse): the first step installs the tarball
  // every later step runs; on Node 20 the worker-missing step must see the install before it provisions the worker
  // the next steps use, and the last step deploys into the Node-RED the step before it started.
  keepOrder(this, 'the install step makes the user directory, the worker step provisions what the next steps run on');
  this.timeout(300_000);
  const work = tempDir('idv-package-');
  const userDir = path.join(work, 'node-red');
  let nodeRedDir = '';
  let host: Host | undefined;
  let env: NodeJS.ProcessEnv = {};

  after(async () => {
    for (const h of started) await h.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('installs from the packed tarball without dev dependencies', function () {
    this.timeout(360_000);
    nodeRedDir = NODE_RED_5 ? runtimes.ensureNodeRed5() : path.dirname(require.resolve('node-red/package.json', { paths: [ROOT] }));
    const packed = npm(['pack', '--silent', '--pack-destination', work], { cwd: ROOT, timeoutMs: 60_000 }).trim().split('\n').pop() as string;
    const tarball = path.join(work, packed);
    fs.mkdirSync(userDir);
    // Node-RED 5 on Node 24: the README's way (install scripts reviewed in the user directory, the worker binary
    // given). Node-RED 4.1 on Node 20: the palette's way (a user directory that says nothing about install scripts)
    // on a machine where our provisioning cannot run.
    const userPackage = NODE_RED_5
      ? { name: 'node-red-project', private: true, allowScripts: { mediasoup: false, 'better-sqlite3': true, [PKG.name]: true } }
      : { name: 'node-red-project', private: true };
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify(userPackage, null, 2));
    env = {
      ...process.env,
      // better-sqlite3 unpacks the addon compiled for this Node instead of compiling SQLite again (prebuild-install's
      // local prebuilds; see scripts/test-runtimes.js).
      npm_config_better_sqlite3_local_prebuilds: runtimes.ensureOwnPrebuild(),
      MEDIASOUP_WORKER_BIN: NODE_RED_5 ? WORKER_BIN : '',
      IDV_SKIP_WORKER: NODE_RED_5 ? '' : '1',
      IDV_DATA_DIR: '',
      IDV_MODE: 'demo',
      NODE_ENV: 'production',
    };
    // --foreground-scripts: the install scripts' own messages are part of what is checked.
    const out = npm(['install', tarball, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { cwd: userDir, env, timeoutMs: 300_000 });
    const installed = path.join(userDir, 'node_modules', ...PKG.name.split('/'));
    assert.ok(fs.existsSync(path.join(installed, 'package.json')), out);
    for (const dev of ['mocha', 'typescript', 'playwright-core', 'esbuild', 'node-red', '@utrecht/design-tokens', 'supertest']) {
      assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', dev)), `dev dependency ${dev} was installed`);
    }
    for (const runtimeDep of ['better-sqlite3', 'mailparser', 'smtp-server', 'express']) {
      assert.ok(fs.existsSync(path.join(userDir, 'node_modules', runtimeDep)), `${runtimeDep} missing`);
    }
    if (NODE_RED_5) {
      assert.match(out, /using MEDIASOUP_WORKER_BIN=.* \(verified\); nothing downloaded/, out);
    } else {
      // mediasoup's own install script builds its worker from sources it cannot fetch: npm drops the optional
      // dependency instead of failing the install.
      assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', 'mediasoup')), 'mediasoup was expected to be dropped');
      assert.match(out, /IDV_SKIP_WORKER=1: not provisioning/, out);
    }
  });

  if (!NODE_RED_5) {
    it('without a media worker: the runtime says what to run, the dashboard node is red with the command, the rest runs', async () => {
      fs.copyFileSync(path.join(ROOT, 'flows', 'flows.json'), path.join(userDir, 'flows.json'));
      host = await startNodeRed(nodeRedDir, userDir, { ...env, IDV_SKIP_WORKER: '' });
      // What this test is about, said once by the media server and once by the dashboard node (with the command).
      await host.log.expectLine(/ - \[error\] media server could not start: mediasoup worker binary not found .* Run: cd .* && npx idv-provision-worker/);
      await host.log.expectLine(/ - \[error\] \[idv-agent-dashboard:[^\]]*\] idv-agent-dashboard: mediasoup worker binary not found .* npx idv-provision-worker/);
      const s = await waitForStatuses(host.url, (m) => m.get('agent-dashboard')?.fill === 'red', 'the dashboard reports the missing worker');
      // A message key: the editor shows it in its user's language, both with the command.
      assert.equal(s.get('agent-dashboard')?.text, 'idv-agent-dashboard.status.workerMissing');
      const installed = path.join(userDir, 'node_modules', ...PKG.name.split('/'), 'dist', 'nodes', 'idv-agent-dashboard', 'locales');
      for (const lang of ['nl', 'en-US']) {
        const messages = JSON.parse(fs.readFileSync(path.join(installed, lang, 'idv-agent-dashboard.json'), 'utf8')) as { 'idv-agent-dashboard': { status: { workerMissing: string } } };
        assert.match(messages['idv-agent-dashboard'].status.workerMissing, /npx idv-provision-worker/);
      }
      assert.match(host.output(), new RegExp(`Run: cd ${userDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} && npx idv-provision-worker`));
      const others = [...s].filter(([id, st]) => id !== 'agent-dashboard' && st.fill === 'red');
      assert.deepEqual(others, [], 'only the dashboard is affected');
      // Booking still works without media.
      const form = await fetch(`${host.url}/afspraak`);
      assert.equal(form.status, 200);
      await host.stop();
      host = undefined;

      // What the status says, as `npx idv-provision-worker` runs it (npm exec of the package's bin, offline).
      const fixed = npm(['exec', '--offline', '--', 'idv-provision-worker'], { cwd: userDir, env: { ...env, IDV_SKIP_WORKER: '', MEDIASOUP_WORKER_BIN: WORKER_BIN }, timeoutMs: 180_000 });
      assert.match(fixed, /installing it without its install script/, fixed);
      assert.match(fixed, /using MEDIASOUP_WORKER_BIN=.* \(verified\)/, fixed);
      env = { ...env, IDV_SKIP_WORKER: '', MEDIASOUP_WORKER_BIN: WORKER_BIN };
    });
  }

  it('loads every idv-* type without errors and runs the default flows', async () => {
    fs.copyFileSync(path.join(ROOT, 'flows', 'flows.json'), path.join(userDir, 'flows.json'));
    host = await startNodeRed(nodeRedDir, userDir, env);
    const res = await fetch(`${host.url}/admin/nodes`, { headers: { Accept: 'application/json' } });
    const sets = ((await res.json()) as { module: string; types: string[]; enabled: boolean; err?: string }[]).filter((s) => s.module === PKG.name);
    assert.deepEqual(sets.flatMap((s) => s.types).sort(), IDV_TYPES);
    for (const set of sets) assert.ok(set.enabled && !set.err, `${set.types.join(',')}: ${JSON.stringify(set.err)}`);

    const s = await waitForStatuses(host.url, (m) => m.get('agent-dashboard')?.fill === 'green', 'the dashboard runs its media server');
    assert.deepEqual([...s].filter(([, st]) => st.fill === 'red'), [], 'no node is red');
    const errors = host.output().split('\n').filter((l) => ERROR_LINE.test(l));
    assert.deepEqual(errors, [], host.output());
    for (const [p, status] of [['/afspraak', 200], ['/agent', 303]] as const) {
      const r = await fetch(`${host.url}${p}`, { redirect: 'manual' });
      assert.equal(r.status, status, `${p}`);
    }
  });

  it('deploys every example beside the default flows without a route clash or an error', async () => {
    assert.ok(host, 'Node-RED runs');
    const h: Host = host;
    const defaults = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'flows.json'), 'utf8')) as FlowNode[];
    // The nodes that wait for a credential an import lacks (see waitsForCredentials) say so in one error line each.
    h.log.allow(WAITS_FOR_CREDENTIALS);
    const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();
    assert.ok(examples.length >= 11);
    for (const [i, file] of examples.entries()) {
      const example = importCopy(JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')) as FlowNode[], `ex${i}-`);
      const before: number = h.output().length;
      await deploy(h.url, [...defaults, ...example]);
      const idvNodes = example.filter((n) => IDV_TYPES.includes(n.type) && n.z !== undefined).map((n) => n.id);
      const s = await waitForStatuses(h.url, (m) => idvNodes.every((id) => m.has(id)), `${file}: every node reports its status`);
      const red = [...s].filter(([id, st]) => st.fill === 'red' && (idvNodes.includes(id) || defaults.some((n) => n.id === id)));
      // Imports carry no credentials: a node whose method talks to a real provider or core waits for that secret, and
      // says so. Any other red node (a route served twice, an invalid setting) is a defect of the example.
      const unexpected = red.filter(([id]) => !waitsForCredentials(example, id));
      assert.deepEqual(unexpected, [], `${file}: red nodes`);
      const errors: string[] = h.output().slice(before).split('\n').filter((l) => ERROR_LINE.test(l) && !WAITS_FOR_CREDENTIALS.test(l));
      assert.deepEqual(errors, [], `${file}:\n${errors.join('\n')}`);
    }
  });
});
