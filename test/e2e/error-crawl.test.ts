import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { CensusEntry } from '../support/route-census';
import { productionFlows } from '../support/flows';
import { Client } from '../support/http-client';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';

/**
 * Every route the real runtime mounts — discovered from its express stacks (test/support/route-census.ts), so routes
 * added later are crawled too — gets malformed percent-encodings, traversal, an overlong and an unknown path, with
 * GET, POST and HEAD, anonymously and signed in, in demo and in production mode. No answer may be a 5xx or carry a
 * stack frame, a file path, an error name or a library's name, and the log stays short and bounded.
 */

const MALFORMED = ['%E0', '%E0%A4%A', '%00'];
const OTHER = ['%2e%2e%2f%2e%2e%2fetc%2fpasswd', '../../x', 'a'.repeat(8192), 'nope-not-here'];
const CENSUS = path.join(ROOT, 'dist', 'test', 'support', 'route-census.js');
const CLI = path.join(ROOT, 'dist', 'scripts', 'staff-account.js');
const PASSWORD = 'crawler password 2026!';

const STACK_FRAME = /\bat [^\s]+ \(?[^)]*:\d+:\d+\)?|\bat <anonymous>/;
const FILE_PATH = /(?:\/node_modules\/|\/(?:work|tmp|home|root|usr|srv|opt|var)\/[\w.-]+|[A-Z]:\\)/;
const ERROR_NAME = /\b(?:[A-Z][A-Za-z]*)?Error:|\bURIError\b|\bENOENT\b|\bEACCES\b|Cannot read propert(?:y|ies) of|is not a function\b/;
const LIBRARY = /\b(?:express|node-red|nodered|passport|oauth2orize|body-parser|serve-static|finalhandler|better-sqlite3|sqlite|nodemailer|openid-client|mediasoup|node-cache|rate-limiter-flexible)\b/i;

interface Target {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  malformed: boolean;
}

/** Concrete request paths for a census entry: each fuzz value in each parameter and as a child of the path. */
function targetsFor(entries: CensusEntry[]): Target[] {
  const out = new Map<string, Target>();
  const add = (p: string, malformed: boolean) => {
    for (const method of ['GET', 'POST', 'HEAD'] as const) out.set(`${method} ${p}`, { method, path: p, malformed });
  };
  for (const e of entries) {
    const base = e.path.replace(/\/\?\*$/, '/*');
    for (const fuzz of [...MALFORMED, ...OTHER]) {
      const malformed = MALFORMED.includes(fuzz);
      const filled = base.replace(/:[A-Za-z_]+(?:\([^)]*\))?\??/g, fuzz).replace(/\*/g, fuzz);
      if (filled !== base) add(filled, malformed);
      add(`${base.replace(/\/\*$/, '')}/${fuzz}`, malformed);
    }
  }
  return [...out.values()];
}

