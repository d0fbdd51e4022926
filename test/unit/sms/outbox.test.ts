import assert from 'node:assert/strict';
import type { FailedEvent, RetryingEvent, SentEvent } from '../../../lib/outbox/worker';
import { createGatewayClient } from '../../../lib/sms/gateway';
import { validateGatewayFields, type GatewayConfig } from '../../../lib/sms/gateway-config';
import { SmsOutbox, type SmsOutboxOptions, type SmsSender } from '../../../lib/sms/outbox';
import type { Store } from '../../../lib/store/store';
import { forEachEngine, type TestStore } from '../../support/engines';
import { startSmsGateway, type SmsGatewayStandIn } from '../../support/sms-gateway';

const LINK = `https://video.example.nl/v/${'T'.repeat(43)}`;
const TEXT = `Gemeente Voorbeeld: uw video-afspraak is op di 1 dec om 09:30. Link: ${LINK}`;

function sms(to = '+31612345678', appointmentId = 'appt-1') {
  return { kind: 'sms-confirmation', appointmentId, gateway: 'gw-node', to, text: TEXT };
}

forEachEngine('SMS outbox (stand-in gateway on loopback)', (engine) => {
  let t: TestStore;
  let gw: SmsGatewayStandIn;
  let gatewayConfig: GatewayConfig;
  const outboxes: SmsOutbox[] = [];

  function outbox(opts: Partial<SmsOutboxOptions> = {}, store: Store = t.store): SmsOutbox {
    const client = createGatewayClient(gatewayConfig, () => 'key-1');
    const o = new SmsOutbox({
      store: store.smsOutbox,
      gateway: (id) => (id === 'gw-node' ? client : undefined),
      backoff: { initialMs: 20, factor: 2, maxMs: 200, maxAttempts: 3 },
      pollMs: 50,
      ...opts,
    });
    outboxes.push(o);
    return o;
  }

  function events(o: SmsOutbox) {
    const list: { type: string; e: SentEvent | RetryingEvent | FailedEvent }[] = [];
    o.on('sent', (e) => list.push({ type: 'sent', e }));
    o.on('retrying', (e) => list.push({ type: 'retrying', e }));
    o.on('failed', (e) => list.push({ type: 'failed', e }));
    return list;
  }

  function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const tick = () => {
        if (check()) return resolve();
        if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
        setTimeout(tick, 10);
      };
      tick();
    });
  }

  const rows = () => t.rows<{ status: string; attempts: number; last_error: string | null }>('SELECT status, attempts, last_error FROM sms_outbox');

  before(async () => {
    gw = await startSmsGateway();
    const r = validateGatewayFields({ url: gw.url, from: 'Gemeente' });
    assert.ok(r.ok);
    gatewayConfig = r.config;
  });
  beforeEach(async () => {
    t = await engine.open();
    gw.requests.length = 0;
    gw.fallback = { status: 202 };
  });
  afterEach(async () => {
    for (const o of outboxes.splice(0)) await o.stop();
    await t.close();
  });
  after(async () => {
    await gw.close();
  });

  it('sends a queued SMS once and deletes the row with the number and the link', async () => {
    const o = outbox();
    const seen = events(o);
    o.start();
    const { id } = await o.enqueue(sms());
    await until('sent', () => seen.some((x) => x.type === 'sent'));
    assert.equal(gw.requests.length, 1);
    assert.deepEqual(JSON.parse(gw.requests[0].body), { to: '+31612345678', from: 'Gemeente', text: TEXT, reference: id });
    assert.deepEqual(await rows(), []);
    assert.deepEqual(seen, [{ type: 'sent', e: { id, kind: 'sms-confirmation', appointmentId: 'appt-1', attempt: 1 } }]);
  });

  it('retries a busy or broken gateway with growing pauses, then delivers; events carry codes, never the number or text', async () => {
    gw.answer({ status: 503 }, { status: 429 });
    const o = outbox();
    const seen = events(o);
    o.start();
    await o.enqueue(sms());
    await until('sent', () => seen.some((x) => x.type === 'sent'));
    assert.deepEqual(seen.map((x) => x.type), ['retrying', 'retrying', 'sent']);
    assert.deepEqual(seen.slice(0, 2).map((x) => (x.e as RetryingEvent).errorCode), ['EHTTP:503', 'EHTTP:429']);
    const [first, second] = seen.map((x) => x.e as RetryingEvent);
    const pause1 = Date.parse(first.nextAttemptAt);
    const pause2 = Date.parse(second.nextAttemptAt);
    assert.ok(pause2 > pause1, 'the next attempt comes later each time');
    assert.equal(gw.requests.length, 3);
    const text = JSON.stringify(seen);
    for (const secret of ['31612345678', LINK, 'T'.repeat(43), 'Gemeente Voorbeeld', 'refused']) assert.ok(!text.includes(secret), secret);
  });

  it('fails at once on a refused request (4xx) and keeps only the code', async () => {
    gw.answer({ status: 422 });
    const o = outbox();
    const seen = events(o);
    o.start();
    await o.enqueue(sms());
    await until('failed', () => seen.some((x) => x.type === 'failed'));
    assert.deepEqual(seen.map((x) => [x.type, (x.e as FailedEvent).errorCode, (x.e as FailedEvent).permanent]), [['failed', 'EHTTP:422', true]]);
    assert.deepEqual(await rows(), [{ status: 'failed', attempts: 1, last_error: 'EHTTP:422' }]);
    assert.equal(gw.requests.length, 1);
  });

  it('gives up after the attempt budget when the gateway stays down', async () => {
    const down = await startSmsGateway();
    await down.close();
    const r = validateGatewayFields({ url: down.url, from: 'Gemeente' });
    assert.ok(r.ok);
    const client = createGatewayClient(r.config, () => 'k');
    const o = outbox({ gateway: () => client });
    const seen = events(o);
    o.start();
    await o.enqueue(sms());
    await until('failed', () => seen.some((x) => x.type === 'failed'));
    assert.deepEqual(seen.map((x) => [x.type, (x.e as FailedEvent).errorCode]), [['retrying', 'ECONNREFUSED'], ['retrying', 'ECONNREFUSED'], ['failed', 'ECONNREFUSED']]);
    assert.equal((seen[2].e as FailedEvent).permanent, false);
    assert.deepEqual(await rows(), [{ status: 'failed', attempts: 3, last_error: 'ECONNREFUSED' }]);
  });

  it('keeps an SMS whose gateway is not deployed, and the next run on the same database delivers it', async () => {
    const first = outbox({ gateway: () => undefined, backoff: { initialMs: 60_000, maxAttempts: 10 } });
    const seen = events(first);
    first.start();
    await first.enqueue(sms());
    await until('retrying', () => seen.some((x) => x.type === 'retrying'));
    assert.equal((seen[0].e as RetryingEvent).errorCode, 'ENOGATEWAY');
    await first.stop();
    assert.equal((await rows())[0].status, 'pending');
    // A restart with the gateway deployed: an administrator requeues, or the SMS is due; here it is made due now.
    await t.exec(`UPDATE sms_outbox SET next_attempt_at = ?`, new Date().toISOString());
    const second = outbox({}, await t.another());
    const later = events(second);
    second.start();
    await until('sent after restart', () => later.some((x) => x.type === 'sent'));
    assert.equal(gw.requests.length, 1);
    assert.deepEqual(await rows(), []);
  });

  it('sends an SMS a crashed run had claimed again at once after the restart (same instance id)', async () => {
    let release: () => void = () => undefined;
    const hanging: SmsSender = { send: () => new Promise((resolve) => (release = () => resolve({ code: 'ECRASH', permanent: false }))) };
    const crashed = outbox({ gateway: () => hanging, instanceId: 'instance-A', leaseMs: 600_000 });
    crashed.start();
    await crashed.enqueue(sms());
    let claimed = false;
    const poll = setInterval(() => void rows().then((r) => (claimed = r[0]?.status === 'sending')), 10);
    await until('claimed', () => claimed).finally(() => clearInterval(poll));
    // The process dies here: nothing more of the first run is recorded. Its lease is ten minutes.
    const restarted = outbox({ instanceId: 'instance-A' }, await t.another());
    const seen = events(restarted);
    restarted.start();
    await until('sent by the restarted run', () => seen.some((x) => x.type === 'sent'));
    assert.equal((seen[0].e as SentEvent).attempt, 2);
    release();
  });

  it('refuses what must not be queued, without quoting it', () => {
    const o = outbox();
    const refuse = (over: Record<string, unknown>, re: RegExp) =>
      assert.throws(
        () => o.prepare({ ...sms(), ...over } as never),
        (e: Error) => re.test(e.message) && !e.message.includes('0201234567') && !e.message.includes(LINK),
      );
    refuse({ to: '+31201234567' }, /Dutch mobile/);
    refuse({ to: '0612345678' }, /E\.164/);
    refuse({ to: '+32470123456' }, /Dutch mobile/);
    refuse({ text: '   ' }, /text/);
    refuse({ text: 'x'.repeat(153 * 6 + 1) }, /6 SMS parts/);
    refuse({ kind: 'Confirmation!' }, /kind/);
    refuse({ gateway: '../etc' }, /gateway/);
    assert.equal(o.prepare(sms()).to, '+31612345678');
  });
});
