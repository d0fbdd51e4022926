import assert from 'node:assert/strict';
import { composeAppointmentMail } from '../../../lib/mail/compose';
import { createOutbox, type Outbox } from '../../../lib/mail/outbox';
import { createMailTransport } from '../../../lib/mail/transport';
import { createSqliteOutboxStore } from '../../../lib/store/sqlite/outbox';
import { typedLine } from '../../../lib/text/typed-text';
import { startTestSmtp, type TestSmtpServer } from '../../support/smtp';
import { tempDb, type TempDb } from '../links/temp-db';

/**
 * Names people really have, through the real path (compose -> outbox -> nodemailer -> SMTP server on loopback), and
 * what the server parsed (mailparser): To, From and Subject must come back exactly as we sent them.
 */
const CORPUS: [string, string][] = [
  ['CJK Extension B', '𠮷野 家'],
  ['CJK Extension B, long', `${'𠮷'.repeat(30)} 髙橋`],
  ['mathematical letters', '𝔄𝔫𝔫𝔞 𝕭𝖊𝖗𝖌'],
  ['emoji with skin tone and ZWJ', '👩🏽‍💻 Fatima 👨‍👩‍👧‍👦'],
  ['flags and keycaps', 'Team 🇳🇱 #️⃣1'],
  ['combining accents (typed decomposed)', 'Zoe\u0308 Ame\u0301lie Nguye\u0302\u0303n'],
  ['Vietnamese', 'Đặng Thị Ngọc Ánh'],
  ['Arabic', 'محمد بن عبد الله'],
  ['Hebrew', 'דוד בן־גוריון'],
  ['Persian with ZWNJ', 'می‌خواهم رضایی'],
  ['ideographic space', '山田\u3000太郎'],
  ['quotes and comma', '"Jan" de Vries, jr. (KCC)'],
  ['very long', `Maria ${'van der '.repeat(9)}Heijden-Łukasiewicz 𠮷`],
];

describe('mail headers round-trip exactly (real SMTP server, mailparser)', function () {
  this.timeout(30_000);
  let t: TempDb;
  let smtp: TestSmtpServer;
  let outbox: Outbox;

  before(async () => {
    t = tempDb('idv-headers-');
    smtp = await startTestSmtp();
    outbox = createOutbox({
      store: createSqliteOutboxStore(t.db),
      transport: createMailTransport({ host: '127.0.0.1', port: smtp.port, secure: false }, { env: {} }),
      messageIdHost: 'video.example.nl',
    });
  });
  after(async () => {
    await outbox.stop();
    await smtp.stop();
    t.cleanup();
  });

  for (const [label, name] of CORPUS) {
    it(`${label}: ${name.slice(0, 24)}`, async () => {
      // What we send is the name under the typed-text rule; for these names that is the name itself (in NFC).
      const sent = typedLine(name, 120);
      assert.equal(sent, name.normalize('NFC'), 'the rule keeps a real name as typed');
      // A prefix of varying length moves every split point of the encoded words across the name.
      for (const prefix of ['', 'é', 'ab ']) {
        const before = smtp.received.length;
        const senderName = typedLine(`Gemeente ${prefix}${sent}`, 110);
        await outbox.enqueue(
          composeAppointmentMail({
            kind: 'resident-confirmation',
            lang: 'nl',
            appointmentId: 'appt-1',
            host: 'video.example.nl',
            recipient: { name: prefix + sent, email: 'inwoner@example.org' },
            sender: { name: senderName, email: 'noreply@example.nl' },
            data: {
              topic: 'Paspoort',
              municipality: 'Gemeente Voorbeeld',
              start: '2026-12-01T09:30:00.000Z',
              end: '2026-12-01T10:00:00.000Z',
              link: 'https://video.example.nl/v/AAAA',
            },
            template: { subject: 'Afspraak voor {{name}}' },
          }),
        );
        await outbox.kick();
        assert.equal(smtp.received.length, before + 1);
        const got = smtp.received.at(-1)!.parsed;
        const to = Array.isArray(got.to) ? got.to[0] : got.to;
        assert.equal(to?.value[0]?.name, prefix + sent, `To with prefix "${prefix}"`);
        assert.equal(got.from?.value[0]?.name, senderName, `From with prefix "${prefix}"`);
        assert.equal(got.subject, `Afspraak voor ${prefix}${sent}`, `Subject with prefix "${prefix}"`);
      }
    });
  }
});
