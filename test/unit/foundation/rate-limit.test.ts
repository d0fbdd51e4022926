import assert from 'node:assert/strict';
import type { Request } from 'express';
import { clientKey, clientNetwork, createRateLimiter } from '../../../lib/http/rate-limit';

const req = (ip: string) => ({ ip, socket: {} }) as unknown as Request;

describe('rate limits (lib/http/rate-limit.ts on rate-limiter-flexible)', () => {
  it('keys a client by its IPv4 address or its IPv6 /64, IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(clientNetwork('203.0.113.7'), '203.0.113.7');
    assert.equal(clientNetwork('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:0db8:0001:0002::1'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('fe80::1'), 'fe80::/64');
    assert.equal(clientNetwork('not an address'), 'unknown');
    assert.equal(clientNetwork(undefined), 'unknown');
  });

  it('stores an HMAC of the network, never the address; one /64 is one key, the next /64 another', () => {
    const a = clientKey(req('2001:db8:1:2::1'));
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!a.includes('2001') && !a.includes('db8'));
    assert.equal(clientKey(req('2001:db8:1:2:ffff:ffff:ffff:fffe')), a, 'rotating inside the /64 stays one client');
    assert.notEqual(clientKey(req('2001:db8:1:3::1')), a);
    assert.equal(clientKey(req('::ffff:192.0.2.1')), clientKey(req('192.0.2.1')));
  });

  it('counts per key within the window and tells how long to wait', async () => {
    const l = createRateLimiter({ windowMs: 60_000, max: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await l.hit('k')).ok, true);
    const refused = await l.hit('k');
    assert.equal(refused.ok, false);
    assert.ok(refused.retryAfterSec >= 1 && refused.retryAfterSec <= 60);
    assert.equal((await l.peek('k')).ok, false, 'peek does not count but sees the refusal');
    assert.equal((await l.hit('other')).ok, true);
    await l.reset('k');
    assert.equal((await l.hit('k')).ok, true);
  });

  it('bounds memory: beyond maxKeys new networks share one overflow key, and no counted key is evicted', async () => {
    const l = createRateLimiter({ windowMs: 60_000, max: 2, maxKeys: 10 });
    for (let i = 0; i < 2; i++) await l.hit('victim');
    for (let i = 0; i < 9; i++) assert.equal((await l.hit(`flood-${i}`)).ok, true);
    // The table is full: a flood of fresh networks lands in one bucket and is soon refused…
    const overflow = await Promise.all(Array.from({ length: 5 }, (_, i) => l.hit(`more-${i}`)));
    assert.deepEqual(overflow.map((r) => r.ok), [true, true, false, false, false]);
    // …and the client already counted kept its count: flooding did not reset it.
    assert.equal((await l.hit('victim')).ok, false);
  });
});
