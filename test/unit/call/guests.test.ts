import assert from 'node:assert/strict';
import type { Appointment } from '../../../lib/appointments/store';
import type { ProcessingLogEntry } from '../../../lib/attributes/processing-log';
import { GuestService } from '../../../lib/call/guests';
import { isUserError } from '../../../lib/errors';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import type { Store } from '../../../lib/store/store';
import { forEachEngine, type TestStore } from '../../support/engines';

const NOW = new Date('2026-12-01T08:00:00.000Z');
const APPOINTMENT: Appointment = {
  id: 'appt-guest-1',
  startUtc: '2026-12-01T09:30:00.000Z',
  endUtc: '2026-12-01T10:00:00.000Z',
  topic: 'Paspoort',
  agent: 'medewerker1',
  channel: 'website',
  bookedBy: null,
  resident: { name: 'Inwoner', email: 'inwoner@example.nl', phone: null, remarks: null },
  status: 'booked',
  createdAt: '2026-11-30T08:00:00.000Z',
  cancelledAt: null,
  cancelledBy: null,
  sequence: 0,
};
const CONTEXT = { base: 'https://video.example.nl', host: 'video.example.nl', municipality: 'Gemeente Voorbeeld', fromAddress: 'noreply@example.nl' };

/**
 * The third participant's store on both engines (migration 009): the invitation's guest row, link and mail commit
 * together or not at all; a new invitation replaces the earlier guest whole; removal ends link and sessions.
 */
