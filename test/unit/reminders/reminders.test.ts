import assert from 'node:assert/strict';
import { HandOff } from '../../../lib/access/handoff';
import type { NotifyContext } from '../../../lib/access/notifier';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import type { AppointmentStore } from '../../../lib/appointments/store';
import { createLinkService } from '../../../lib/links';
import { createOutbox, type Outbox } from '../../../lib/mail/outbox';
import { createMailTransport } from '../../../lib/mail/transport';
import { parseReminderHours, reminderMoments } from '../../../lib/reminders/schedule';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { createSqliteAppointmentStore } from '../../../lib/store/sqlite/appointments';
import { createSqliteEventStore } from '../../../lib/store/sqlite/events';
import { createSqliteLinkStore } from '../../../lib/store/sqlite/links';
import { createSqliteOutboxStore } from '../../../lib/store/sqlite/outbox';
import { startTestSmtp, type TestSmtpServer } from '../../support/smtp';
import { tempDb, type TempDb } from '../links/temp-db';

const H = 3600_000;

describe('reminders: setting and moments', () => {
  it('reads lead times in hours, longest first; a missing setting is 24 h and 1 h; "off" and empty are none', () => {
    const errors: string[] = [];
    assert.deepEqual(parseReminderHours(undefined, errors), [24 * H, H]);
    assert.deepEqual(parseReminderHours('1, 24', errors), [24 * H, H]);
    assert.deepEqual(parseReminderHours('48 0.5;2', errors), [48 * H, 2 * H, H / 2]);
    assert.deepEqual(parseReminderHours('24,24', errors), [24 * H], 'a duplicate is one reminder');
    assert.deepEqual(parseReminderHours('off', errors), []);
    assert.deepEqual(parseReminderHours('uit', errors), []);
    assert.deepEqual(parseReminderHours('', errors), []);
    assert.deepEqual(errors, []);
  });

  it('refuses what is not a short list of hours with a message naming the field', () => {
    for (const bad of ['-1', '0', '721', 'tomorrow', '1,2,3,4,5,6', '1e3', { h: 1 }, 'x'.repeat(300)]) {
      const errors: string[] = [];
      assert.deepEqual(parseReminderHours(bad, errors), []);
      assert.equal(errors.length, 1, String(bad));
      assert.match(errors[0], /^reminderHours: /);
    }
  });

  it('keeps only the moments still ahead (a booking 30 minutes before the start gets none)', () => {
    const start = '2026-12-01T10:00:00.000Z';
    const now = new Date('2026-11-29T10:00:00.000Z');
    assert.deepEqual(reminderMoments(start, [24 * H, H], now), [
      { leadMs: 24 * H, sendAt: '2026-11-30T10:00:00.000Z' },
      { leadMs: H, sendAt: '2026-12-01T09:00:00.000Z' },
    ]);
    assert.deepEqual(reminderMoments(start, [24 * H, H], new Date('2026-12-01T08:30:00.000Z')), [{ leadMs: H, sendAt: '2026-12-01T09:00:00.000Z' }]);
    assert.deepEqual(reminderMoments(start, [24 * H, H], new Date('2026-12-01T09:30:00.000Z')), []);
  });
});

