/**
 * TURN at start: a real coturn on loopback (started from deploy/coturn/turnserver.conf) and the real runtime. A wrong
 * shared secret stops the start with an operator's message (never the secret itself); a TURN server that is down
 * only warns, because direct calls work without it. The probe is also tried over UDP, TCP and TLS directly.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { probeTurn } from '../../media-server';
import { coturnConfig, makeTestCa, startCoturn, type Coturn, type TestCa } from '../support/coturn';
import { runRuntimeExpectingExit, startRuntime } from '../support/runtime';
import { TEST_RTC_ENV } from '../support/ports';
import { skipBecause } from '../support/skip';

const SECRET = 'turn-check-secret-0123456789abcdef';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('TURN secret checked at start (real coturn, real runtime)', function () {
  this.timeout(90_000);
  let ca: TestCa;
  let coturn: Coturn;
  let plain: number;
  let tls: number;

  before(async function () {
    if (process.getuid?.() !== 0) skipBecause(this, 'coturn tests run as root, as CI does');
    ca = makeTestCa('127.0.0.1');
    plain = await freePort();
    tls = await freePort();
    const tlsUrl = `turns:127.0.0.1:${tls}?transport=tcp`;
    coturn = await startCoturn(
      coturnConfig(
        { 'listening-ip': '127.0.0.1', 'listening-port': String(plain), 'tls-listening-port': String(tls), 'static-auth-secret': SECRET, realm: 'idv.test', cert: ca.cert, pkey: ca.key, 'allowed-peer-ip': '127.0.0.1', syslog: null },
        ['allow-loopback-peers'],
      ),
      async () => (await probeTurn({ url: tlsUrl, secret: SECRET, ca: ca.caPem, timeoutMs: 500 })).outcome === 'ok',
    );
  });

  after(async () => {
    await coturn?.stop();
  });

  it('accepts our credentials over UDP, TCP and TLS; refuses a wrong secret; names an untrusted certificate and a closed port', async () => {
    for (const url of [`turn:127.0.0.1:${plain}`, `turn:127.0.0.1:${plain}?transport=tcp`, `turns:127.0.0.1:${tls}?transport=tcp`]) {
      assert.equal((await probeTurn({ url, secret: SECRET, ca: ca.caPem })).outcome, 'ok', url);
    }
    const wrong = await probeTurn({ url: `turn:127.0.0.1:${plain}`, secret: 'not-the-secret-0123456789' });
    assert.equal(wrong.outcome, 'rejected');
    assert.equal((await probeTurn({ url: `turns:127.0.0.1:${tls}?transport=tcp`, secret: SECRET })).outcome, 'tls', 'the test CA is not trusted without ca');
    assert.equal((await probeTurn({ url: `turn:127.0.0.1:${await freePort()}?transport=tcp`, secret: SECRET, timeoutMs: 1000 })).outcome, 'unreachable');
  });

  it('the runtime refuses to start with a wrong secret, saying which setting to fix and never the secret', async () => {
    const wrongSecret = 'a-wrong-turn-secret-0123456789';
    const r = await runRuntimeExpectingExit({ IDV_TURN_URLS: `turn:127.0.0.1:${plain}`, IDV_TURN_SECRET: wrongSecret, ...TEST_RTC_ENV });
    assert.equal(r.code, 1);
    assert.match(r.output, /refuses credentials made with IDV_TURN_SECRET/);
    assert.match(r.output, /static-auth-secret/);
    assert.ok(!r.output.includes(wrongSecret), 'the secret is not printed');
  });

  it('the runtime starts when TURN is down (direct calls still work) and warns in plain words', async () => {
    const down = await freePort();
    const rt = await startRuntime({ env: { IDV_TURN_URLS: `turn:127.0.0.1:${down}?transport=tcp`, IDV_TURN_SECRET: SECRET, ...TEST_RTC_ENV } });
    try {
      await rt.log.expectLine(/TURN server not usable now .*calls that cannot go direct will fail until it is/);
      assert.match(rt.output(), /TURN server not usable now .*calls that cannot go direct will fail until it is/);
      assert.ok(!rt.output().includes(SECRET));
    } finally {
      await rt.stop();
    }
  });
});
