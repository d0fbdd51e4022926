import assert from 'node:assert/strict';
import { HandOff } from '../../../lib/access/handoff';
import type { NotifyContext } from '../../../lib/access/notifier';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import type { AppointmentStore } from '../../../lib/appointments/store';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { createGatewayClient } from '../../../lib/sms/gateway';
import { validateGatewayFields } from '../../../lib/sms/gateway-config';
import { SmsOutbox } from '../../../lib/sms/outbox';
import type { Store } from '../../../lib/store/store';
import { forEachEngine, type TestStore } from '../../support/engines';
import { startSmsGateway, type SmsGatewayStandIn } from '../../support/sms-gateway';

const HOUR = 3600_000;
const config = (() => {
  const r = validateSessionLinkConfig({ openBeforeMinutes: 30, validAfterMinutes: 60, sendResident: true, sendAgent: false, agentEmails: [], reminderHours: '24, 1' });
  assert.ok(r.ok);
  return r.config;
})();

/** A whole hour three days ahead of the real clock (so the test never depends on the time of day), plus `serial` hours. */
function startAhead(serial: number): string {
  return new Date(Math.ceil(Date.now() / HOUR) * HOUR + 72 * HOUR + serial * HOUR).toISOString();
}

interface SmsRow {
  id: string;
  kind: string;
  to_number: string;
  text_body: string;
  next_attempt_at: string;
  not_after: string | null;
}

