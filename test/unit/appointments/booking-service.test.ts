import { strict as assert } from 'node:assert';
import { parseBookingInput, type BookingInput } from '../../../lib/appointments/booking-input';
import { parseSlotsQuery } from '../../../lib/appointments/booking-service';
import { hashToken } from '../../../lib/security/tokens';
import { forEachEngine, type TestStore } from '../../support/engines';
import { fixedClock, issueCancelToken, serviceOn, testSchedule, userErrorOf } from './support';

// Monday 30 November 2026, 09:00 Amsterdam.
const NOW = '2026-11-30T08:00:00.000Z';

function input(start: string, email = 'jan@example.nl', extra: Record<string, string> = {}): BookingInput {
  return parseBookingInput({ start, name: 'Jan de Vries', email, ...extra }, { topics: ['paspoort', 'rijbewijs'] });
}

forEachEngine('appointments/booking-service', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('books a slot with its event, stores only a cancel token hash, and shows the slot as taken', async () => {
    const clock = fixedClock(NOW);
    const { service } = serviceOn(t.store, testSchedule(), clock.now);
    const r = await service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website', event: { source: 'node-1', facts: { lang: 'en', cancelPath: '/afspraak' } } });
    assert.equal(r.duplicate, false);
    assert.match(r.eventId ?? '', /^[A-Za-z0-9_-]{22}$/);
    const [ev] = await t.rows('SELECT * FROM appointment_events');
    assert.equal(ev.id, r.eventId);
    assert.equal(ev.appointment_id, r.appointment.id);
    assert.equal(ev.kind, 'booked');
    assert.equal(ev.source, 'node-1');
    assert.equal(ev.state, 'pending');
    assert.deepEqual(JSON.parse(ev.facts as string), { lang: 'en', cancelPath: '/afspraak' });
    const [{ cancel_token_hash: before }] = await t.rows<{ cancel_token_hash: string }>('SELECT cancel_token_hash FROM appointments');
    assert.match(before, /^[0-9a-f]{64}$/, 'a hash of a token nobody holds');
    const token = await issueCancelToken(t.store, r.appointment.id);
    assert.equal(r.appointment.startUtc, '2026-12-01T09:00:00.000Z');
    assert.equal(r.appointment.endUtc, '2026-12-01T09:30:00.000Z');
    assert.equal(r.appointment.agent, 'agent1');
    assert.equal(r.appointment.status, 'booked');
    assert.equal(r.appointment.bookedBy, null);
    assert.equal(r.appointment.topic, 'paspoort');
    const [row] = await t.rows('SELECT * FROM appointments');
    assert.equal(row.cancel_token_hash, hashToken(token));
    assert.ok(!JSON.stringify(row).includes(token), 'token itself not stored');
    const slots = await service.slots('2026-12-01', '2026-12-01');
    const slot = slots.find((s) => s.start === '2026-12-01T10:00:00.000+01:00');
    assert.equal(slot?.available, 1);
    assert.equal(slot?.end, '2026-12-01T10:30:00.000+01:00');
    assert.deepEqual(Object.keys(slots[0]).sort(), ['available', 'end', 'start'], 'no agent names in public slots');
  });

  it('plans for the free agent with the fewest appointments that day', async () => {
    const { service } = serviceOn(t.store, testSchedule(), fixedClock(NOW).now);
    const a = await service.book(input('2026-12-01T10:00:00+01:00', 'a@example.nl'), { channel: 'website' });
    const b = await service.book(input('2026-12-01T11:00:00+01:00', 'b@example.nl'), { channel: 'website' });
    const c = await service.book(input('2026-12-01T11:00:00+01:00', 'c@example.nl'), { channel: 'website' });
    const d = await service.book(input('2026-12-01T12:00:00+01:00', 'd@example.nl'), { channel: 'phone', bookedBy: 'kcc1' });
    assert.deepEqual([a, b, c].map((x) => x.appointment.agent), ['agent1', 'agent2', 'agent1']);
    assert.equal(d.appointment.agent, 'agent2', 'agent1 has 2 that day, agent2 has 1');
    assert.equal(d.appointment.channel, 'phone');
    assert.equal(d.appointment.bookedBy, 'kcc1');
    await userErrorOf(() => service.book(input('2026-12-01T11:00:00+01:00', 'e@example.nl'), { channel: 'website' })).then((e) => {
      assert.equal(e.status, 409);
      assert.equal(e.code, 'slot_taken');
    });
    const list = await service.listForAgent('agent1', '2026-12-01T00:00:00+01:00', '2026-12-02T00:00:00+01:00');
    assert.deepEqual(list.map((x) => x.resident.email), ['a@example.nl', 'c@example.nl']);
    assert.equal(await service.get(a.appointment.id).then((x) => x?.resident.name), 'Jan de Vries');
  });

  it('refuses off-grid, past, too soon, beyond the horizon and closed days with clear errors', async () => {
    const { service } = serviceOn(t.store, testSchedule({ minNoticeMinutes: 120, horizonDays: 30 }), fixedClock(NOW).now);
    const cases: [string, string][] = [
      ['2026-12-01T09:07:00+01:00', 'slot_off_grid'],
      ['2026-12-01T17:00:00+01:00', 'slot_off_grid'], // would end after closing time
      ['2026-12-01T08:30:00+01:00', 'slot_off_grid'], // before opening
      ['2026-12-05T10:00:00+01:00', 'slot_off_grid'], // Saturday
      ['2026-11-30T08:30:00+01:00', 'slot_past'],
      ['2026-11-30T10:30:00+01:00', 'slot_too_soon'],
      ['2027-01-05T10:00:00+01:00', 'slot_beyond_horizon'],
      ['2026-12-25T10:00:00+01:00', 'slot_closed'],
    ];
    for (const [start, code] of cases) {
      const e = await userErrorOf(() => service.book(input(start), { channel: 'website' }));
      assert.equal(e.code, code, start);
      assert.equal(e.status, 400);
      assert.equal(e.fields?.start, code);
    }
    assert.equal(await t.count('SELECT count(*) AS n FROM appointments'), 0, 'nothing written');
  });

  it('returns the same booking for a double submit (e-mail case-insensitive), without a second token', async () => {
    const { service } = serviceOn(t.store, testSchedule(), fixedClock(NOW).now);
    const first = await service.book(input('2026-12-01T10:00:00+01:00', 'jan@example.nl'), { channel: 'website' });
    const again = await service.book(input('2026-12-01T10:00:00+01:00', 'JAN@Example.nl'), { channel: 'website' });
    assert.equal(again.appointment.id, first.appointment.id);
    assert.equal(again.duplicate, true);
    assert.equal(again.eventId, null, 'no second event');
    assert.equal(await t.count('SELECT count(*) AS n FROM appointment_events'), 1);
    const other = await service.book(input('2026-12-01T10:00:00+01:00', 'jan@example.nl', { topic: 'rijbewijs' }), { channel: 'website' });
    assert.notEqual(other.appointment.id, first.appointment.id, 'another topic is another appointment');
  });

  it('recognises the double submit of the last free place instead of answering 409, also in parallel', async () => {
    const { service } = serviceOn(t.store, testSchedule({ agents: [{ username: 'solo', displayName: 'Solo' }] }), fixedClock(NOW).now);
    const results = await Promise.all([1, 2, 3].map(() => service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website' })));
    assert.equal(new Set(results.map((r) => r.appointment.id)).size, 1);
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal(results.filter((r) => r.eventId !== null).length, 1, 'one event for one booking');
  });

  it('books anew after the idempotency window', async () => {
    const clock = fixedClock(NOW);
    const { service } = serviceOn(t.store, testSchedule(), clock.now);
    const first = await service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website' });
    clock.set('2026-11-30T08:11:00.000Z');
    const later = await service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website' });
    assert.notEqual(later.appointment.id, first.appointment.id);
    assert.equal(later.duplicate, false);
  });

  it('cancels by token: frees the slot, then the token is dead; unknown and late tokens get the same 404', async () => {
    const clock = fixedClock(NOW);
    const { service } = serviceOn(t.store, testSchedule({ agents: [{ username: 'solo', displayName: 'Solo' }] }), clock.now);
    const start = '2026-12-01T10:00:00+01:00';
    const booked = await service.book(input(start, 'a@example.nl'), { channel: 'website', event: { facts: { lang: 'en' } } });
    const token = await issueCancelToken(t.store, booked.appointment.id);
    assert.equal((await service.slots('2026-12-01', '2026-12-01')).some((s) => s.start.startsWith('2026-12-01T10:00')), false);
    assert.equal((await service.appointmentForCancelToken(token)).id, booked.appointment.id);
    const { appointment: cancelled, eventId, lang } = await service.cancelByToken(token, { source: 'node-1' });
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.cancelledBy, null);
    assert.equal(cancelled.cancelledAt, NOW);
    assert.equal(lang, 'en', 'the booking language, as no other was given');
    const [ev] = await t.rows<Record<string, string>>('SELECT kind, source, facts, state FROM appointment_events WHERE id = ?', eventId);
    assert.deepEqual(ev, { kind: 'cancelled', source: 'node-1', facts: '{"lang":"en"}', state: 'pending' });
    assert.equal(await t.count('SELECT count(*) AS n FROM slot_claims'), 0, 'claim released');
    assert.equal((await service.slots('2026-12-01', '2026-12-01')).some((s) => s.start.startsWith('2026-12-01T10:00')), true);

    const messages = new Set<string>();
    for (const bad of [token, 'x'.repeat(43), 'short', undefined, 42, `${token.slice(0, 42)}!`]) {
      const e = await userErrorOf(() => service.cancelByToken(bad));
      assert.equal(e.status, 404);
      assert.equal(e.code, 'link_invalid');
      messages.add(e.message);
    }
    assert.equal(messages.size, 1, 'one and the same error');

    const rebooked = await service.book(input(start, 'b@example.nl'), { channel: 'website' });
    assert.equal(rebooked.appointment.agent, 'solo');
    clock.set('2026-12-01T09:00:00.000Z'); // the appointment's start
    const late = await userErrorOf(async () => service.cancelByToken(await issueCancelToken(t.store, rebooked.appointment.id)));
    assert.equal(late.code, 'link_invalid');
    assert.equal((await service.get(rebooked.appointment.id))?.status, 'booked');
  });

  it('lets staff cancel, records who, and refuses a second cancel or unknown ids', async () => {
    const clock = fixedClock(NOW);
    const { service } = serviceOn(t.store, testSchedule(), clock.now);
    const booked = await service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website' });
    const token = await issueCancelToken(t.store, booked.appointment.id);
    const { appointment: c } = await service.cancelByStaff(booked.appointment.id, 'kcc1');
    assert.equal(c.cancelledBy, 'kcc1');
    assert.equal((await userErrorOf(() => service.cancelByStaff(booked.appointment.id, 'kcc1'))).code, 'already_cancelled');
    assert.equal((await userErrorOf(() => service.cancelByStaff('A'.repeat(22), 'kcc1'))).status, 404);
    assert.equal((await userErrorOf(() => service.cancelByStaff("' OR 1=1 --", 'kcc1'))).status, 404);
    assert.equal(await service.get("' OR 1=1 --"), null);
    assert.equal((await userErrorOf(() => service.cancelByToken(token))).code, 'link_invalid');
    const other = await service.book(input('2026-12-01T11:00:00+01:00'), { channel: 'website' });
    clock.set('2026-12-01T10:30:00.000Z');
    assert.equal((await userErrorOf(() => service.cancelByStaff(other.appointment.id, 'kcc1'))).code, 'appointment_over');
  });

  it('keeps the buffer between an agent\'s appointments, even against a stale view of the slots', async () => {
    const { service, store } = serviceOn(t.store, testSchedule({ bufferMinutes: 10, agents: [{ username: 'solo', displayName: 'S' }] }),
      fixedClock(NOW).now);
    await service.book(input('2026-12-01T10:00:00+01:00', 'a@example.nl'), { channel: 'website' });
    assert.equal((await userErrorOf(() => service.book(input('2026-12-01T10:30:00+01:00', 'b@example.nl'), { channel: 'website' }))).code,
      'slot_taken');
    // The store itself re-checks: a caller that believes solo is free still cannot squeeze the appointment in.
    const e = await userErrorOf(() =>
      store.create(
        {
          startUtc: '2026-12-01T09:30:00.000Z',
          endUtc: '2026-12-01T10:00:00.000Z',
          topic: 't',
          channel: 'website',
          bookedBy: null,
          resident: { name: 'B', email: 'b@example.nl', phone: null, remarks: null },
          cancelTokenHash: hashToken('x'.repeat(43)),
          idempotencyKey: 'k',
          createdAt: NOW,
        },
        { candidates: ['solo'], dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-01T23:00:00.000Z', bufferMinutes: 10,
          idempotentSinceUtc: NOW },
      ),
    );
    assert.equal(e.code, 'slot_taken');
    assert.equal(await t.count('SELECT count(*) AS n FROM appointments'), 1, 'failed attempt rolled back');
    const ok = await service.book(input('2026-12-01T11:00:00+01:00', 'c@example.nl'), { channel: 'website' });
    assert.equal(ok.appointment.agent, 'solo');
  });

  it('survives a restart: a booking made on one connection is there on the next', async () => {
    const { service } = serviceOn(t.store, testSchedule(), fixedClock(NOW).now);
    const booked = await service.book(input('2026-12-01T10:00:00+01:00'), { channel: 'website' });
    await t.store.close();
    const again = serviceOn(await t.another(), testSchedule(), fixedClock(NOW).now);
    assert.equal((await again.service.get(booked.appointment.id))?.resident.email, 'jan@example.nl');
  });

  it('validates the slots query', () => {
    assert.deepEqual(parseSlotsQuery({ from: '2026-12-01', to: '2026-12-31' }), { from: '2026-12-01', to: '2026-12-31' });
    assert.deepEqual(parseSlotsQuery({ from: '2026-12-01', to: '2027-01-31' }), { from: '2026-12-01', to: '2027-01-31' });
    const bad: [unknown, string, string][] = [
      [{ from: '2026-12-01', to: '2027-02-01' }, 'to', 'query.too_long'],
      [{ from: '2026-12-02', to: '2026-12-01' }, 'to', 'query.to_before_from'],
      [{ from: '2026-02-30', to: '2026-03-01' }, 'from', 'date.invalid'],
      [{ from: '2026-12-01' }, 'to', 'date.invalid'],
      [{ from: ['2026-12-01'], to: '2026-12-02' }, 'from', 'date.invalid'],
      [{ from: '2026-12-1', to: '2026-12-02' }, 'from', 'date.invalid'],
      [null, 'from', 'date.invalid'],
    ];
    for (const [q, field, code] of bad) {
      try {
        parseSlotsQuery(q);
        assert.fail(`accepted ${JSON.stringify(q)}`);
      } catch (e) {
        const err = e as { status: number; code: string; fields: Record<string, string> };
        assert.equal(err.status, 400);
        assert.equal(err.code, 'invalid_query');
        assert.equal(err.fields[field], code, JSON.stringify(q));
      }
    }
  });
});
