/**
 * SMS benchmark: how fast a backlog of confirmation SMS drains from a temp SQLite SMS outbox through the HTTP gateway
 * client to the gateway stand-in on loopback (what a gateway coming back after an outage has to send), and how long
 * composing one text takes (Dutch mobile number parsed, GSM-7 fitting, segment count). Prints ms per SMS and SMS/s.
 * Bounded: BENCH_SMS messages (default 300).
 * Run: npx tsc -p tsconfig.json && node dist/scripts/bench/sms.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createGatewayClient } from '../../lib/sms/gateway';
import { validateGatewayFields } from '../../lib/sms/gateway-config';
import { SmsOutbox } from '../../lib/sms/outbox';
import { parseDutchMobile } from '../../lib/sms/phone';
import { composeSms } from '../../lib/sms/texts';
import { openDatabase } from '../../lib/store/db';
import { createSqliteSmsOutboxStore } from '../../lib/store/sqlite/sms-outbox';
import { startSmsGateway } from '../../test/support/sms-gateway';

const COUNT = Number(process.env.BENCH_SMS ?? 300);
const LINK = `https://video.gemeente-voorbeeld.nl/v/${'A'.repeat(43)}`;

function composeOne(i: number): string {
  const phone = parseDutchMobile(`06-${String(10_000_000 + i).slice(-8)}`);
  if (!phone.ok) throw new Error('bad number in the benchmark');
  return composeSms('sms-confirmation', 'nl', { municipality: 'Gemeente Súdwest-Fryslân', start: '2026-12-01T08:30:00.000Z', link: LINK }).text;
}

async function main(): Promise<void> {
  console.log(`SMS backlog of ${COUNT} to a loopback gateway stand-in (load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores)`);
  const composeStart = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) composeOne(i);
  const composeMs = Number(process.hrtime.bigint() - composeStart) / 1e6;
  console.log(`  compose (parse number, fit GSM-7, count)  ${((composeMs * 1000) / COUNT).toFixed(0)} µs per SMS`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-sms-'));
  const db = openDatabase(path.join(dir, 'bench.db'));
  const gw = await startSmsGateway();
  const checked = validateGatewayFields({ url: gw.url, from: 'Gemeente' });
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  const client = createGatewayClient(checked.config, () => 'bench-key');
  const outbox = new SmsOutbox({ store: createSqliteSmsOutboxStore(db), gateway: () => client });
  try {
    for (let i = 0; i < COUNT; i++) {
      await outbox.enqueue({ kind: 'sms-confirmation', appointmentId: `a${i}`, gateway: 'gw', to: `+316${String(10_000_000 + i).slice(-8)}`, text: composeOne(i) });
    }
    const began = process.hrtime.bigint();
    outbox.start();
    await gw.waitFor(COUNT, 300_000);
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    console.log(`  drain (claim, POST, delete)               ${(ms / COUNT).toFixed(2)} ms per SMS, ${((COUNT * 1000) / ms).toFixed(0)} SMS/s`);
  } finally {
    await outbox.stop();
    await gw.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