describe('reminders: planned with the booking, sent once by the outbox (SQLite, real SMTP server)', function () {
  this.timeout(20_000);
  let t: TempDb;
  let smtp: TestSmtpServer;
  let clock: Date;
  let appointments: AppointmentStore;
  const outboxes: Outbox[] = [];

  const START = '2026-12-03T09:00:00.000Z';
  // Long enough that the local test server always connects and greets in time on a busy machine (as in
  // outbox.test.ts): a spurious timeout would turn an expected send into a retry. No test here waits for a timeout.
  const SMTP_TIMEOUTS = { connectionTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 4000 };

  function outbox(instanceId = 'inst-A'): Outbox {
    const o = createOutbox({
      store: createSqliteOutboxStore(t.db),
      transport: createMailTransport({ host: '127.0.0.1', port: smtp.port, secure: false }, { env: {}, timeouts: SMTP_TIMEOUTS }),
      now: () => clock,
      messageIdHost: 'video.example.nl',
      from: { address: 'video@gemeente.example' },
      instanceId,
      pollMs: 50,
    });
    outboxes.push(o);
    return o;
  }

  function handOff(o: Outbox, reminderHours?: string): HandOff {
    const v = validateSessionLinkConfig({ agentEmails: [1, 2, 3].map((i) => ({ username: `agent${i}`, email: `agent${i}@gemeente.example` })), ...(reminderHours !== undefined ? { reminderHours } : {}) });
    assert.ok(v.ok);
    const ctx: NotifyContext = { base: 'https://video.example.nl', host: 'video.example.nl', municipality: 'Gemeente Voorbeeld', fromAddress: 'video@gemeente.example', config: v.config };
    return new HandOff(
      {
        events: createSqliteEventStore(t.db),
        appointments,
        plan: { links: createLinkService({ store: createSqliteLinkStore(t.db), now: () => clock }), outbox: o, agentName: async () => 'Anna', now: () => clock },
        cancelPath: () => '/afspraak',
        instanceId: 'inst-A',
        mailsQueued: () => undefined,
        now: () => clock,
      },
      () => ctx,
    );
  }

  let serial = 0;
  async function book(start = START): Promise<{ id: string; eventId: string }> {
    serial++;
    const r = await appointments.create(
      {
        startUtc: start,
        endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
        topic: 'Paspoort',
        channel: 'website',
        bookedBy: null,
        resident: { name: `Inwoner ${serial}`, email: `inwoner${serial}@example.nl`, phone: null, remarks: null },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: newToken(),
        createdAt: clock.toISOString(),
      },
      { candidates: [`agent${serial}`], dayStartUtc: '2026-12-01T00:00:00.000Z', dayEndUtc: '2026-12-31T00:00:00.000Z', bufferMinutes: 0, idempotentSinceUtc: clock.toISOString() },
      { source: 'book-1', facts: { lang: 'nl', cancelPath: '/afspraak' } },
    );
    assert.ok(r.eventId);
    return { id: r.appointment.id, eventId: r.eventId };
  }

  const scheduled = () =>
    t.db.prepare(`SELECT kind, appointment_id AS a, status, next_attempt_at AS at, not_after AS until FROM mail_outbox WHERE not_after IS NOT NULL ORDER BY next_attempt_at`).all() as {
      kind: string;
      a: string;
      status: string;
      at: string;
      until: string;
    }[];
  const reminders = () => smtp.received.filter((m) => /^Herinnering/.test(m.parsed.subject ?? ''));

  beforeEach(async () => {
    t = tempDb('idv-reminders-');
    smtp = await startTestSmtp();
    clock = new Date('2026-12-01T08:00:00.000Z');
    serial = 0;
    appointments = createSqliteAppointmentStore(t.db);
  });
  afterEach(async () => {
    for (const o of outboxes.splice(0)) await o.stop();
    await smtp.stop();
    t.cleanup();
  });

  it('queues one reminder per moment with the start as its limit, and sends it at its moment with the access, reschedule and cancel links and no invite', async () => {
    const o = outbox();
    const a = await book();
    const r = await handOff(o).byId(a.eventId);
    assert.equal(r.status, 'done');
    assert.deepEqual(
      scheduled().map((s) => [s.kind, s.at, s.until]),
      [
        ['resident-reminder', '2026-12-02T09:00:00.000Z', START],
        ['resident-reminder', '2026-12-03T08:00:00.000Z', START],
      ],
    );
    await o.kick();
    assert.equal(smtp.received.length, 2, 'confirmation and announcement now; no reminder before its moment');
    assert.equal((await o.counts()).scheduled, 2);
    const confirmation = smtp.received.find((m) => m.envelope.to[0] === 'inwoner1@example.nl')!;
    const links = (text: string) => ({
      access: /https:\/\/video\.example\.nl\/v\/[A-Za-z0-9_-]{43}/.exec(text)?.[0],
      cancel: /https:\/\/video\.example\.nl\/afspraak\/annuleren\/[A-Za-z0-9_-]{43}/.exec(text)?.[0],
      reschedule: /https:\/\/video\.example\.nl\/afspraak\/wijzigen\/[A-Za-z0-9_-]{43}/.exec(text)?.[0],
    });
    const sent = links(confirmation.parsed.text ?? '');
    assert.ok(sent.access && sent.cancel && sent.reschedule, 'the confirmation has all three links');

    clock = new Date('2026-12-02T09:00:00.000Z');
    await o.kick();
    assert.equal(reminders().length, 1);
    const reminder = reminders()[0];
    assert.deepEqual(links(reminder.parsed.text ?? ''), sent, 'the reminder carries the same links as the confirmation');
    assert.equal(reminder.parsed.attachments.length, 0, 'no invite: the calendar entry stays as the confirmation made it');
    assert.match(reminder.parsed.subject ?? '', /^Herinnering: uw video-afspraak op donderdag 3 december 2026 om 10:00$/);
    await o.kick();
    assert.equal(reminders().length, 1, 'once');
  });

  it('a restart between selecting a reminder and sending it sends it exactly once', async () => {
    const first = outbox('inst-A');
    const a = await book();
    await handOff(first).byId(a.eventId);
    await first.kick();
    await first.stop();
    assert.equal(smtp.received.length, 2);
    clock = new Date('2026-12-02T09:00:01.000Z');
    // The first run selected the reminder under its lease and died before handing it to SMTP.
    const store = createSqliteOutboxStore(t.db);
    const picked = await store.claimDue(clock.toISOString(), new Date(clock.getTime() + 10 * 60_000).toISOString(), 'dead-run', 10, 'inst-A');
    assert.deepEqual(picked.claimed.map((m) => m.kind), ['resident-reminder']);
    // The same instance starts again: its own dead lease ends at once, the reminder goes out once.
    const second = outbox('inst-A');
    await second.kick();
    await second.kick();
    assert.equal(reminders().length, 1);
    assert.equal(smtp.dataCommands, 3, 'no second transaction for the reminder');
  });

  it('a cancellation deletes the reminders in its own transaction, before any hand-off of the cancellation', async () => {
    const o = outbox();
    const a = await book();
    const b = await book();
    await handOff(o).byId(a.eventId);
    await handOff(o).byId(b.eventId);
    assert.equal(scheduled().length, 4);
    const cancelled = await appointments.cancel(a.id, null, clock.toISOString(), { facts: { lang: 'nl' } });
    assert.ok(cancelled);
    assert.deepEqual([...new Set(scheduled().map((s) => s.a))], [b.id], 'only the appointment that still stands keeps its reminders');
    clock = new Date('2026-12-03T08:00:00.000Z');
    await o.kick();
    assert.deepEqual(
      reminders().map((m) => m.envelope.to[0]),
      ['inwoner2@example.nl', 'inwoner2@example.nl'],
      'both reminders of the standing appointment, none of the cancelled one',
    );
  });

  it('a reminder whose moment passed while nothing could send it (clock jump, runtime down) is dropped, never sent late', async () => {
    const o = outbox();
    const expired: string[] = [];
    o.on('expired', (e) => expired.push(e.kind));
    const a = await book();
    await handOff(o).byId(a.eventId);
    await o.kick();
    clock = new Date('2026-12-03T09:00:00.000Z');
    await o.kick();
    assert.equal(reminders().length, 0);
    assert.deepEqual(expired, ['resident-reminder', 'resident-reminder']);
    assert.equal(scheduled().length, 0, 'their personal data is gone with them');
  });

  it('"off" plans no reminder; a booking inside the 24 h gets only the 1 h reminder', async () => {
    const o = outbox();
    const a = await book();
    await handOff(o, 'off').byId(a.eventId);
    assert.equal(scheduled().length, 0);
    clock = new Date('2026-12-02T12:00:00.000Z');
    const b = await book();
    await handOff(o).byId(b.eventId);
    assert.deepEqual(scheduled().map((s) => s.at), ['2026-12-03T08:00:00.000Z']);
  });
});
