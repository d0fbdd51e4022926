/**
 * Outbox benchmark: how fast a backlog of mails drains (what a restart after a crash, or a mail server coming back,
 * has to send), from a temp SQLite outbox to the test SMTP server on loopback, with a new SMTP connection per mail and
 * with the one pooled connection the product uses (lib/mail/transport.ts). Prints ms per mail and mails/s.
 * Bounded: MAILS mails per variant (default 100).
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/outbox.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import nodemailer from 'nodemailer';
import { createOutbox } from '../../lib/mail/outbox';
import { transportOptions, type MailTransport } from '../../lib/mail/transport';
import { createSqliteStore } from '../../lib/store/sqlite';
import { startTestSmtp } from '../../test/support/smtp';

const MAILS = Number(process.env.BENCH_MAILS ?? 100);

async function drain(pooled: boolean): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-outbox-'));
  const store = createSqliteStore(path.join(dir, 'bench.db'));
  const smtp = await startTestSmtp();
  const options = { ...transportOptions({ host: '127.0.0.1', port: smtp.port, secure: false }) } as Record<string, unknown>;
  if (!pooled) {
    delete options.pool;
    delete options.maxConnections;
    delete options.maxMessages;
  }
  const raw = nodemailer.createTransport(options);
  const transport: MailTransport = { sendMail: (m) => raw.sendMail(m), close: () => raw.close() };
  const outbox = createOutbox({ store: store.outbox, transport, from: { address: 'video@gemeente.example' } });
  try {
    for (let i = 0; i < MAILS; i++) {
      await outbox.enqueue({
        kind: 'resident-confirmation',
        appointmentId: `a${i}`,
        to: { name: `Inwoner ${i}`, address: `inwoner${i}@example.nl` },
        subject: 'Bevestiging van uw video-afspraak',
        text: 'Uw afspraak is gemaakt.\n\n'.repeat(40),
      });
    }
    const began = process.hrtime.bigint();
    outbox.start();
    await smtp.waitFor(MAILS, 300_000);
    return Number(process.hrtime.bigint() - began) / 1e6;
  } finally {
    await outbox.stop();
    transport.close?.();
    await smtp.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`outbox backlog of ${MAILS} mails to a loopback SMTP server (load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores)`);
  for (const pooled of [false, true]) {
    const ms = await drain(pooled);
    console.log(`  ${pooled ? 'one pooled connection   ' : 'a connection per mail   '}  ${(ms / MAILS).toFixed(1)} ms per mail, ${((MAILS * 1000) / ms).toFixed(0)} mails/s`);
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
