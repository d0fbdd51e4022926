import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../support/call-media';
import { ROOT, startRuntime, tempDir } from '../support/runtime';

const EXAMPLES = path.join(ROOT, 'examples');
const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };

describe('examples (Import → Examples)', function () {
  this.timeout(180_000);

  it('cover every node of the package, each opening with a comment node', () => {
    const used = new Set<string>();
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as { type: string }[];
      assert.ok(Array.isArray(flow), f);
      assert.ok(flow.some((n) => n.type === 'comment'), `${f} has a comment node`);
      flow.forEach((n) => used.add(n.type));
    }
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `an example uses ${type}`);
  });

  for (const f of files) {
    it(`"${f}" deploys in the real runtime without errors`, async () => {
      const dataDir = tempDir('idv-example-');
      fs.copyFileSync(path.join(EXAMPLES, f), path.join(dataDir, 'flows.json'));
      const rt = await startRuntime({ dataDir });
      try {
        // An example with a real provider (or ID Contact core) has no credentials after an import, so /healthz rightly
        // reports identification as unavailable; nothing else may be down.
        const waiting = /clientSecret: required|decryptionKey: required/;
        const health = await waitFor('the runtime healthy, or down for missing credentials only', async () => {
          const res = await fetch(`${rt.url}/healthz`);
          const body = (await res.json()) as Record<string, { ok?: boolean; detail?: string } | string>;
          const down = Object.entries(body).filter(([k, v]) => k !== 'status' && typeof v === 'object' && v.ok === false);
          if (res.status === 200) return { down };
          return down.length === 1 && down[0][0] === 'identification' && waiting.test((down[0][1] as { detail?: string }).detail ?? '') ? { down } : undefined;
        }, 30_000).catch(() => assert.fail(`${f} is not healthy:\n${rt.output()}`));
        assert.ok(health.down.every(([k]) => k === 'identification'));
        // Exported and imported flows never carry credentials: an example with a real provider waits for its client
        // secret (an ID Contact core for its private key), and says so. Any other error is a defect of the example.
        const errors = rt
          .output()
          .split('\n')
          .filter((l) => /\[error\]/.test(l) && !/clientSecret: required for client_secret_basic|decryptionKey: required/.test(l));
        assert.deepEqual(errors, [], `${f}:\n${errors.join('\n')}`);
      } finally {
        await rt.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
