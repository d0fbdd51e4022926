import { strict as assert } from 'node:assert';
import type { ClaimRequest, NewAppointment } from '../../../lib/appointments/store';
import { forEachEngine, type TestStore } from '../../support/engines';
import { newAppointment } from './support';

const NOW = '2026-11-30T08:00:00.000Z';
const DAY: Pick<ClaimRequest, 'dayStartUtc' | 'dayEndUtc'> = { dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-01T23:00:00.000Z' };

const appt = (n: number, startUtc: string, endUtc: string, extra: Partial<NewAppointment> = {}) => newAppointment(n, startUtc, endUtc, extra, NOW);

function claim(candidates: string[], extra: Partial<ClaimRequest> = {}): ClaimRequest {
  return { candidates, ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW, ...extra };
}

forEachEngine('appointment store', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('lists, counts and finds appointments; cancelled ones stop counting and holding', async () => {
    const store = t.store.appointments;
    const a = (await store.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).appointment;
    const b = (await store.create(appt(2, '2026-12-01T08:00:00.000Z', '2026-12-01T08:30:00.000Z'), claim(['x']))).appointment;
    await store.create(appt(3, '2026-12-01T08:00:00.000Z', '2026-12-01T08:30:00.000Z'), claim(['y']));
    assert.deepEqual((await store.listForAgent('x', DAY.dayStartUtc, DAY.dayEndUtc)).map((r) => r.id), [b.id, a.id]);
    assert.equal(await store.countForAgentOnDay('x', DAY.dayStartUtc, DAY.dayEndUtc), 2);
    assert.equal((await store.findByCancelTokenHash('hash1'))?.id, a.id);
    assert.equal(await store.findByCancelTokenHash('nope'), null);
    assert.equal((await store.findByIdempotencyKey('key1', NOW))?.id, a.id);
    assert.equal(await store.findByIdempotencyKey('key1', '2026-11-30T08:00:00.001Z'), null, 'outside the window');
    assert.equal(await store.get('missing'), null);

    // heldInRange: overlap, half-open at both ends.
    const held = async (from: string, to: string) => (await store.heldInRange(from, to)).map((h) => `${h.agent}@${h.startUtc.slice(11, 16)}`).sort();
    assert.deepEqual(await held('2026-12-01T08:15:00.000Z', '2026-12-01T09:00:00.000Z'), ['x@08:00', 'y@08:00']);
    assert.deepEqual(await held('2026-12-01T08:30:00.000Z', '2026-12-01T09:00:00.000Z'), []);
    assert.deepEqual(await held('2026-12-01T09:29:00.000Z', '2026-12-01T23:00:00.000Z'), ['x@09:00']);

    const c = await store.cancel(a.id, 'kcc1', '2026-11-30T09:00:00.000Z');
    assert.equal(c?.appointment.status, 'cancelled');
    const kinds = await t.rows('SELECT kind FROM appointment_events WHERE appointment_id = ? ORDER BY created_at', a.id);
    assert.deepEqual(kinds, [{ kind: 'booked' }, { kind: 'cancelled' }], 'each change wrote its event in its transaction');
    assert.equal(await store.cancel(a.id, 'kcc1', '2026-11-30T09:00:00.000Z'), null, 'second cancel does nothing');
    assert.equal(await store.countForAgentOnDay('x', DAY.dayStartUtc, DAY.dayEndUtc), 1);
    assert.deepEqual(await held('2026-12-01T09:00:00.000Z', '2026-12-01T10:00:00.000Z'), []);
    assert.equal(await store.findByIdempotencyKey('key1', NOW), null, 'a cancelled booking is no duplicate');
    assert.equal((await store.listForAgent('x', DAY.dayStartUtc, DAY.dayEndUtc)).length, 2, 'listing keeps cancelled ones');
  });

  it('refuses malformed times and bad rows without writing anything', async () => {
    const store = t.store.appointments;
    await assert.rejects(store.create(appt(1, '2026-12-01T09:00:00Z', '2026-12-01T09:30:00.000Z'), claim(['x'])), /startUtc/);
    await assert.rejects(store.create(appt(1, '2026-12-01T09:00:00.000+01:00', '2026-12-01T09:30:00.000Z'), claim(['x'])), /startUtc/);
    await assert.rejects(store.heldInRange('yesterday', NOW), /fromUtc/);
    await assert.rejects(
      store.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z', { channel: 'fax' as 'phone' }), claim(['x'])),
      /check constraint/i,
    );
    await assert.rejects(store.create(appt(1, '2026-12-01T09:30:00.000Z', '2026-12-01T09:00:00.000Z'), claim(['x'])), /check constraint/i);
    await store.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']));
    // Same cancel token hash twice: a UNIQUE violation that is not a slot clash must surface, not be retried away.
    await assert.rejects(
      store.create(appt(2, '2026-12-01T10:00:00.000Z', '2026-12-01T10:30:00.000Z', { cancelTokenHash: 'hash1' }), claim(['x', 'y'])),
      /UNIQUE constraint failed: appointments\.cancel_token_hash|unique constraint "appointments_cancel_token_hash_key"/,
    );
    assert.equal(await t.count('SELECT count(*) AS n FROM appointments'), 1);
    assert.equal(await t.count('SELECT count(*) AS n FROM slot_claims'), 1);
  });

  it('tries the next candidate when the first one\'s claim exists, and 409s when none is left', async () => {
    const store = t.store.appointments;
    const s = '2026-12-01T09:00:00.000Z';
    const e = '2026-12-01T09:30:00.000Z';
    assert.equal((await store.create(appt(1, s, e), claim(['x', 'y']))).appointment.agent, 'x');
    assert.equal((await store.create(appt(2, s, e), claim(['x', 'y']))).appointment.agent, 'y', 'x clashed on the claim');
    await assert.rejects(store.create(appt(3, s, e), claim(['x', 'y'])), (err: { status?: number; code?: string }) =>
      err.status === 409 && err.code === 'slot_taken');
    await assert.rejects(store.create(appt(4, s, e), claim([])), (err: { status?: number }) => err.status === 409);
    const dup = await store.create(appt(1, s, e, { cancelTokenHash: 'other' }), claim([]));
    assert.equal(dup.duplicate, true, 'idempotency is checked before the candidates');
  });
});
