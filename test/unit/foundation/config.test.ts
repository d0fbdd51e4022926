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
});
