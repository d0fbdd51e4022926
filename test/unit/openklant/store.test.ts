import assert from 'node:assert/strict';
import type { AppointmentStore } from '../../../lib/appointments/store';
import type { ContactRegistrationStore, RegistrationLease } from '../../../lib/openklant/store';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { forEachEngine, type TestStore } from '../../support/engines';

const T0 = Date.parse('2026-12-01T09:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const lease = (nowMs: number, instance = 'inst-A'): RegistrationLease => ({ token: newToken(16), instance, nowIso: at(nowMs), untilIso: at(nowMs + 60_000) });

async function appointment(store: AppointmentStore, hoursAhead = 72): Promise<string> {
  const start = new Date(Date.now() + hoursAhead * 3600_000).toISOString();
  const r = await store.create(
    {
      startUtc: start,
      endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
      topic: 'Paspoort',
      channel: 'website',
      bookedBy: null,
      resident: { name: 'Jan de Vries', email: 'jan@example.nl', phone: null, remarks: null },
      cancelTokenHash: hashToken(newToken()),
      idempotencyKey: newToken(),
      createdAt: new Date().toISOString(),
    },
    { candidates: ['agent1'], dayStartUtc: new Date(Date.now() - 3600_000).toISOString(), dayEndUtc: new Date(Date.now() + 400 * 24 * 3600_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(Date.now() - 60_000).toISOString() },
  );
  return r.appointment.id;
}

forEachEngine('openklant/contact registrations (the port of lib/openklant/store.ts)', (engine) => {
  let t: TestStore;
  let regs: ContactRegistrationStore;
  beforeEach(async () => {
    t = await engine.open();
    const s = t.store.contactRegistrations;
    assert.ok(s, 'the store offers contact registrations');
    regs = s;
  });
  afterEach(() => t.close());

  it('one per appointment, leased claims, progress under the lease, back-off, done; ids and codes only', async () => {
    const id = await appointment(t.store.appointments);
    const base = { appointmentId: id, source: 'okl-1', contactMade: true, identified: true, partijUuid: '5f0f8a54-7a43-4e0c-9a39-1b0f1e3c2a11', dataSubjectId: 'd'.repeat(64), maxAttempts: 3, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), createdAt: at(0) };
    const first = await regs.add(base);
    assert.equal(first.created, true);
    assert.equal(first.registration.dataSubjectId, 'd'.repeat(64), 'the data subject pseudonym (migration 016) is kept');
    assert.equal((await regs.add({ ...base, contactMade: false })).created, false, 'the second add returns the first');
    assert.equal(await regs.nextDueAt(['okl-1']), at(0));
    assert.deepEqual(await regs.claimDue(['other'], lease(0), 10), [], 'another Open Klant does not take it');

    const l1 = lease(1000);
    const [c] = await regs.claimDue(['okl-1'], l1, 10);
    assert.equal(c.id, first.registration.id);
    assert.equal(c.attempts, 1);
    assert.deepEqual(await regs.claimDue(['okl-1'], lease(2000, 'inst-B'), 10), [], 'leased: nobody else takes it');
    assert.equal(await regs.progress(c.id, 'not-the-lease', { klantcontactUuid: 'x'.repeat(36) }), false);
    assert.equal(await regs.progress(c.id, l1.token, { klantcontactUuid: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5', codes: ['actor_not_found'] }), true);
    assert.equal(await regs.reschedule(c.id, l1.token, at(120_000), 'openklant_server_error'), true);
    assert.deepEqual(await regs.claimDue(['okl-1'], lease(60_000), 10), [], 'not due before its retry time');
    assert.deepEqual(await regs.counts('okl-1'), { pending: 1, retrying: 1, failed: 0 });

    const l2 = lease(130_000, 'inst-B');
    const [again] = await regs.claimDue(['okl-1'], l2, 10);
    assert.equal(again.attempts, 2);
    assert.equal(again.klantcontactUuid, '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5', 'the retry sees the recorded progress');
    assert.deepEqual(again.codes, ['actor_not_found']);
    assert.equal(await regs.reclaimInstance('inst-B', at(131_000)), 1, 'a restarted instance ends its own leases');
    const l3 = lease(132_000, 'inst-B');
    const [third] = await regs.claimDue(['okl-1'], l3, 10);
    assert.equal(await regs.complete(third.id, l3.token, ['actor_not_found'], at(133_000)), true);
    assert.equal(await regs.complete(third.id, l3.token, [], at(134_000)), false, 'done once');
    const done = await regs.get(third.id);
    assert.equal(done?.state, 'done');
    assert.deepEqual(done?.codes, ['actor_not_found']);
    assert.equal(await regs.nextDueAt(['okl-1']), undefined);

    const id2 = await appointment(t.store.appointments, 74);
    const second = await regs.add({ ...base, appointmentId: id2, identified: false, partijUuid: undefined });
    const l4 = lease(0);
    await regs.claimDue(['okl-1'], l4, 10);
    assert.equal(await regs.fail(second.registration.id, l4.token, 'openklant_invalid_request', at(1)), true);
    assert.deepEqual(await regs.counts('okl-1'), { pending: 0, retrying: 0, failed: 1 });
    const rows = await t.rows('SELECT * FROM contact_registrations');
    assert.equal(JSON.stringify(rows).includes('Jan de Vries'), false, 'no contact details in the rows');
  });
});
