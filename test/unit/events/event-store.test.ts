import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AppointmentStore } from '../../../lib/appointments/store';
import type { Effects, EventStore, Lease } from '../../../lib/events/types';
import { createOutbox } from '../../../lib/mail/outbox';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { forEachEngine, type TestStore } from '../../support/engines';

const T0 = Date.parse('2026-11-30T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function lease(nowMs: number, instance = 'inst-A', forMs = 60_000): Lease {
  return { token: randomUUID(), instance, nowIso: at(nowMs), untilIso: at(nowMs + forMs) };
}

let serial = 0;
/** A booked appointment with its 'booked' event; returns both ids. */
async function booked(store: AppointmentStore, source: string | null = 'book-1', createdMs = 0): Promise<{ id: string; eventId: string }> {
  serial++;
  const start = new Date(Date.parse('2026-12-01T08:00:00.000Z') + serial * 3600_000).toISOString();
  const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
  const r = await store.create(
    {
      startUtc: start,
      endUtc: end,
      topic: 'Paspoort',
      channel: 'website',
      bookedBy: null,
      resident: { name: `Inwoner ${serial}`, email: `inwoner${serial}@example.nl`, phone: null, remarks: null },
      cancelTokenHash: hashToken(newToken()),
      idempotencyKey: newToken(),
      createdAt: at(createdMs),
    },
    { candidates: ['agent1'], dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-31T23:00:00.000Z', bufferMinutes: 0, idempotentSinceUtc: at(-60_000) },
    { source, facts: { lang: 'nl', cancelPath: '/afspraak' } },
  );
  assert.ok(r.eventId);
  return { id: r.appointment.id, eventId: r.eventId };
}

const outbox = createOutbox({ store: {} as never, transport: {} as never, from: { address: 'video@gemeente.example' } });
const mail = (appointmentId: string, kind = 'resident-confirmation') =>
  outbox.prepare({ kind, appointmentId, to: { address: 'jan@example.org' }, subject: 'Bevestiging', text: 'Uw afspraak' });

/** The effects of a booking's hand-off: two links, a cancel-token hash and two mails. */
function bookingEffects(appointmentId: string): { effects: Effects; cancelToken: string } {
  const cancelToken = newToken();
  const link = (role: 'resident' | 'agent') => ({
    tokenHash: hashToken(newToken()),
    appointmentId,
    role,
    ...(role === 'agent' ? { agentUsername: 'agent1' } : {}),
    validFrom: '2026-12-01T07:30:00.000Z',
    validUntil: '2026-12-31T09:30:00.000Z',
    createdAt: at(0),
  });
  return {
    cancelToken,
    effects: {
      appointmentId,
      requireBooked: true,
      links: [link('resident'), link('agent')],
      cancelTokenHash: hashToken(cancelToken),
      mails: [mail(appointmentId), mail(appointmentId, 'agent-announcement')],
    },
  };
}

forEachEngine('appointment events', (engine) => {
  let t: TestStore;
  let appointments: AppointmentStore;
  let events: EventStore;
  beforeEach(async () => {
    t = await engine.open();
    appointments = t.store.appointments;
    events = t.store.events;
  });
  afterEach(() => t.close());

  const count = (sql: string, ...args: unknown[]) => t.count(sql, ...args);
  const cancelHash = async (id: string) => (await t.rows<{ h: string }>('SELECT cancel_token_hash AS h FROM appointments WHERE id = ?', id))[0].h;

  it('a booking and its event commit together; a refused booking leaves neither', async () => {
    const { id, eventId } = await booked(appointments);
    const ev = await events.get(eventId);
    assert.equal(ev?.appointmentId, id);
    assert.equal(ev?.kind, 'booked');
    assert.equal(ev?.state, 'pending');
    assert.equal(ev?.source, 'book-1');
    assert.deepEqual(ev?.facts, { lang: 'nl', cancelPath: '/afspraak' });
    assert.match(eventId, /^[A-Za-z0-9_-]{22}$/, '128 random bits');
    // The same slot again: 409, and no event without its booking.
    const before = await count('SELECT count(*) AS n FROM appointment_events');
    serial--;
    await assert.rejects(booked(appointments), (e: { status?: number }) => e.status === 409);
    assert.equal(await count('SELECT count(*) AS n FROM appointment_events'), before);
  });

  it('claims: one worker at a time; done and unknown events say so; an expired lease can be taken over', async () => {
    const { eventId } = await booked(appointments);
    const a = lease(0);
    assert.equal((await events.claim(eventId, a)).status, 'claimed');
    const second = await events.claim(eventId, lease(1000, 'inst-B'));
    assert.equal(second.status, 'busy', 'a live lease is respected, also by another instance');
    assert.equal((await events.claim('A'.repeat(22), lease(0))).status, 'unknown');
    // The first worker died: after its lease anyone may take it, and the first one's finish is refused.
    const b = lease(61_000, 'inst-B');
    const taken = await events.claim(eventId, b);
    assert.equal(taken.status, 'claimed');
    assert.equal(taken.status === 'claimed' && taken.event.attempts, 2, 'each claim counts');
    assert.equal(await events.finish(eventId, a.token, { appointmentId: 'x' }, at(62_000)), 'lost');
    assert.equal(await events.finish(eventId, b.token, { appointmentId: (await events.get(eventId))!.appointmentId }, at(62_000)), 'done');
    const done = await events.claim(eventId, lease(63_000));
    assert.equal(done.status, 'done');
  });

  it('finish stores links, the cancel-token hash and the mails and marks the event done, in one transaction', async () => {
    const { id, eventId } = await booked(appointments);
    const before = await cancelHash(id);
    const l = lease(0);
    await events.claim(eventId, l);
    const { effects, cancelToken } = bookingEffects(id);
    assert.equal(await events.finish(eventId, l.token, effects, at(10)), 'done');
    assert.equal(await count('SELECT count(*) AS n FROM access_links WHERE appointment_id = ?', id), 2);
    assert.equal(await count('SELECT count(*) AS n FROM mail_outbox WHERE appointment_id = ?', id), 2);
    assert.equal(await cancelHash(id), hashToken(cancelToken));
    assert.notEqual(await cancelHash(id), before);
    assert.ok(!JSON.stringify(await t.rows('SELECT * FROM appointments, access_links')).includes(cancelToken), 'hashes only');
    const ev = await events.get(eventId);
    assert.equal(ev?.state, 'done');
    assert.equal(ev?.outcome, 'handled');
  });

  for (const [step, table, event, when] of [
    ['the second mail', 'mail_outbox', 'INSERT', "NEW.kind = 'agent-announcement'"],
    ['marking the event done', 'appointment_events', 'UPDATE OF state', undefined],
    ['the cancel-token hash', 'appointments', 'UPDATE OF cancel_token_hash', undefined],
  ] as const) {
    it(`a fault at ${step} leaves nothing half-done: no link, no mail, old hash, event still pending`, async () => {
      const { id, eventId } = await booked(appointments);
      const hash = await cancelHash(id);
      const l = lease(0);
      await events.claim(eventId, l);
      const heal = await t.failWhen(table, event, when);
      await assert.rejects(events.finish(eventId, l.token, bookingEffects(id).effects, at(10)), /injected fault/);
      await heal();
      assert.equal(await count('SELECT count(*) AS n FROM access_links WHERE appointment_id = ?', id), 0);
      assert.equal(await count('SELECT count(*) AS n FROM mail_outbox WHERE appointment_id = ?', id), 0);
      assert.equal(await cancelHash(id), hash);
      assert.equal((await events.get(eventId))?.state, 'pending');
      // And the retry does all of it.
      assert.equal(await events.finish(eventId, l.token, bookingEffects(id).effects, at(20)), 'done');
      assert.equal(await count('SELECT count(*) AS n FROM mail_outbox WHERE appointment_id = ?', id), 2);
    });
  }

  it('a booking cancelled before its hand-off is superseded: no links, no mails, event closed', async () => {
    const { id, eventId } = await booked(appointments);
    const l = lease(0);
    await events.claim(eventId, l);
    const cancelled = await appointments.cancel(id, 'kcc1', at(5));
    assert.ok(cancelled);
    assert.equal(await events.finish(eventId, l.token, bookingEffects(id).effects, at(10)), 'superseded');
    assert.equal(await count('SELECT count(*) AS n FROM access_links WHERE appointment_id = ?', id), 0);
    assert.equal(await count('SELECT count(*) AS n FROM mail_outbox WHERE appointment_id = ?', id), 0);
    assert.equal((await events.get(eventId))?.outcome, 'superseded');
    // The cancellation's own event is there, pending, in the booking's language.
    assert.deepEqual((await events.get(cancelled.eventId))?.facts, { lang: 'nl' });
  });

  it('a cancellation revokes links and sessions, drops unsent confirmations and queues its mails', async () => {
    const { id, eventId } = await booked(appointments);
    let l = lease(0);
    await events.claim(eventId, l);
    await events.finish(eventId, l.token, bookingEffects(id).effects, at(10));
    await t.exec(`INSERT INTO call_sessions (id_hash, appointment_id, role, created_at, expires_at) VALUES ('h', ?, 'resident', ?, ?)`, id, at(0), at(3600_000));
    const c = await appointments.cancel(id, null, at(20));
    l = lease(30);
    await events.claim(c!.eventId, l);
    const effects: Effects = { appointmentId: id, revokeLinks: true, discardMailKinds: ['resident-confirmation', 'agent-announcement'], mails: [mail(id, 'resident-cancellation')] };
    assert.equal(await events.finish(c!.eventId, l.token, effects, at(40)), 'done');
    assert.equal(await count('SELECT count(*) AS n FROM access_links WHERE appointment_id = ?', id), 0);
    assert.equal(await count('SELECT count(*) AS n FROM call_sessions WHERE appointment_id = ?', id), 0);
    assert.deepEqual(await t.rows('SELECT kind FROM mail_outbox WHERE appointment_id = ?', id), [{ kind: 'resident-cancellation' }]);
  });

  it('claimDue: due, past the grace, of the right kinds and sources, oldest first, never twice', async () => {
    const mine = await booked(appointments, 'book-1', 0);
    const young = await booked(appointments, 'book-1', 50_000);
    const other = await booked(appointments, 'book-2', 1000);
    const orphan = await booked(appointments, 'gone-node', 2000);
    const sourceless = await booked(appointments, null, 3000);
    const filter = { kinds: ['booked'], createdBeforeIso: at(30_000), sources: ['book-1'] };
    const ids = async (f: Parameters<EventStore['claimDue']>[0], l = lease(60_000)) => (await events.claimDue(f, l, 10)).map((e) => e.id);
    assert.deepEqual(await ids({ ...filter, kinds: ['reminder'] }), [], 'unknown kinds are left alone');
    assert.deepEqual(await ids(filter), [mine.eventId], 'not the young one (grace), not another node’s');
    assert.deepEqual(await ids(filter), [], 'claimed: not again while leased');
    assert.deepEqual(
      await ids({ ...filter, createdBeforeIso: at(60_000), orphansOf: ['book-1', 'book-2'], includeSourceless: true }),
      [orphan.eventId, sourceless.eventId, young.eventId],
    );
    assert.deepEqual(await ids({ ...filter, sources: ['book-2'] }), [other.eventId]);
  });

  it('a failed attempt waits for its retry time and keeps only an error code', async () => {
    const { eventId } = await booked(appointments);
    const l = lease(0);
    await events.claim(eventId, l);
    assert.equal(await events.release(eventId, l.token, 'SQLITE_IOERR_WRITE', at(20_000), at(1)), true);
    const filter = { kinds: ['booked'], createdBeforeIso: at(100_000), sources: ['book-1'] };
    assert.equal((await events.claimDue(filter, lease(10_000), 10)).length, 0, 'not before the retry time');
    const [again] = await events.claimDue(filter, lease(20_000), 10);
    assert.equal(again.id, eventId);
    assert.equal(again.lastError, 'SQLITE_IOERR_WRITE');
    assert.deepEqual(await events.counts(), { pending: 1, retrying: 1 });
  });

  it("a restart ends its own previous run's leases at once, and leaves another instance's until they expire", async () => {
    const own = await booked(appointments);
    const foreign = await booked(appointments);
    await events.claim(own.eventId, lease(0, 'inst-A', 600_000));
    await events.claim(foreign.eventId, lease(0, 'inst-B', 600_000));
    assert.equal(await events.reclaimInstance('inst-A', at(1000)), 1);
    const filter = { kinds: ['booked'], createdBeforeIso: at(100_000), sources: ['book-1'] };
    assert.deepEqual((await events.claimDue(filter, lease(2000, 'inst-A', 3600_000), 10)).map((e) => e.id), [own.eventId]);
    assert.deepEqual((await events.claimDue(filter, lease(600_001, 'inst-A'), 10)).map((e) => e.id), [foreign.eventId], 'after its lease');
  });

  it('effects without an event (a foreign message) are applied in one transaction too', async () => {
    const { id } = await booked(appointments);
    const heal = await t.failWhen('mail_outbox', 'INSERT', "NEW.kind = 'agent-announcement'");
    await assert.rejects(events.apply(bookingEffects(id).effects), /injected fault/);
    await heal();
    assert.equal(await count('SELECT count(*) AS n FROM access_links'), 0);
    await events.apply(bookingEffects(id).effects);
    assert.equal(await count('SELECT count(*) AS n FROM access_links'), 2);
  });

  it('done events are purged after their retention, pending ones never', async () => {
    const a = await booked(appointments);
    const b = await booked(appointments);
    const l = lease(0);
    await events.claim(a.eventId, l);
    await events.finish(a.eventId, l.token, { appointmentId: a.id }, at(10));
    assert.equal(await events.purgeDone(at(5)), 0);
    assert.equal(await events.purgeDone(at(20)), 1);
    assert.equal(await events.get(a.eventId), undefined);
    assert.equal((await events.get(b.eventId))?.state, 'pending');
  });
});