forEachEngine('call guests (invite and remove, one transaction)', (engine) => {
  let t: TestStore;
  let logged: ProcessingLogEntry[];

  function service(store: Store = t.store): GuestService {
    // The outbox is not started here: queuing is what this suite checks (delivery: test/unit/mail/outbox.test.ts).
    const outbox = createOutbox({ store: store.outbox, transport: { sendMail: () => Promise.reject(new Error('not started')) }, now: () => NOW, messageIdHost: 'video.example.nl' });
    const g = new GuestService({
      store: store.guests,
      appointments: store.appointments,
      links: createLinkService({ store: store.links, now: () => NOW }),
      outbox: { prepare: (m) => outbox.prepare(m), kick: async () => undefined },
      record: async (e) => void logged.push(e),
      now: () => NOW,
    });
    g.configure(CONTEXT);
    return g;
  }

  beforeEach(async () => {
    t = await engine.open();
    logged = [];
  });
  afterEach(() => t.close());

  it('stores the kind, the address for later mails, the link hash and the mail in one go; never a name in call_guests', async () => {
    const g = await service().invite(APPOINTMENT, 'Medewerker1', 'interpreter', 'tolk@example.nl', 'nl');
    assert.deepEqual(g, { appointmentId: APPOINTMENT.id, kind: 'interpreter', invitedBy: 'medewerker1', invitedAt: NOW.toISOString(), removedAt: null });
    assert.deepEqual(await service().get(APPOINTMENT.id), g);
    assert.equal(await t.count(`SELECT count(*) AS n FROM access_links WHERE appointment_id = ? AND role = 'guest'`, APPOINTMENT.id), 1);
    const mails = await t.rows<{ kind: string; to_address: string }>('SELECT kind, to_address FROM mail_outbox');
    assert.deepEqual(mails, [{ kind: 'guest-invitation', to_address: 'tolk@example.nl' }]);
    // Migration 017: the address stays with the guest row so a cancellation or a move can tell the guest too.
    assert.deepEqual(await t.store.guests.contact(APPOINTMENT.id), { email: 'tolk@example.nl', lang: 'nl' });
    assert.deepEqual(Object.keys(g).sort(), ['appointmentId', 'invitedAt', 'invitedBy', 'kind', 'removedAt'], 'the guest object never carries the address');
    assert.deepEqual(logged.map((e) => [e.action, e.detail]), [['guest_invited', 'interpreter']]);
  });

  it('writes nothing when the mail cannot be queued', async () => {
    const heal = await t.failWhen('mail_outbox', 'INSERT');
    await assert.rejects(service().invite(APPOINTMENT, 'medewerker1', 'family_member', 'familie@example.nl', 'en'), /injected fault/);
    await heal();
    assert.equal(await t.count('SELECT count(*) AS n FROM call_guests'), 0);
    assert.equal(await t.count('SELECT count(*) AS n FROM access_links'), 0);
    assert.equal(logged.length, 0);
  });

  it('a new invitation replaces the earlier guest: one link, the unsent mail dropped, the guest sessions ended', async () => {
    await service().invite(APPOINTMENT, 'medewerker1', 'interpreter', 'eerste@example.nl', 'nl');
    const first = await t.rows<{ token_hash: string }>(`SELECT token_hash FROM access_links WHERE role = 'guest'`);
    await t.store.links.insertCallSession({ idHash: 'f'.repeat(64), appointmentId: APPOINTMENT.id, role: 'guest', createdAt: NOW.toISOString(), expiresAt: '2026-12-01T11:00:00.000Z' });
    await service().invite(APPOINTMENT, 'medewerker1', 'sign_language_interpreter', 'tweede@example.nl', 'nl');
    const links = await t.rows<{ token_hash: string }>(`SELECT token_hash FROM access_links WHERE role = 'guest'`);
    assert.equal(links.length, 1);
    assert.notEqual(links[0].token_hash, first[0].token_hash);
    assert.deepEqual(await t.rows('SELECT to_address FROM mail_outbox'), [{ to_address: 'tweede@example.nl' }]);
    assert.deepEqual(await t.store.guests.contact(APPOINTMENT.id), { email: 'tweede@example.nl', lang: 'nl' });
    assert.equal(await t.count(`SELECT count(*) AS n FROM call_sessions WHERE role = 'guest'`), 0);
    assert.equal((await service().get(APPOINTMENT.id))?.kind, 'sign_language_interpreter');
  });

  it('removal ends the link, the sessions and an unsent invitation; a second removal finds none', async () => {
    await service().invite(APPOINTMENT, 'medewerker1', 'other', 'derde@example.nl', 'nl');
    await t.store.links.insertCallSession({ idHash: 'e'.repeat(64), appointmentId: APPOINTMENT.id, role: 'guest', createdAt: NOW.toISOString(), expiresAt: '2026-12-01T11:00:00.000Z' });
    assert.equal(await service().remove(APPOINTMENT.id, 'medewerker1'), true);
    assert.equal((await service().get(APPOINTMENT.id))?.removedAt, NOW.toISOString());
    assert.equal(await t.store.guests.contact(APPOINTMENT.id), undefined);
    assert.equal(await t.count(`SELECT count(*) AS n FROM call_guests WHERE email IS NOT NULL`), 0, 'the address is blanked on removal');
    assert.equal(await t.count('SELECT count(*) AS n FROM access_links'), 0);
    assert.equal(await t.count('SELECT count(*) AS n FROM call_sessions'), 0);
    assert.equal(await t.count('SELECT count(*) AS n FROM mail_outbox'), 0);
    assert.equal(await service().remove(APPOINTMENT.id, 'medewerker1'), false);
    assert.equal(await service().remove('no-such-appointment', 'medewerker1'), false);
    assert.deepEqual(logged.map((e) => e.action), ['guest_invited', 'guest_removed']);
  });

  it('refuses a bad kind, a bad address and a cancelled appointment with 4xx, writing nothing', async () => {
    const refused = (status: number) => (e: unknown) => isUserError(e) && e.status === status;
    await assert.rejects(service().invite(APPOINTMENT, 'medewerker1', "interpreter'; DROP TABLE call_guests;--", 'a@example.nl', 'nl'), refused(400));
    await assert.rejects(service().invite(APPOINTMENT, 'medewerker1', 'interpreter', 'not an address\r\nBcc: x@example.nl', 'nl'), refused(400));
    await assert.rejects(service().invite({ ...APPOINTMENT, status: 'cancelled' }, 'medewerker1', 'interpreter', 'a@example.nl', 'nl'), refused(409));
    assert.equal(await t.count('SELECT count(*) AS n FROM call_guests'), 0);
    assert.equal(await t.count('SELECT count(*) AS n FROM mail_outbox'), 0);
  });

  it('two instances inviting at once end with one guest, one link and one mail (the later one whole)', async () => {
    const other = await t.another();
    const addresses = Array.from({ length: 8 }, (_, i) => `gast${i}@example.nl`);
    await Promise.all(addresses.map((a, i) => service(i % 2 ? other : t.store).invite(APPOINTMENT, 'medewerker1', 'interpreter', a, 'nl')));
    assert.equal(await t.count('SELECT count(*) AS n FROM call_guests'), 1);
    assert.equal(await t.count(`SELECT count(*) AS n FROM access_links WHERE role = 'guest'`), 1);
    const mails = await t.rows<{ to_address: string }>('SELECT to_address FROM mail_outbox');
    assert.equal(mails.length, 1);
    assert.ok(addresses.includes(mails[0].to_address));
  });
});
