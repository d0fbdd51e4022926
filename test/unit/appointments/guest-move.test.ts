import { strict as assert } from 'node:assert';
import { HandOff } from '../../../lib/access/handoff';
import type { NotifyContext } from '../../../lib/access/notifier';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import { GuestService } from '../../../lib/call/guests';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { forEachEngine, type TestStore } from '../../support/engines';

const H = 3600_000;
const config = (() => {
  const r = validateSessionLinkConfig({ openBeforeMinutes: 30, validAfterMinutes: 60, sendResident: true, sendAgent: false, agentEmails: [], reminderHours: 'off' });
  assert.ok(r.ok);
  return r.config;
})();
const CTX = { base: 'https://video.example.nl', host: 'video.example.nl', municipality: 'Gemeente Voorbeeld', fromAddress: 'video@example.nl' };

/** A guest (interpreter) invited for an appointment gets a new link when the appointment moves (issue 14). */
forEachEngine('the guest link after a move', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  const handOff = () =>
    new HandOff(
      {
        events: t.store.events,
        appointments: t.store.appointments,
        plan: {
          links: createLinkService({ store: t.store.links }),
          outbox: createOutbox({ store: t.store.outbox, transport: {} as never }),
          agentName: async () => undefined,
          guestAddress: (id) => t.store.guests.address(id),
        },
        cancelPath: () => '/afspraak',
        instanceId: 'inst-A',
        mailsQueued: () => undefined,
      },
      (): NotifyContext => ({ ...CTX, config }),
    );

  let serial = 0;
  async function bookWithGuest(invite = true) {
    // Whole hours two days ahead, apart from each other, so any hour of the day the tests run works.
    const start = new Date(Math.ceil(Date.now() / H) * H + 48 * H + serial++ * 2 * H).toISOString();
    const day = { dayStartUtc: new Date(Date.parse(start) - 12 * H).toISOString(), dayEndUtc: new Date(Date.parse(start) + 36 * H).toISOString() };
    const r = await t.store.appointments.create(
      {
        startUtc: start,
        endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
        topic: 'Paspoort',
        channel: 'website',
        bookedBy: null,
        resident: { name: 'Jan de Vries', email: 'jan@example.org', remarks: null, phone: null },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: newToken(),
        createdAt: new Date().toISOString(),
      },
      { candidates: ['agent1'], ...day, bufferMinutes: 0, idempotentSinceUtc: new Date(Date.now() - H).toISOString() },
      { source: 'book-1', facts: { lang: 'nl', cancelPath: '/afspraak' } },
    );
    assert.equal((await handOff().byId(r.eventId as string)).status, 'done');
    const realOutbox = createOutbox({ store: t.store.outbox, transport: {} as never });
    const guests = new GuestService({
      store: t.store.guests,
      appointments: t.store.appointments,
      links: createLinkService({ store: t.store.links }),
      outbox: { prepare: (m) => realOutbox.prepare(m), kick: async () => undefined },
      record: async () => undefined,
    });
    guests.configure(CTX);
    if (invite) await guests.invite((await t.store.appointments.get(r.appointment.id))!, 'agent1', 'interpreter', 'tolk@example.org', 'en');
    return { id: r.appointment.id, start, day, guests };
  }

  async function move(id: string, start: string, day: { dayStartUtc: string; dayEndUtc: string }) {
    const newStart = new Date(Date.parse(start) + 24 * H).toISOString();
    const moved = await t.store.appointments.reschedule(
      id,
      { startUtc: newStart, endUtc: new Date(Date.parse(newStart) + 30 * 60_000).toISOString(), claim: { candidates: ['agent1'], ...day, bufferMinutes: 0 }, atUtc: new Date().toISOString(), newCancelTokenHash: hashToken(newToken()) },
      { facts: { lang: 'nl' } },
    );
    assert.ok(moved);
    return { newStart, done: await handOff().byId(moved.eventId) };
  }

  const guestLinks = (id: string) => t.rows<{ token_hash: string; valid_from: string }>(`SELECT token_hash, valid_from FROM access_links WHERE appointment_id = ? AND role = 'guest'`, id);
  const guestMails = (id: string) => t.rows<{ to_address: string; text_body: string }>(`SELECT to_address, text_body FROM mail_outbox WHERE appointment_id = ? AND kind = 'guest-invitation'`, id);

  it('sends the invited interpreter a new link for the new time in the move\'s hand-off; the old invitation and link are gone', async () => {
    const a = await bookWithGuest();
    const [before] = await guestLinks(a.id);
    const [oldMail] = await guestMails(a.id);
    assert.ok(before && oldMail);
    const { newStart, done } = await move(a.id, a.start, a.day);
    assert.equal(done.status, 'done');
    const links = await guestLinks(a.id);
    assert.equal(links.length, 1, 'one guest link again');
    assert.notEqual(links[0].token_hash, before.token_hash, 'a new link');
    assert.equal(new Date(links[0].valid_from).toISOString(), new Date(Date.parse(newStart) - 30 * 60_000).toISOString(), 'valid around the new time');
    const mails = await guestMails(a.id);
    assert.equal(mails.length, 1, 'the unsent invitation for the old time was dropped with the move; the new one waits');
    assert.equal(mails[0].to_address, 'tolk@example.org');
    assert.match(mails[0].text_body, /You are invited to take part as interpreter/, 'in the language the agent chose');
    assert.notEqual(mails[0].text_body, oldMail.text_body);
    assert.equal((await t.store.guests.get(a.id))?.removedAt, null, 'still the invited guest');
  });

  it('a removed guest gets nothing after a move, nor does an appointment without a guest; retention forgets the address', async () => {
    const a = await bookWithGuest();
    assert.ok(await a.guests.remove(a.id, 'agent1'));
    assert.equal(await t.store.guests.address(a.id), undefined, 'removal forgets the address');
    await move(a.id, a.start, a.day);
    assert.deepEqual(await guestLinks(a.id), []);
    assert.deepEqual(await guestMails(a.id), []);
    const b = await bookWithGuest(false);
    await move(b.id, b.start, b.day);
    assert.deepEqual(await guestMails(b.id), []);

    const c = await bookWithGuest();
    assert.deepEqual(await t.store.guests.address(c.id), { kind: 'interpreter', email: 'tolk@example.org', lang: 'en' });
    await t.store.retention.eraseEnded(new Date(Date.now() + 400 * H).toISOString(), new Date().toISOString(), 100);
    assert.equal(await t.store.guests.address(c.id), undefined);
    assert.deepEqual(await t.rows(`SELECT email, lang FROM call_guests WHERE appointment_id = ?`, c.id), [{ email: null, lang: null }]);
  });
});
