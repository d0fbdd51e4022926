import assert from 'node:assert/strict';
import { createMailTransport, describeSmtp, parseSmtpUrl, resolveSmtpSettings, transportOptions } from '../../../lib/mail/transport';
import { startTestSmtp, type TestSmtpServer } from '../../support/smtp';

describe('mail transport', () => {
  it('parses SMTP_URL with encoded credentials and options', () => {
    assert.deepEqual(parseSmtpUrl('smtps://user%40x:p%3Ass%20w@mail.example.nl?rejectUnauthorized=false'), {
      host: 'mail.example.nl',
      port: 465,
      secure: true,
      user: 'user@x',
      pass: 'p:ss w',
      rejectUnauthorized: false,
      requireTls: false,
    });
    const plain = parseSmtpUrl('smtp://relay.example.nl:2525?requireTls=true');
    assert.equal(plain.port, 2525);
    assert.equal(plain.secure, false);
    assert.equal(plain.user, undefined);
    assert.equal(plain.rejectUnauthorized, true);
    assert.equal(plain.requireTls, true);
    assert.equal(parseSmtpUrl('smtp://relay.example.nl').port, 587);
  });

  it('bad SMTP_URL values give clear errors that never echo the password', () => {
    for (const bad of ['http://u:hunter2@x.nl', 'smtp://u:hunter2@', 'not a url hunter2', 'smtp://u:%E0%A4%A@x.nl', 'smtp://u:hunter2@x.nl:99999']) {
      assert.throws(() => parseSmtpUrl(bad), (e: Error) => /SMTP/.test(e.message) && !e.message.includes('hunter2'), bad);
    }
  });

  it('SMTP_URL from the environment wins over the configured settings', () => {
    const configured = { host: 'configured.example.nl', port: 25, secure: false };
    assert.equal(resolveSmtpSettings(configured, { SMTP_URL: 'smtp://env.example.nl:2525' }).host, 'env.example.nl');
    assert.equal(resolveSmtpSettings(configured, { SMTP_URL: '  ' }).host, 'configured.example.nl');
    assert.equal(resolveSmtpSettings(configured, {}).rejectUnauthorized, true, 'certificates are checked by default');
    assert.throws(() => resolveSmtpSettings(undefined, {}), /no SMTP settings/);
    assert.throws(() => resolveSmtpSettings({ host: 'x\r\n', port: 25, secure: false }, {}), /host/);
    assert.throws(() => resolveSmtpSettings({ host: 'x.nl', port: 0, secure: false }, {}), /port/);
  });

  it('uses short timeouts, one pooled connection, no logging', () => {
    const o = transportOptions({ host: 'x.nl', port: 25, secure: false });
    assert.equal(o.connectionTimeout, 10_000);
    assert.equal(o.greetingTimeout, 10_000);
    assert.equal(o.socketTimeout, 20_000);
    assert.equal(o.logger, false);
    assert.equal(o.pool, true);
    assert.equal(o.maxConnections, 1, 'one mail at a time, as the outbox sends them');
    assert.equal(transportOptions({ host: 'x.nl', port: 25, secure: false }, { socketTimeoutMs: 500 }).socketTimeout, 500);
    assert.throws(() => transportOptions({ host: 'x.nl', port: 25, secure: false }, { greetingTimeoutMs: 0 }), /greetingTimeoutMs/);
    assert.equal(describeSmtp({ host: 'x.nl', port: 465, secure: true, user: 'u', pass: 'hunter2' }), 'smtps://x.nl:465');
  });

  describe('against a real SMTP server', () => {
    let smtp: TestSmtpServer;
    before(async () => {
      smtp = await startTestSmtp({ auth: { user: 'u', pass: 'p w' } });
    });
    after(() => smtp.stop());

    it('sends through SMTP_URL', async () => {
      const transport = createMailTransport(undefined, { env: { SMTP_URL: smtp.url } });
      await transport.sendMail({ from: 'noreply@example.nl', to: 'jan@example.org', subject: 'Hallo', text: 'Test' });
      transport.close?.();
      assert.equal(smtp.received.length, 1);
      assert.equal(smtp.received[0].user, 'u');
      assert.equal(smtp.received[0].parsed.subject, 'Hallo');
    });
  });
});
