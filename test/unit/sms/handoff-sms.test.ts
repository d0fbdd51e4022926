import assert from 'node:assert/strict';
import { HandOff } from '../../../lib/access/handoff';
import type { NotifyContext } from '../../../lib/access/notifier';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import type { AppointmentStore } from '../../../lib/appointments/store';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { SmsOutbox } from '../../../lib/sms/outbox';
import { forEachEngine, type TestStore } from '../../support/engines';

const config = (() => {
  // Reminders off: this file is about the confirmation (SMS reminders: test/unit/reminders/sms-reminders.test.ts).
  const r = validateSessionLinkConfig({ openBeforeMinutes: 30, validAfterMinutes: 60, sendResident: true, sendAgent: false, agentEmails: [], reminderHours: 'off' });
  assert.ok(r.ok);
  return r.config;
})();

let serial = 0;
async function book(store: AppointmentStore, resident: { phone: string | null; sms?: boolean }) {
  serial++;
  const start = new Date(Date.parse('2026-12-01T08:00:00.000Z') + serial * 3600_000).toISOString();
  const r = await store.create(
    {
      startUtc: start,
      endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
      topic: 'Paspoort',
      channel: 'website',
      bookedBy: null,
      resident: { name: 'Jan de Vries', email: 'jan@example.org', remarks: null, ...resident },
      cancelTokenHash: hashToken(newToken()),
      idempotencyKey: newToken(),
      createdAt: new Date().toISOString(),
    },
    { candidates: ['agent1'], dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-31T23:00:00.000Z', bufferMinutes: 0, idempotentSinceUtc: '2026-11-01T00:00:00.000Z' },
    { source: 'book-1', facts: { lang: 'nl', cancelPath: '/afspraak' } },
  );
  assert.ok(r.eventId);
  return { id: r.appointment.id, eventId: r.eventId };
}

forEachEngine('the confirmation SMS in the durable hand-off', (engine) => {
  let t: TestStore;
  let appointments: AppointmentStore;
  let withSms: HandOff;
  let withoutSms: HandOff;

  beforeEach(async () => {
    t = await engine.open();
    appointments = t.store.appointments;
    const events = t.store.events;
    const deps = {
      events,
      appointments,
      plan: {
        links: createLinkService({ store: t.store.links }),
        outbox: createOutbox({ store: t.store.outbox, transport: {} as never }),
        sms: new SmsOutbox({ store: t.store.smsOutbox, gateway: () => undefined }),
        agentName: async () => undefined,
      },
      cancelPath: () => '/afspraak',
      instanceId: 'inst-A',
      mailsQueued: () => undefined,
    };
    const ctx = (sms: boolean) => (): NotifyContext => ({
      base: 'https://video.example.nl',
      host: 'video.example.nl',
      municipality: 'Gemeente Voorbeeld',
      fromAddress: 'video@example.nl',
      config,
      ...(sms ? { sms: { gateway: 'gw-node', texts: {} } } : {}),
    });
    withSms = new HandOff(deps, ctx(true));
    withoutSms = new HandOff(deps, ctx(false));
  });
  afterEach(() => t.close());

  const smsRows = () =>
    t.rows<{ kind: string; appointment_id: string; gateway: string; to_number: string; text_body: string; status: string }>('SELECT kind, appointment_id, gateway, to_number, text_body, status FROM sms_outbox');

  it('queues the SMS with the resident link in the same transaction as the links and the mail', async () => {
    const input = parseBookingInput({ start: '2026-12-01T10:00:00+01:00', name: 'Jan', email: 'jan@example.org', sms: 'ja', phone: '06-12345678' }, { topics: [], offerSms: true });
    assert.equal(input.phone, '+31612345678');
    assert.equal(input.sms, true);
    const a = await book(appointments, { phone: input.phone ?? null, sms: input.sms });
    assert.equal((await appointments.get(a.id))?.resident.sms, true, 'the opt-in is stored');
    const r = await withSms.byId(a.eventId);
    assert.equal(r.status, 'done');
    const link = r.status === 'done' ? r.message.links?.resident : undefined;
    assert.ok(link);
    const rows = await smsRows();
    assert.equal(rows.length, 1);
    assert.deepEqual({ ...rows[0], text_body: undefined }, { kind: 'sms-confirmation', appointment_id: a.id, gateway: 'gw-node', to_number: '+31612345678', text_body: undefined, status: 'pending' });
    assert.ok(rows[0].text_body.endsWith(link), 'the SMS carries the same access link as the mail');
    assert.ok(rows[0].text_body.length <= 160);
    assert.equal(await t.count('SELECT COUNT(*) AS n FROM mail_outbox WHERE not_after IS NULL'), 1, 'the confirmation (reminders wait apart)');
  });

  it('sends no SMS without the opt-in, and warns when the resident asked but the node has no gateway', async () => {
    const plain = await book(appointments, { phone: '+31612345678' });
    const r1 = await withSms.byId(plain.eventId);
    assert.equal(r1.status, 'done');
    assert.deepEqual(await smsRows(), [], 'a phone number alone is no opt-in');
    const asked = await book(appointments, { phone: '+31612345678', sms: true });
    const r2 = await withoutSms.byId(asked.eventId);
    assert.ok(r2.status === 'done' && r2.skipped.includes('sms-unconfigured'));
    assert.deepEqual(await smsRows(), []);
  });

  it('drops an SMS still waiting when the appointment is cancelled (its link dies)', async () => {
    const a = await book(appointments, { phone: '+31612345678', sms: true });
    await withSms.byId(a.eventId);
    assert.equal((await smsRows()).length, 1);
    const cancelled = await appointments.cancel(a.id, null, new Date().toISOString(), { source: 'book-1', facts: { lang: 'nl' } });
    assert.ok(cancelled);
    const r = await withSms.byId(cancelled.eventId);
    assert.equal(r.status, 'done');
    assert.deepEqual(await smsRows(), []);
  });

  it('the booking input keeps a number typed without the box only where the form asks for a phone number', () => {
    const base = { start: '2026-12-01T10:00:00+01:00', name: 'Jan', email: 'jan@example.org' };
    assert.equal(parseBookingInput({ ...base, phone: '06 12345678' }, { topics: [], offerSms: true }).phone, undefined, 'phone off: not kept without the box');
    assert.equal(parseBookingInput({ ...base, phone: '020 1234567' }, { topics: [], askPhone: true, offerSms: true }).phone, '020 1234567');
    assert.throws(() => parseBookingInput({ ...base, sms: 'ja', phone: '06 12345678' }, { topics: [] }), (e: { fields?: Record<string, string> }) => e.fields?.sms === 'field.unknown');
    assert.throws(() => parseBookingInput({ ...base, sms: 'ja', phone: '020 1234567' }, { topics: [], askPhone: true, offerSms: true }), (e: { fields?: Record<string, string> }) => e.fields?.phone === 'phone.landline');
    assert.equal(parseBookingInput({ ...base, sms: 'nee', phone: '' }, { topics: [], offerSms: true }).sms, undefined);
  });
});