/** SMS reminders (issue 14): planned with the booking's hand-off, gone with a cancellation or a move, sent once, never late. */
forEachEngine('SMS reminders', (engine) => {
  let t: TestStore;
  let gw: SmsGatewayStandIn;
  let serial = 0;
  let clock = new Date();
  const workers: SmsOutbox[] = [];

  before(async () => {
    gw = await startSmsGateway();
  });
  after(() => gw.close());
  beforeEach(async () => {
    t = await engine.open();
    gw.requests.length = 0;
    clock = new Date();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await t.close();
  });

  function handOff(): HandOff {
    const ctx = (): NotifyContext => ({
      base: 'https://video.example.nl',
      host: 'video.example.nl',
      municipality: 'Gemeente Voorbeeld',
      fromAddress: 'video@example.nl',
      config,
      sms: { gateway: 'gw-node', texts: {} },
    });
    return new HandOff(
      {
        events: t.store.events,
        appointments: t.store.appointments,
        plan: {
          links: createLinkService({ store: t.store.links }),
          outbox: createOutbox({ store: t.store.outbox, transport: {} as never }),
          sms: new SmsOutbox({ store: t.store.smsOutbox, gateway: () => undefined }),
          agentName: async () => undefined,
        },
        cancelPath: () => '/afspraak',
        instanceId: 'inst-A',
        mailsQueued: () => undefined,
      },
      ctx,
    );
  }

  function worker(store: Store, instanceId: string): SmsOutbox {
    const r = validateGatewayFields({ url: gw.url, from: 'Gemeente' });
    assert.ok(r.ok);
    const client = createGatewayClient(r.config, () => 'key-1');
    const w = new SmsOutbox({ store: store.smsOutbox, gateway: () => client, now: () => clock, pollMs: 60_000, instanceId });
    workers.push(w);
    return w;
  }

  async function book(appointments: AppointmentStore, sms: boolean) {
    const start = startAhead(++serial);
    const r = await appointments.create(
      {
        startUtc: start,
        endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
        topic: 'Paspoort',
        channel: 'website',
        bookedBy: null,
        resident: { name: 'Jan de Vries', email: 'jan@example.org', remarks: null, phone: '+31612345678', ...(sms ? { sms: true } : {}) },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: newToken(),
        createdAt: new Date().toISOString(),
      },
      { candidates: ['agent1'], dayStartUtc: new Date(Date.parse(start) - 12 * HOUR).toISOString(), dayEndUtc: new Date(Date.parse(start) + 12 * HOUR).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(Date.now() - HOUR).toISOString() },
      { source: 'book-1', facts: { lang: 'nl', cancelPath: '/afspraak' } },
    );
    assert.ok(r.eventId);
    const done = await handOff().byId(r.eventId);
    assert.equal(done.status, 'done');
    const link = done.status === 'done' ? done.message.links?.resident : undefined;
    return { id: r.appointment.id, start, link: link as string };
  }

  const smsRows = () => t.rows<SmsRow>('SELECT id, kind, to_number, text_body, next_attempt_at, not_after FROM sms_outbox ORDER BY next_attempt_at');

  it('plans one SMS per reminder moment for a resident who opted in: the access link, due at the moment, useless after the start', async () => {
    const a = await book(t.store.appointments, true);
    const rows = await smsRows();
    assert.deepEqual(
      rows.map((r) => [r.kind, r.next_attempt_at.slice(0, 19), r.not_after?.slice(0, 19) ?? null]),
      [
        ['sms-confirmation', rows[0].next_attempt_at.slice(0, 19), null],
        ['sms-reminder', new Date(Date.parse(a.start) - 24 * HOUR).toISOString().slice(0, 19), a.start.slice(0, 19)],
        ['sms-reminder', new Date(Date.parse(a.start) - HOUR).toISOString().slice(0, 19), a.start.slice(0, 19)],
      ],
    );
    for (const r of rows.slice(1)) {
      assert.ok(r.text_body.startsWith('Herinnering Gemeente Voorbeeld: video-afspraak'), r.text_body.slice(0, 40));
      assert.ok(r.text_body.endsWith(a.link), 'the same access link as the confirmation');
      assert.ok(r.text_body.length <= 160, 'one GSM-7 segment');
      assert.equal(r.to_number, '+31612345678');
    }
    await book(t.store.appointments, false);
    assert.equal((await smsRows()).length, 3, 'a phone number without the opt-in gets no SMS reminder');
  });

  it('a cancellation deletes the SMS reminders in its own transaction, before any hand-off', async () => {
    const a = await book(t.store.appointments, true);
    assert.equal((await smsRows()).length, 3);
    const cancelled = await t.store.appointments.cancel(a.id, null, new Date().toISOString(), { facts: { lang: 'nl' } });
    assert.ok(cancelled);
    assert.deepEqual(await smsRows(), [], 'nothing left to send for a cancelled appointment');
    // A worker at the reminder's moment finds nothing.
    clock = new Date(Date.parse(a.start) - 23 * HOUR);
    const w = worker(t.store, 'inst-A');
    await w.kick();
    assert.equal(gw.requests.length, 0);
  });

  it('a move deletes the old reminders in its transaction; its hand-off queues new ones at the new moments with the new link', async () => {
    const a = await book(t.store.appointments, true);
    const newStart = new Date(Date.parse(a.start) + 24 * HOUR).toISOString();
    const moved = await t.store.appointments.reschedule(
      a.id,
      {
        startUtc: newStart,
        endUtc: new Date(Date.parse(newStart) + 30 * 60_000).toISOString(),
        claim: { candidates: ['agent1'], dayStartUtc: new Date(Date.parse(newStart) - 12 * HOUR).toISOString(), dayEndUtc: new Date(Date.parse(newStart) + 12 * HOUR).toISOString(), bufferMinutes: 0 },
        atUtc: new Date().toISOString(),
        newCancelTokenHash: hashToken(newToken()),
      },
      { facts: { lang: 'nl' } },
    );
    assert.ok(moved);
    assert.deepEqual(await smsRows(), [], 'the old time\'s SMS are gone with the move');
    const done = await handOff().byId(moved.eventId);
    assert.equal(done.status, 'done');
    const newLink = done.status === 'done' ? done.message.links?.resident : undefined;
    assert.ok(newLink && newLink !== a.link);
    const rows = await smsRows();
    assert.deepEqual(
      rows.filter((r) => r.kind === 'sms-reminder').map((r) => [r.next_attempt_at.slice(0, 19), r.not_after?.slice(0, 19)]),
      [
        [new Date(Date.parse(newStart) - 24 * HOUR).toISOString().slice(0, 19), newStart.slice(0, 19)],
        [new Date(Date.parse(newStart) - HOUR).toISOString().slice(0, 19), newStart.slice(0, 19)],
      ],
    );
    assert.ok(rows.every((r) => r.text_body.endsWith(newLink) && !r.text_body.includes(a.link)));
  });

  it('sends a due reminder exactly once with two workers racing and a restart after, and drops one whose moment passed unsent', async () => {
    const a = await book(t.store.appointments, true);
    await t.exec(`DELETE FROM sms_outbox WHERE kind = 'sms-confirmation'`);
    // 23 hours before the start: the 24 h reminder is due, the 1 h one not yet.
    clock = new Date(Date.parse(a.start) - 23 * HOUR);
    const [one, two] = [worker(t.store, 'inst-A'), worker(await t.another(), 'inst-B')];
    await Promise.all([one.kick(), two.kick()]);
    await gw.waitFor(1);
    const restarted = worker(await t.another(), 'inst-A');
    await restarted.kick();
    assert.equal(gw.requests.length, 1, 'one SMS for the 24 h reminder');
    assert.ok(gw.requests[0].body.includes('Herinnering'));
    assert.equal((await smsRows()).length, 1, 'the 1 h reminder waits');
    // The runtime was down past the start: the 1 h reminder is dropped, never sent late.
    clock = new Date(Date.parse(a.start) + 60_000);
    const expired: string[] = [];
    restarted.on('expired', (e) => expired.push(e.kind));
    await restarted.kick();
    assert.deepEqual(expired, ['sms-reminder']);
    assert.equal(gw.requests.length, 1);
    assert.deepEqual(await smsRows(), []);
  });
});
