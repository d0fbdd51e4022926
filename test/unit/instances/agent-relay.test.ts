import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptRelay, relayToPeers, RELAY_PATH } from '../../../lib/instances/agent-relay';
import { FORWARD_HEADER, InstanceLink } from '../../../lib/runtime/instance-link';

const SECRET = 'shared-secret-of-the-installation-0123456789';

describe('agent push relay between instances (chat text never through the database)', () => {
  const got: { username: string; message: unknown }[] = [];
  const receiver = new InstanceLink(SECRET, 'instance-b');
  let server: http.Server;
  let url: string;

  before(async () => {
    server = http.createServer((req, res) => acceptRelay(req, res, receiver, (username, message) => got.push({ username, message })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (got.length = 0));

  const post = (target: string, body: string, header?: string) =>
    fetch(`${url}${target}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(header ? { [FORWARD_HEADER]: header } : {}) } });

  it('delivers what another instance of the installation signed, to that agent only; skips itself and dead peers', async () => {
    const sender = new InstanceLink(SECRET, 'instance-a');
    const message = { type: 'chat', appointmentId: 'appt-1', message: { seq: 1, from: 'resident', text: 'hallo' } };
    const peers = [{ instanceId: 'instance-a', url: 'http://127.0.0.1:1' }, { instanceId: 'instance-b', url }, { instanceId: 'instance-c', url: 'http://127.0.0.1:1' }];
    assert.equal(await relayToPeers(sender, peers, 'agent1', message), 1);
    assert.deepEqual(got, [{ username: 'agent1', message }]);
  });

  it('refuses a push without the header, with a forged one or one of another installation (404), and a body other than the signed one (400)', async () => {
    const body = JSON.stringify({ username: 'agent1', message: { type: 'chat' } });
    const digest = (await import('node:crypto')).createHash('sha256').update(body).digest('base64url');
    const target = `${RELAY_PATH}?sha256=${digest}`;
    assert.equal((await post(target, body)).status, 404);
    assert.equal((await post(target, body, `instance-a.${Date.now()}.${'A'.repeat(43)}`)).status, 404);
    assert.equal((await post(target, body, new InstanceLink('another-secret-not-this-installation-98765', 'instance-a').sign('POST', target))).status, 404);
    const signed = new InstanceLink(SECRET, 'instance-a').sign('POST', target);
    const other = JSON.stringify({ username: 'agent2', message: { type: 'chat' } });
    assert.equal((await post(target, other, signed)).status, 400, 'the signature names another body');
    assert.equal((await fetch(`${url}${target}`, { headers: { [FORWARD_HEADER]: new InstanceLink(SECRET, 'instance-a').sign('GET', target) } })).status, 404, 'only POST');
    assert.deepEqual(got, []);
    assert.equal((await post(target, body, signed)).status, 204);
    assert.equal(got.length, 1);
  });
});
