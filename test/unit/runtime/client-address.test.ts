import assert from 'node:assert/strict';
import * as path from 'node:path';
import express, { type Request } from 'express';
import request from 'supertest';
import { forwardedHeaderWatch } from '../../../lib/http/forwarded-watch';
import { clientKey } from '../../../lib/http/rate-limit';
import { healthRoute } from '../../../lib/runtime/health-route';
import { ROOT } from '../../support/runtime';

// Node-RED's own express copy: the runtime mounts Node-RED's httpNode (made with it) under our app, and the rate
// limits key requests inside that sub-app, so its trust-proxy setting must be the one our app was given.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeRedExpress = require(require.resolve('express', { paths: [path.join(ROOT, 'node_modules', 'node-red')] })) as typeof express;

function runtimeLike(trustProxy: number) {
  const app = express();
  app.set('trust proxy', trustProxy);
  const httpNode = nodeRedExpress();
  httpNode.get('/key', (req, res) => res.json({ key: clientKey(req as unknown as Request), ip: req.ip }));
  app.use('/', httpNode);
  return app;
}

describe('client addresses behind a proxy', () => {
  it('without IDV_TRUST_PROXY a forwarded address is never believed (also inside Node-RED\'s own express)', async () => {
    const app = runtimeLike(0);
    const plain = (await request(app).get('/key')).body as { key: string; ip: string };
    const forged = (await request(app).get('/key').set('x-forwarded-for', '203.0.113.9')).body as { key: string; ip: string };
    assert.equal(forged.key, plain.key, 'the same client, whatever it claims');
    assert.match(forged.ip, /127\.0\.0\.1/);
  });

  it('with one proxy only the address that proxy wrote counts: entries a client put in front are ignored', async () => {
    const app = runtimeLike(1);
    const a = (await request(app).get('/key').set('x-forwarded-for', '198.51.100.7')).body as { key: string; ip: string };
    const forgedInFront = (await request(app).get('/key').set('x-forwarded-for', '203.0.113.9, 198.51.100.7')).body as { key: string; ip: string };
    const b = (await request(app).get('/key').set('x-forwarded-for', '198.51.100.8')).body as { key: string; ip: string };
    assert.equal(a.ip, '198.51.100.7');
    assert.equal(forgedInFront.key, a.key);
    assert.notEqual(b.key, a.key, 'two residents, two keys');
  });

  it('warns once a minute, with a count, when the proxy sets no address or an undeclared proxy does', async () => {
    let t = 0;
    const lines: string[] = [];
    const app = (trustProxy: number) => {
      const a = express();
      a.use(forwardedHeaderWatch({ trustProxy, log: (l) => lines.push(l), now: () => t }));
      a.get(/.*/, (_req, res) => res.end('ok'));
      return a;
    };
    const behind = app(1);
    await request(behind).get('/afspraak').set('x-forwarded-for', '198.51.100.7');
    assert.equal(lines.length, 0, 'a request through the proxy is fine');
    await request(behind).get('/healthz');
    assert.equal(lines.length, 0, 'a local health probe is fine');
    for (let i = 0; i < 5; i++) await request(behind).get('/afspraak');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /IDV_TRUST_PROXY=1, but 1 request\(s\) arrived without X-Forwarded-For .*proxy_set_header X-Forwarded-For \$remote_addr/);
    t += 60_000;
    await request(behind).get('/afspraak');
    assert.equal(lines.length, 2);
    assert.match(lines[1], /but 5 request\(s\) arrived/, 'the ones left out are counted');

    lines.length = 0;
    t += 60_000;
    const undeclared = app(0);
    await request(undeclared).get('/afspraak');
    assert.equal(lines.length, 0);
    await request(undeclared).get('/afspraak').set('x-forwarded-for', '198.51.100.7');
    assert.match(lines[0], /carried X-Forwarded-For, but IDV_TRUST_PROXY is 0: the header is ignored/);
  });
});

describe('/healthz: up or down for everyone, the parts for the machine itself and administrators', () => {
  const checks = { store: { ok: true }, identification: { ok: false, detail: 'identification unavailable: select at least one authentication method' } };
  const app = (admin: boolean, ok = false) => {
    const a = express();
    a.set('trust proxy', 1);
    a.get('/healthz', healthRoute({ health: async () => ({ ok, checks }), identify: async () => (admin ? { username: 'beheer', displayName: 'B', roles: ['admin'] } : { username: 'anna', displayName: 'A', roles: ['agent'] }) }));
    return a;
  };

  it('a probe on this machine (loopback, nothing forwarded) gets every part', async () => {
    const res = await request(app(false)).get('/healthz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: 'unavailable', ...checks });
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('through the proxy only up or down, whatever the forwarded address claims; an administrator sees the parts', async () => {
    for (const xff of ['198.51.100.7', '127.0.0.1', '::1']) {
      const res = await request(app(false)).get('/healthz').set('x-forwarded-for', xff);
      assert.deepEqual(res.body, { status: 'unavailable' }, xff);
    }
    assert.deepEqual((await request(app(false)).get('/healthz').set('forwarded', 'for=127.0.0.1')).body, { status: 'unavailable' });
    assert.deepEqual((await request(app(false, true)).get('/healthz').set('x-forwarded-for', '198.51.100.7')).body, { status: 'ok' });
    const admin = await request(app(true)).get('/healthz').set('x-forwarded-for', '198.51.100.7');
    assert.deepEqual(admin.body, { status: 'unavailable', ...checks });
  });
});
