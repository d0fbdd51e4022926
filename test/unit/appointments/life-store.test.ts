import { strict as assert } from 'node:assert';
import type { ClaimRequest, NewAppointment, RescheduleRequest } from '../../../lib/appointments/store';
import { createOutbox } from '../../../lib/mail/outbox';
import { forEachEngine, type TestStore } from '../../support/engines';
import { newAppointment } from './support';

const NOW = '2026-11-30T08:00:00.000Z';
const DAY: Pick<ClaimRequest, 'dayStartUtc' | 'dayEndUtc'> = { dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2026-12-01T23:00:00.000Z' };
const appt = (n: number, startUtc: string, endUtc: string, extra: Partial<NewAppointment> = {}) => newAppointment(n, startUtc, endUtc, extra, NOW);
const claim = (candidates: string[]): ClaimRequest => ({ candidates, ...DAY, bufferMinutes: 0, idempotentSinceUtc: NOW });
const move = (startUtc: string, endUtc: string, candidates: string[], extra: Partial<RescheduleRequest> = {}): RescheduleRequest => ({
  startUtc,
  endUtc,
  claim: { candidates, ...DAY, bufferMinutes: 0 },
  atUtc: NOW,
  newCancelTokenHash: `fresh-${Math.random()}`,
  ...extra,
});
const outbox = createOutbox({ store: {} as never, transport: {} as never, from: { address: 'video@gemeente.example' }, now: () => new Date(NOW) });
const reminder = (appointmentId: string, notAfter: string) =>
  outbox.prepare({ kind: 'resident-reminder', appointmentId, to: { address: 'jan@example.org' }, subject: 'Herinnering', text: 'x', sendAt: '2026-11-30T09:00:00.000Z', notAfter });

/** The store parts of issue 14 (migration 012), the same tests on SQLite and PostgreSQL. */
forEachEngine('appointment life store', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('moves in one transaction: old claim freed, new claimed, sequence raised, links, stale mails and reminders gone, event recorded; a used hash finds nothing', async () => {
    const s = t.store;
    const a = (await s.appointments.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).appointment;
    await s.events.apply({ appointmentId: a.id, links: [{ tokenHash: 'link-1', appointmentId: a.id, role: 'resident', validFrom: NOW, validUntil: '2026-12-02T00:00:00.000Z', createdAt: NOW }], mails: [reminder(a.id, a.startUtc)] });
    const moved = await s.appointments.reschedule(a.id, move('2026-12-01T11:00:00.000Z', '2026-12-01T11:30:00.000Z', ['x'], { tokenHash: 'hash1' }), { facts: { lang: 'en' } });
    assert.ok(moved);
    assert.equal(moved.appointment.startUtc, '2026-12-01T11:00:00.000Z');
    assert.equal(moved.appointment.sequence, 1);
    assert.deepEqual(moved.previous, { agent: 'x', startUtc: '2026-12-01T09:00:00.000Z', endUtc: '2026-12-01T09:30:00.000Z' });
    assert.deepEqual(await t.rows('SELECT agent, start_utc FROM slot_claims'), [{ agent: 'x', start_utc: '2026-12-01T11:00:00.000Z' }]);
    assert.equal(await t.count('SELECT count(*) AS n FROM access_links'), 0);
    assert.equal(await t.count('SELECT count(*) AS n FROM mail_outbox'), 0);
    assert.equal(await t.count(`SELECT count(*) AS n FROM appointment_events WHERE kind = 'rescheduled'`), 1);
    assert.equal(await s.appointments.reschedule(a.id, move('2026-12-01T12:00:00.000Z', '2026-12-01T12:30:00.000Z', ['x'], { tokenHash: 'hash1' })), null, 'the old hash is dead');
    // The old place is free again.
    assert.ok((await s.appointments.create(appt(2, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).eventId);
  });

  it('a taken slot moves nothing; of two moves racing for the last place over two stores exactly one wins', async () => {
    const s = t.store;
    const a = (await s.appointments.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).appointment;
    const b = (await s.appointments.create(appt(2, '2026-12-01T10:00:00.000Z', '2026-12-01T10:30:00.000Z'), claim(['x']))).appointment;
    await s.appointments.create(appt(3, '2026-12-01T11:00:00.000Z', '2026-12-01T11:30:00.000Z'), claim(['x']));
    await assert.rejects(s.appointments.reschedule(a.id, move('2026-12-01T11:00:00.000Z', '2026-12-01T11:30:00.000Z', ['x'])), (e: Error & { code?: string }) => e.code === 'slot_taken');
    assert.equal((await s.appointments.get(a.id))?.startUtc, '2026-12-01T09:00:00.000Z');
    assert.equal(await t.count(`SELECT count(*) AS n FROM slot_claims WHERE appointment_id = ?`, a.id), 1, 'the old claim is back');
    const other = await t.another();
    const results = await Promise.allSettled([
      s.appointments.reschedule(a.id, move('2026-12-01T12:00:00.000Z', '2026-12-01T12:30:00.000Z', ['x'])),
      other.appointments.reschedule(b.id, move('2026-12-01T12:00:00.000Z', '2026-12-01T12:30:00.000Z', ['x'])),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal(await t.count(`SELECT count(*) AS n FROM slot_claims WHERE start_utc = ?`, '2026-12-01T12:00:00.000Z'), 1);
    assert.equal(await t.count('SELECT count(*) AS n FROM slot_claims'), 3);
  });

  it('a cancellation deletes the reminders in its transaction; the outbox drops a reminder past its limit and counts scheduled ones apart', async () => {
    const s = t.store;
    const a = (await s.appointments.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).appointment;
    const b = (await s.appointments.create(appt(2, '2026-12-01T10:00:00.000Z', '2026-12-01T10:30:00.000Z'), claim(['x']))).appointment;
    await s.events.apply({ appointmentId: a.id, mails: [reminder(a.id, a.startUtc)] });
    await s.events.apply({ appointmentId: b.id, mails: [reminder(b.id, '2026-11-30T09:30:00.000Z')] });
    assert.deepEqual(await s.outbox.counts(NOW), { pending: 0, scheduled: 2, sending: 0, failed: 0 });
    await s.appointments.cancel(a.id, null, NOW);
    assert.equal(await t.count('SELECT count(*) AS n FROM mail_outbox WHERE appointment_id = ?', a.id), 0);
    const r = await s.outbox.claimDue('2026-11-30T10:00:00.000Z', '2026-11-30T10:10:00.000Z', 'c1', 10);
    assert.deepEqual(r.claimed, []);
    assert.deepEqual((r.expired ?? []).map((e) => [e.kind, e.appointmentId]), [['resident-reminder', b.id]]);
    assert.equal(await t.count('SELECT count(*) AS n FROM mail_outbox'), 0);
  });

  it('retention erases contact details after the cutoff once, with a processing-log line; outcomes are decided once; feeds and statistics', async () => {
    const s = t.store;
    const a = (await s.appointments.create(appt(1, '2026-12-01T09:00:00.000Z', '2026-12-01T09:30:00.000Z'), claim(['x']))).appointment;
    const b = (await s.appointments.create(appt(2, '2026-12-02T09:00:00.000Z', '2026-12-02T09:30:00.000Z'), claim(['x']))).appointment;
    await s.processingLog.record({ appointmentId: a.id, actor: 'resident', action: 'participant_joined', at: '2026-12-01T09:00:10.000Z' });
    await s.processingLog.record({ appointmentId: a.id, actor: 'x', action: 'participant_joined', at: '2026-12-01T09:01:10.000Z' });
    // An SMS opt-in and an unsent SMS (number and access link) go with the rest of the contact details.
    await t.exec('UPDATE appointments SET sms_opt_in = 1 WHERE id = ?', a.id);
    for (const [id, status] of [['sms-1', 'pending'], ['sms-2', 'failed']]) {
      await t.exec(
        `INSERT INTO sms_outbox (id, kind, appointment_id, gateway, to_number, text_body, status, max_attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, 'resident-confirmation', ?, 'gw', '+31612345678', 'https://video.example/v/x', ?, 5, ?, ?, ?)`,
        id, a.id, status, NOW, NOW, NOW,
      );
    }
    // The pseudonym an Open Klant registration keeps for its own record (migration 016) goes too.
    await s.contactRegistrations.add({
      appointmentId: a.id, source: 'ok', contactMade: true, identified: true, dataSubjectId: 'f'.repeat(64), maxAttempts: 3,
      traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', createdAt: NOW,
    });
    assert.deepEqual(await s.retention.eraseEnded('2026-12-01T09:30:00.000Z', '2026-12-31T00:00:00.000Z', 10), [a.id]);
    assert.equal(await t.count('SELECT count(*) AS n FROM contact_registrations WHERE data_subject_id IS NOT NULL'), 0);
    assert.deepEqual(await s.retention.eraseEnded('2026-12-01T09:30:00.000Z', '2026-12-31T00:00:00.000Z', 10), []);
    assert.equal(await t.count('SELECT count(*) AS n FROM sms_outbox WHERE appointment_id = ?', a.id), 0);
    assert.equal(await t.count('SELECT sms_opt_in AS n FROM appointments WHERE id = ?', a.id), 0);
    const erased = await s.appointments.get(a.id);
    assert.deepEqual(erased?.resident, { name: '', email: '', phone: null, remarks: null });
    assert.equal((await s.appointments.get(b.id))?.resident.name, 'R2');
    assert.equal(await t.count(`SELECT count(*) AS n FROM processing_log WHERE action = 'resident_data_erased' AND appointment_id = ?`, a.id), 1);

    const decided = await s.outcomes.decideEnded('2026-11-01T00:00:00.000Z', '2026-12-02T10:00:00.000Z', NOW, 10);
    assert.deepEqual(decided.map((o) => [o.appointmentId, o.outcome]).sort(), [[a.id, 'completed'], [b.id, 'resident_no_show']].sort());
    assert.deepEqual(await s.outcomes.decideEnded('2026-11-01T00:00:00.000Z', '2026-12-02T10:00:00.000Z', NOW, 10), []);
    assert.equal((await s.outcomes.recordCall(a.id, 300, NOW)).durationSeconds, 300);
    assert.equal((await s.outcomes.recordCall(a.id, 60, NOW)).durationSeconds, 360);

    await s.agentFeeds.replace('x', 'feed-1', NOW);
    await s.agentFeeds.replace('x', 'feed-2', NOW);
    assert.equal(await s.agentFeeds.find('feed-1'), undefined, 'renewing revokes the old one');
    assert.deepEqual(await s.agentFeeds.find('feed-2'), { username: 'x', tokenHash: 'feed-2' });
    assert.equal(await s.agentFeeds.revoke('x'), true);
    assert.equal(await s.agentFeeds.createdAt('x'), undefined);

    const facts = await s.statistics.facts('2026-11-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z');
    assert.equal(facts.bookings.length, 2);
    assert.deepEqual(facts.waits, [{ at: a.startUtc, seconds: 60 }]);
    assert.deepEqual(facts.outcomes.map((o) => o.outcome).sort(), ['completed', 'resident_no_show']);
    assert.ok(!JSON.stringify(facts).includes('R1@') && !JSON.stringify(facts).includes('r2@example.nl') && !JSON.stringify(facts).includes(a.id));
  });
});
