import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { defaultListenIp, issueTurnCredentials, orderTurnUrls, turnPassword } from '../../../media-server';

describe('media-server: TURN REST credentials and the default media address', () => {
  const settings = { urls: ['turn:t.example:3478'], secret: 'north-sea-0123456789' };
  const now = Date.parse('2026-12-01T10:00:00Z');

  it('makes username <expiry>:<id> and password base64(HMAC-SHA1(secret, username)), as coturn checks them', () => {
    const c = issueTurnCredentials(settings, 'abc', '2026-12-01T10:30:00Z', now);
    assert.equal(c.username, `${c.expiresAt}:abc`);
    assert.equal(c.credential, createHmac('sha1', settings.secret).update(c.username).digest('base64'));
    assert.equal(turnPassword(settings.secret, c.username), c.credential);
  });

  it('keeps credentials valid for the call: appointment end + 2 h, at least 30 min, at most 12 h', () => {
    const t = (endsAt?: string) => issueTurnCredentials(settings, 'x', endsAt, now).expiresAt - now / 1000;
    assert.equal(t('2026-12-01T10:30:00Z'), 2.5 * 3600);
    assert.equal(t('2026-12-01T06:00:00Z'), 30 * 60, 'a call past its end still gets some time');
    assert.equal(t('2026-12-03T10:00:00Z'), 12 * 3600);
    assert.equal(t(undefined), 12 * 3600);
    assert.equal(issueTurnCredentials({ ...settings, maxTtlSeconds: 20 }, 'x', undefined, now).expiresAt - now / 1000, 20);
  });

  it('refuses ids that could smuggle something into the username', () => {
    assert.throws(() => issueTurnCredentials(settings, 'a:b'), /id/);
    assert.throws(() => issueTurnCredentials(settings, ''), /id/);
  });

  it('orders TURN/UDP, TURN/TCP, TURNS', () => {
    assert.deepEqual(orderTurnUrls(['turns:a:443?transport=tcp', 'turn:a:3478?transport=tcp', 'turn:a:3478']), [
      'turn:a:3478',
      'turn:a:3478?transport=tcp',
      'turns:a:443?transport=tcp',
    ]);
  });

  it('listens on the first non-loopback IPv4 address, and says so when there is none', () => {
    const lo = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8' } as const;
    const ll = { ...lo, address: '169.254.3.4', internal: false, cidr: '169.254.3.4/16' } as const;
    const lan = { ...lo, address: '192.168.1.20', internal: false, cidr: '192.168.1.20/24' } as const;
    assert.deepEqual(defaultListenIp({ lo: [lo], eth0: [ll, lan] }), { ip: '192.168.1.20', why: 'first non-loopback interface (eth0)' });
    const none = defaultListenIp({ lo: [lo] });
    assert.equal(none.ip, '127.0.0.1');
    assert.match(none.why, /Firefox/);
  });
});
