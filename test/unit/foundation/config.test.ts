import assert from 'node:assert/strict';
import { loadConfig, usesHttps } from '../../../lib/config';

describe('runtime configuration', () => {
  it('runs in demo mode on loopback:1880 with nothing set', () => {
    const c = loadConfig({}, '/srv/idv');
    assert.equal(c.mode, 'demo');
    assert.equal(c.port, 1880);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, '/srv/idv/data');
    assert.equal(c.publicUrl, 'http://127.0.0.1:1880');
    assert.equal(usesHttps(c), false);
  });

  it('production refuses to start without https URL, SMTP and credential secret, naming all three', () => {
    assert.throws(
      () => loadConfig({ IDV_MODE: 'production' }),
      (e: Error) => /IDV_PUBLIC_URL/.test(e.message) && /SMTP_URL/.test(e.message) && /IDV_CREDENTIAL_SECRET/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ IDV_MODE: 'production', IDV_PUBLIC_URL: 'http://video.example.nl', SMTP_URL: 'smtp://x', IDV_CREDENTIAL_SECRET: 'x'.repeat(40) }),
      /https/,
    );
  });

  it('production starts with its settings and never takes a demo password', () => {
    const c = loadConfig({
      IDV_MODE: 'production',
      IDV_PUBLIC_URL: 'https://video.example.nl/',
      SMTP_URL: 'smtps://u:p@mail.example.nl:465',
      IDV_CREDENTIAL_SECRET: 'a'.repeat(40),
      IDV_DEMO_PASSWORD: 'should-be-ignored',
    });
    assert.equal(c.publicUrl, 'https://video.example.nl');
    assert.equal(c.demoPassword, undefined);
    assert.equal(usesHttps(c), true);
  });

  it('refuses nonsense values with a message naming the variable', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
    assert.throws(() => loadConfig({ IDV_MODE: 'prod' }), /IDV_MODE/);
    assert.throws(() => loadConfig({ IDV_ICE_SERVERS: '{"urls":1}' }), /IDV_ICE_SERVERS/);
    assert.throws(() => loadConfig({ IDV_RTC_MIN_PORT: '50000', IDV_RTC_MAX_PORT: '40000' }), /RTC/);
    assert.throws(() => loadConfig({ IDV_HSTS_MAX_AGE: 'forever' }), /IDV_HSTS_MAX_AGE/);
    assert.throws(() => loadConfig({ IDV_HSTS_MAX_AGE: '999999999' }), /IDV_HSTS_MAX_AGE/);
  });

  it('HSTS max-age: one year by default, configurable, 0 turns it off', () => {
    assert.equal(loadConfig({}).hstsMaxAge, 31_536_000);
    assert.equal(loadConfig({ IDV_HSTS_MAX_AGE: '300' }).hstsMaxAge, 300);
    assert.equal(loadConfig({ IDV_HSTS_MAX_AGE: '0' }).hstsMaxAge, 0);
  });

  it('takes TURN URLs and secret, orders the URLs, and names what is wrong without echoing the secret', () => {
    const c = loadConfig({ IDV_TURN_URLS: 'turns:turn.example.nl:443?transport=tcp, turn:turn.example.nl:3478', IDV_TURN_SECRET: 's'.repeat(32) });
    assert.deepEqual(c.media.turn?.urls, ['turn:turn.example.nl:3478', 'turns:turn.example.nl:443?transport=tcp']);
    assert.throws(() => loadConfig({ IDV_TURN_URLS: 'turn:turn.example.nl' }), /IDV_TURN_SECRET/);
    assert.throws(() => loadConfig({ IDV_TURN_SECRET: 's'.repeat(32) }), /IDV_TURN_URLS/);
    assert.throws(() => loadConfig({ IDV_TURN_URLS: 'http://turn.example.nl', IDV_TURN_SECRET: 's'.repeat(32) }), /not a TURN URL/);
    try {
      loadConfig({ IDV_TURN_URLS: 'turn:turn.example.nl', IDV_TURN_SECRET: 'short-secret' });
      assert.fail('a short secret is refused');
    } catch (e) {
      assert.match((e as Error).message, /at least 16 characters/);
      assert.doesNotMatch((e as Error).message, /short-secret/);
    }
  });

  it('keeps media ports below the ephemeral range by default and lets the media address follow the machine', () => {
    const c = loadConfig({});
    assert.equal(c.media.rtcMinPort, 20000);
    assert.equal(c.media.rtcMaxPort, 29999);
    assert.ok(c.media.rtcMaxPort < 32768, 'Linux ephemeral ports start at 32768');
    assert.equal(c.media.listenIp, undefined, 'chosen at start (media-server/listen-address.ts)');
  });
});
