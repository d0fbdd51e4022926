import assert from 'node:assert/strict';
import { HandOff } from '../../../lib/access/handoff';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { GuestService } from '../../../lib/call/guests';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import { forEachEngine, type TestStore } from '../../support/engines';
import { fixedClock, serviceOn, testSchedule } from '../appointments/support';

const NOW = '2026-11-30T08:00:00.000Z';
const FIRST = '2026-12-02T10:00:00+01:00';
const LATER = '2026-12-03T14:00:00+01:00';
const LATER_UTC = '2026-12-03T13:00:00.000Z';
const CONTEXT = { base: 'https://video.example.nl', host: 'video.example.nl', municipality: 'Gemeente Voorbeeld', fromAddress: 'video@gemeente.example' };

/**
 * A third participant hears of a move and of a cancellation (issue 13.4, KCC invitations): the hand-off of the
 * `rescheduled` / `cancelled` event plans the guest's mail (and after a move a new guest link in the new window) with
 * the resident's mails, stored in the event's one transaction; a removed guest hears nothing; retention blanks the
 * address with the resident's.
 */
forEachEngine('guest mails on a move and a cancellation (hand-off)', (engine) => {
  let t: TestStore;
  const clock = fixedClock(NOW);
  const now = () => new Date(NOW);

  beforeEach(async () => {
    t = await engine.open();
    clock.set(NOW);
  });
  afterEach(() => t.close());

  function parts() {
    const { service } = serviceOn(t.store, testSchedule(), clock.now);
    const outbox = createOutbox({ store: t.store.outbox, transport: {} as never, from: { address: CONTEXT.fromAddress }, now });
    const links = createLinkService({ store: t.store.links, now });
    const guests = new GuestService({ store: t.store.guests, appointments: t.store.appointments, links, outbox: { prepare: (m) => outbox.prepare(m), kick: async () => undefined }, record: async () => undefined, now });
    guests.configure(CONTEXT);
    const v = validateSessionLinkConfig({ sendAgent: false });
    assert.ok(v.ok);
    const handOff = new HandOff(
      {
        events: t.store.events,
        appointments: service,
        plan: { links, outbox, agentName: async (u) => u, now },
        cancelPath: () => '/afspraak',
        guests: t.store.guests,
        instanceId: 'inst-A',
        mailsQueued: () => undefined,
        now,
      },
      () => ({ ...CONTEXT, config: v.config }),
    );
    return { service, guests, handOff };
  }

  async function booked() {
    const p = parts();
    const b = await p.service.book(parseBookingInput({ start: FIRST, name: 'Inwoner', email: 'inwoner@example.nl' }, { topics: ['paspoort'] }), { channel: 'phone', bookedBy: 'kcc1', event: { source: 'book-kcc', facts: { lang: 'nl', cancelPath: '/afspraak' } } });
    assert.equal((await p.handOff.byId(b.eventId as string)).status, 'done');
    return { ...p, appointment: b.appointment };
  }

  const mails = () => t.rows<{ kind: string; to_address: string; ics_content: string | null; text_body: string }>(`SELECT kind, to_address, ics_content, text_body FROM mail_outbox WHERE kind LIKE 'guest-%' ORDER BY kind`);

  it('a move: the unsent invitation is replaced by the move notice with a new link in the new window (same UID, SEQUENCE 1)', async () => {
    const { service, guests, handOff, appointment } = await booked();
    await guests.invite(appointment, 'kcc1', 'sign_language_interpreter', 'gebarentolk@example.nl', 'en');
    const before = await t.rows<{ token_hash: string }>(`SELECT token_hash FROM access_links WHERE role = 'guest'`);
    const moved = await service.rescheduleByStaff(appointment.id, 'kcc1', LATER, { source: 'book-kcc' });
    assert.equal((await handOff.byId(moved.eventId)).status, 'done');
    const m = await mails();
    assert.deepEqual(m.map((x) => [x.kind, x.to_address]), [['guest-rescheduled', 'gebarentolk@example.nl']], 'the stale invitation is not sent');
    assert.match(m[0].text_body, /has been moved/, 'in the language of the invitation');
    const ics = (m[0].ics_content ?? '').replace(/\r\n[ \t]/g, '');
    assert.ok(ics.includes(`UID:${appointment.id}@video.example.nl`) && /\r\nSEQUENCE:1\r\n/.test(ics) && /METHOD:REQUEST/.test(ics));
    const link = await t.rows<{ token_hash: string; valid_from: string }>(`SELECT token_hash, valid_from FROM access_links WHERE role = 'guest'`);
    assert.equal(link.length, 1);
    assert.notEqual(link[0].token_hash, before[0].token_hash, 'a new guest link');
    assert.equal(link[0].valid_from, new Date(Date.parse(LATER_UTC) - 30 * 60_000).toISOString(), 'opens 30 minutes before the new time');
    const token = /\/v\/([A-Za-z0-9_-]{43})/.exec(m[0].text_body)?.[1];
    assert.ok(token, 'the mail carries the new link');
    assert.equal((await createLinkService({ store: t.store.links, now: () => new Date(Date.parse(LATER_UTC) - 10 * 60_000) }).resolve(token)).status, 'ok');
  });

  it('a cancellation: the guest gets METHOD:CANCEL, every unsent guest mail is dropped, the guest link dies', async () => {
    const { service, guests, handOff, appointment } = await booked();
    await guests.invite(appointment, 'kcc1', 'interpreter', 'tolk@example.nl', 'nl');
    const cancelled = await service.cancelByStaff(appointment.id, 'kcc1', { source: 'book-kcc' });
    assert.equal((await handOff.byId(cancelled.eventId)).status, 'done');
    const m = await mails();
    assert.deepEqual(m.map((x) => [x.kind, x.to_address]), [['guest-cancellation', 'tolk@example.nl']]);
    assert.match(m[0].text_body, /gaat niet door/);
    assert.match(m[0].ics_content ?? '', /METHOD:CANCEL/);
    assert.equal(await t.count(`SELECT count(*) AS n FROM access_links WHERE appointment_id = ?`, appointment.id), 0);
  });

  it('a removed guest hears nothing of a cancellation; retention blanks a guest address with the resident\'s', async () => {
    const { service, guests, handOff, appointment } = await booked();
    await guests.invite(appointment, 'kcc1', 'family_member', 'familie@example.nl', 'nl');
    await guests.remove(appointment.id, 'agent1');
    const cancelled = await service.cancelByStaff(appointment.id, 'kcc1', { source: 'book-kcc' });
    assert.equal((await handOff.byId(cancelled.eventId)).status, 'done');
    assert.deepEqual(await mails(), []);

    const other = await booked().then(async (p) => {
      const b = await p.service.book(parseBookingInput({ start: LATER, name: 'Ander', email: 'ander@example.nl' }, { topics: ['paspoort'] }), { channel: 'phone', bookedBy: 'kcc1' });
      await p.guests.invite(b.appointment, 'kcc1', 'interpreter', 'tolk2@example.nl', 'nl');
      return b.appointment;
    });
    assert.ok(await t.store.guests.contact(other.id));
    await t.store.retention.eraseEnded('2026-12-31T00:00:00.000Z', NOW, 100);
    assert.equal(await t.store.guests.contact(other.id), undefined);
    assert.equal(await t.count(`SELECT count(*) AS n FROM call_guests WHERE email IS NOT NULL`), 0);
  });
});