function request(port: number, t: Target, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = t.method === 'POST' ? '{"x":' : undefined;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: t.method,
        path: t.path,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function census(rt: RuntimeHandle, file: string): Promise<CensusEntry[]> {
  rt.proc.kill('SIGUSR2');
  const end = Date.now() + 10_000;
  while (!fs.existsSync(file) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CensusEntry[];
}

async function crawl(rt: RuntimeHandle, targets: Target[], headers: Record<string, string>): Promise<string[]> {
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++];
      const { status, body } = await request(rt.port, t, headers);
      const where = `${t.method} ${t.path.slice(0, 80)}${t.path.length > 80 ? '…' : ''} -> ${status}`;
      if (status >= 500) problems.push(`${where}: server error`);
      if (t.malformed && status !== 400) problems.push(`${where}: malformed encoding must be 400`);
      // The editor's API answers its own defaults for unknown keys (an icon, an empty message catalogue): its business.
      if (!t.malformed && status < 300 && t.path.includes('nope-not-here') && !t.path.startsWith('/admin/')) problems.push(`${where}: an unknown path answered ${status}`);
      for (const [name, re] of [['stack frame', STACK_FRAME], ['file path', FILE_PATH], ['error name', ERROR_NAME]] as const) {
        if (re.test(body)) problems.push(`${where}: body has a ${name}: ${re.exec(body)?.[0]}`);
      }
      if (status >= 300 && LIBRARY.test(body)) problems.push(`${where}: body names a library: ${LIBRARY.exec(body)?.[0]}`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return problems;
}

/** A flow editor token of the crawler (an administrator). */
async function editorToken(rt: RuntimeHandle): Promise<string> {
  const res = await fetch(`${rt.url}/admin/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'crawler', password: PASSWORD }),
  });
  assert.equal(res.status, 200, 'the crawler gets an editor token');
  return ((await res.json()) as { access_token: string }).access_token;
}

for (const mode of ['demo', 'production'] as const) {
  describe(`error crawl over every mounted route (${mode} mode)`, function () {
    this.timeout(240_000);
    let rt: RuntimeHandle;
    let entries: CensusEntry[];
    const dataDir = tempDir('idv-crawl-');
    const censusFile = path.join(dataDir, 'census.json');
    const env: Record<string, string> = { IDV_MODE: mode, IDV_ROUTE_CENSUS_FILE: censusFile };
    if (mode === 'production') {
      Object.assign(env, { IDV_PUBLIC_URL: 'https://video.gemeente.example', SMTP_URL: 'smtp://127.0.0.1:1', IDV_CREDENTIAL_SECRET: 'crawl-test-secret-0123456789abcdefghij' });
    }

    before(async () => {
      // An account with every role, so the signed-in crawl reaches every guarded handler.
      const add = spawnSync(process.execPath, [CLI, 'add', 'crawler', '--name', 'Crawler', '--roles', 'agent,kcc,admin'], {
        input: `${PASSWORD}\n`,
        encoding: 'utf8',
        env: { ...process.env, IDV_DATA_DIR: dataDir },
      });
      assert.equal(add.status, 0, add.stderr);
      // Production runs no demo set-up: the default flows with the crawler as the agent and no example domain.
      if (mode === 'production') fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(productionFlows(ROOT, { username: 'crawler', displayName: 'Crawler', email: 'crawler@testdorp.test' })));
      rt = await startRuntime({ dataDir, env, nodeArgs: ['--require', CENSUS] });
      // The crawl provokes one short line per refused request (within the budget), and production's default flows
      // have no identification method configured yet, which the node says.
      rt.log.allow(/^\[idv\] (static file )?refused \(\d{3}\) on [A-Z]+ /, /^\[idv\] \d+ more such line\(s\) were not logged/, /\[idv-request-auth:[^\]]+\] idv-request-auth: (the demo methods exist in demo mode only|select at least one authentication method)/);
      entries = await census(rt, censusFile);
    });
    after(async () => {
      await rt?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('finds the product routes in the runtime itself (pages, APIs, static files, editor)', () => {
      const paths = new Set(entries.map((e) => e.path));
      for (const p of ['/idv/static', '/login', '/afspraak', '/afspraak/annuleren/:token', '/v/*', '/agent/call/:id', '/call', '/auth/callback', '/admin/auth/token', '/admin/flows']) {
        assert.ok(paths.has(p), `census lists ${p}`);
      }
      assert.equal(paths.has('/dev/mail/:id'), mode === 'demo', '/dev/mail exists in demo mode only');
      assert.ok(entries.length > 60, `${entries.length} routes`);
    });

    it('answers the admin inputs Node-RED fails on (SSH keys, named context stores: off; catalogues without a language) before Node-RED', async () => {
      // Node-RED itself throws a TypeError on these (an error line in its log); the editor guard answers them first.
      const token = await editorToken(rt);
      for (const headers of [{}, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
        for (const [method, p, words] of [
          ['GET', '/admin/settings/user/keys', /projects feature, which is switched off/],
          ['POST', '/admin/settings/user/keys', /projects feature, which is switched off/],
          ['GET', '/admin/settings/user/keys/id_rsa', /projects feature, which is switched off/],
          ['DELETE', '/admin/settings/user/keys/id_rsa', /projects feature, which is switched off/],
          ['GET', '/admin/context/global?store=file', /No context stores are configured/],
          ['GET', '/admin/context/flow/abc/key?store=memory', /No context stores are configured/],
          ['DELETE', '/admin/context/global/key?store=default', /No context stores are configured/],
          // Not a feature that is off: Node-RED fails on a message catalogue without a language (it answers 400 with
          // its TypeError's words); the editor always sends ?lng=.
          ['GET', '/admin/nodes/messages', /Say which language/],
          ['GET', '/admin/nodes/messages/nope-not-here', /Say which language/],
          ['GET', '/admin/nodes/node-red/inject/messages', /Say which language/],
        ] as const) {
          const res = await fetch(`${rt.url}${p}`, { method, headers });
          const body = await res.text();
          assert.equal(res.status, /Say which language/.test(words.source) ? 400 : 404, `${method} ${p}`);
          assert.doesNotMatch(body, /Cannot read properties|TypeError/, `${method} ${p}`);
          assert.match(body, words, `${method} ${p}`);
        }
      }
      // Without a store the context API is Node-RED's and works for the administrator (the editor's context sidebar),
      // and so do the message catalogues in a language.
      const global = await fetch(`${rt.url}/admin/context/global`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(global.status, 200, 'context without a store');
      for (const p of ['/admin/nodes/messages?lng=nl', '/admin/nodes/node-red/inject/messages?lng=en-US']) {
        assert.equal((await fetch(`${rt.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).status, 200, p);
      }
    });

    it('sends Strict-Transport-Security only for an https public URL (production), never in demo over http', async () => {
      const res = await fetch(`${rt.url}/login`);
      assert.equal(res.headers.get('strict-transport-security'), mode === 'production' ? 'max-age=31536000' : null);
    });

    it('answers every malformed, traversing, overlong and unknown path with a 4xx (or a redirect), without internals', async () => {
      const targets = targetsFor(entries);
      const logBefore = rt.output().split('\n').length;
      const started = Date.now();
      const anonymous = await crawl(rt, targets, {});
      // Production: Secure __Host- cookies; the runtime still listens on http, so the client sends them by hand.
      const c = new Client(rt.url);
      const signIn = await c.signIn('crawler', PASSWORD);
      assert.equal(signIn.status, 303, 'the crawler signs in');
      const token = await editorToken(rt);
      const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const signedIn = await crawl(rt, targets, { cookie, authorization: `Bearer ${token}` });
      const seconds = (Date.now() - started) / 1000;
      const problems = [...anonymous, ...signedIn];
      assert.deepEqual(problems.slice(0, 40), [], `${problems.length} problem(s) in ${targets.length * 2} requests`);

      // The log: short lines, no stack, and bounded (20 request lines a minute plus one "more" line per minute).
      const lines = rt.output().split('\n').slice(logBefore).filter((l) => l.trim());
      const bad = lines.filter((l) => /^\s+at /.test(l) || l.length >= 300);
      assert.deepEqual(bad.slice(0, 10), [], `log lines are short and without stack; around the first: ${lines.slice(Math.max(0, lines.indexOf(bad[0] ?? '') - 3), lines.indexOf(bad[0] ?? '') + 1).join(' | ')}`);
      // Our request lines are throttled (20 a minute plus one "more" line); what else the crawl makes others print (a
      // library starting up, Node-RED's admin API) is declared above and only bounded here.
      const ours = lines.filter((l) => /^\[idv\] ((static file )?refused \(\d{3}\)|internal error|\d+ more such line)/.test(l));
      const budget = (Math.floor(seconds / 60) + 1) * 22 + 10;
      assert.ok(ours.length <= budget, `${ours.length} request log lines for ${targets.length * 2} refused requests in ${seconds.toFixed(0)} s (budget ${budget})`);
      assert.ok(lines.length - ours.length <= 20, `${lines.length - ours.length} other log lines: ${lines.filter((l) => !ours.includes(l)).slice(0, 20).join(' | ')}`);
    });
  });
}
