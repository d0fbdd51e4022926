import assert from 'node:assert/strict';
import { startMailCatcher, type MailCatcher } from '../../../lib/mail/catcher';
import { composeAppointmentMail } from '../../../lib/mail/compose';
import { createOutbox } from '../../../lib/mail/outbox';
import { createMailTransport } from '../../../lib/mail/transport';
import { createSqliteOutboxStore } from '../../../lib/store/sqlite/outbox';
import { tempDb } from '../links/temp-db';

describe('demo mail catcher', () => {
  let catcher: MailCatcher;
  afterEach(() => catcher?.close());

  it('catches mails sent through the outbox and shows them parsed', async () => {
    catcher = await startMailCatcher({ port: 0 });
    assert.ok(catcher.port > 0);
    const t = tempDb('idv-catcher-');
    try {
      const outbox = createOutbox({
        store: createSqliteOutboxStore(t.db),
        transport: createMailTransport({ host: '127.0.0.1', port: catcher.port, secure: false }, { env: {} }),
        messageIdHost: 'video.example.nl',
      });
      const mail = composeAppointmentMail({
        kind: 'resident-confirmation',
        lang: 'en',
        appointmentId: 'appt-9',
        host: 'video.example.nl',
        recipient: { name: 'Jan', email: 'jan@example.org' },
        sender: { name: 'Gemeente Voorbeeld', email: 'noreply@example.nl' },
        data: {
          topic: 'Passport',
          municipality: 'Gemeente Voorbeeld',
          start: '2026-10-26T09:00:00Z',
          end: '2026-10-26T09:30:00Z',
          link: 'https://video.example.nl/v/AAAA',
          cancelLink: 'https://video.example.nl/afspraak/annuleren/BBBB',
        },
      });
      const { messageId } = await outbox.enqueue(mail);
      await outbox.kick();
      const list = catcher.list();
      assert.equal(list.length, 1);
      assert.deepEqual(list[0].to, ['jan@example.org']);
      assert.equal(list[0].from, 'noreply@example.nl');
      assert.equal(list[0].subject, 'Confirmation of your video appointment on Monday 26 October 2026 at 10:00');
      const full = catcher.get(list[0].id);
      assert.ok(full);
      assert.equal(full.messageId, messageId);
      assert.match(full.text, /quiet place/);
      assert.match(full.html ?? '', /<a href="https:\/\/video\.example\.nl\/v\/AAAA">/);
      assert.ok(full.attachments.some((a) => a.filename === 'invite.ics'));
      assert.match(full.calendar ?? '', /DTSTART:20261026T090000Z/);
      assert.equal(catcher.get('nope'), undefined);
    } finally {
      t.cleanup();
    }
  });

  it('keeps only the last N mails, newest first', async () => {
    catcher = await startMailCatcher({ port: 0, max: 3 });
    const transport = createMailTransport({ host: '127.0.0.1', port: catcher.port, secure: false }, { env: {} });
    for (let i = 1; i <= 5; i++) {
      await transport.sendMail({ from: 'a@example.nl', to: 'b@example.nl', subject: `m${i}`, text: 'x' });
    }
    assert.deepEqual(catcher.list().map((m) => m.subject), ['m5', 'm4', 'm3']);
    catcher.clear();
    assert.equal(catcher.list().length, 0);
  });

  it('refuses mails over the size limit and non-loopback hosts', async () => {
    catcher = await startMailCatcher({ port: 0, maxBytes: 2000 });
    const transport = createMailTransport({ host: '127.0.0.1', port: catcher.port, secure: false }, { env: {} });
    await assert.rejects(transport.sendMail({ from: 'a@example.nl', to: 'b@example.nl', subject: 'big', text: 'x'.repeat(10_000) }));
    assert.equal(catcher.list().length, 0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await assert.rejects(startMailCatcher({ host: '0.0.0.0' as any }), /loopback/);
  });
});
