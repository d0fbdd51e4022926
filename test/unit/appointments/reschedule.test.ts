import { strict as assert } from 'node:assert';
import { sqliteStoreOn } from '../../../lib/store/sqlite';
import { HandOff } from '../../../lib/access/handoff';
import { validateSessionLinkConfig } from '../../../lib/access/session-link-config';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { createLinkService } from '../../../lib/links';
import { createOutbox } from '../../../lib/mail/outbox';
import { createSqliteEventStore } from '../../../lib/store/sqlite/events';
import { createSqliteLinkStore } from '../../../lib/store/sqlite/links';
import { createSqliteOutboxStore } from '../../../lib/store/sqlite/outbox';
import { fixedClock, issueCancelToken, serviceOn, tempDatabase, testSchedule, userErrorOf } from './support';

const NOW = '2026-11-30T08:00:00.000Z';
const FIRST = '2026-12-02T10:00:00+01:00';
const FIRST_UTC = '2026-12-02T09:00:00.000Z';
const LATER = '2026-12-03T14:00:00+01:00';
const LATER_UTC = '2026-12-03T13:00:00.000Z';

const input = (i: number, start = FIRST) =>
  parseBookingInput({ start, name: `Inwoner ${i}`, email: `inwoner${i}@example.nl` }, { topics: ['paspoort'] });

describe('appointments: moving an appointment (SQLite on disk)', () => {
  let t: ReturnType<typeof tempDatabase>;
  const clock = fixedClock(NOW);
  beforeEach(() => {
    t = tempDatabase();
    clock.set(NOW);
  });
  afterEach(() => t.cleanup());

  const rows = (sql: string, ...args: unknown[]) => t.db.prepare(sql).all(...args) as Record<string, unknown>[];

  it('by the resident\'s link: one transaction frees the old place, claims the new one, raises the sequence, kills the old link, links and reminders', async () => {
    const { service, store } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const booked = await service.book(input(1), { channel: 'website', event: { facts: { lang: 'en' } } });
    const token = await issueCancelToken(sqliteStoreOn(t.db), booked.appointment.id);
    // What the booking's hand-off left: a live link and a scheduled reminder.
    t.db.prepare(`INSERT INTO access_links VALUES ('h1', ?, 'resident', NULL, ?, ?, ?)`).run(booked.appointment.id, NOW, '2026-12-31T00:00:00.000Z', NOW);
    const outbox = createOutbox({ store: createSqliteOutboxStore(t.db), transport: {} as never, from: { address: 'video@gemeente.example' }, now: () => new Date(NOW) });
    await outbox.enqueue({ kind: 'resident-reminder', appointmentId: booked.appointment.id, to: { address: 'inwoner1@example.nl' }, subject: 'Herinnering', text: 'x', sendAt: '2026-12-01T09:00:00.000Z', notAfter: FIRST_UTC });

    const moved = await service.rescheduleByToken(token, LATER, { source: 'book-1', facts: { cancelPath: '/afspraak' } });
    assert.equal(moved.appointment.startUtc, LATER_UTC);
    assert.equal(moved.appointment.sequence, 1);
    assert.equal(moved.lang, 'en', 'the language recorded with the booking');
    assert.deepEqual(moved.previous, { agent: booked.appointment.agent, startUtc: FIRST_UTC, endUtc: '2026-12-02T09:30:00.000Z' });
    assert.deepEqual(rows('SELECT agent, start_utc FROM slot_claims'), [{ agent: moved.appointment.agent, start_utc: LATER_UTC }]);
    assert.equal(rows('SELECT 1 FROM access_links').length, 0, 'old access links are dead');
    assert.equal(rows('SELECT 1 FROM mail_outbox').length, 0, 'the reminder of the old time is gone');
    const [ev] = rows(`SELECT kind, facts FROM appointment_events WHERE kind = 'rescheduled'`);
    assert.deepEqual(JSON.parse(ev.facts as string), { cancelPath: '/afspraak', lang: 'en', previousStart: FIRST_UTC, previousEnd: '2026-12-02T09:30:00.000Z', previousAgent: booked.appointment.agent });
    // The old place is free for someone else; the same link used again is dead.
    assert.equal((await service.book(input(2), { channel: 'website' })).appointment.startUtc, FIRST_UTC);
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, '2026-12-04T10:00:00+01:00'))).code, 'link_invalid');
    assert.equal((await userErrorOf(() => service.cancelByToken(token))).code, 'link_invalid');
    assert.equal((await store.get(booked.appointment.id))?.startUtc, LATER_UTC);
  });

  it('a slot that was just taken: 409 slot_taken and nothing moved (old place, link, sequence unchanged)', async () => {
    const { service, store } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const mine = await service.book(input(1), { channel: 'website' });
    const token = await issueCancelToken(sqliteStoreOn(t.db), mine.appointment.id);
    await service.book(input(2, LATER), { channel: 'website' });
    await service.book(input(3, LATER), { channel: 'website' });
    const e = await userErrorOf(() => service.rescheduleByToken(token, LATER));
    assert.equal(e.status, 409);
    assert.equal(e.code, 'slot_taken');
    const after = await store.get(mine.appointment.id);
    assert.equal(after?.startUtc, FIRST_UTC);
    assert.equal(after?.sequence, 0);
    assert.equal(rows('SELECT 1 FROM slot_claims WHERE appointment_id = ?', mine.appointment.id).length, 1);
    assert.equal(rows(`SELECT 1 FROM appointment_events WHERE kind = 'rescheduled'`).length, 0);
    assert.equal((await service.appointmentForCancelToken(token)).id, mine.appointment.id, 'the link still works');
  });

  it('two appointments racing for the last place of a slot, over two connections: exactly one moves', async () => {
    const a = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const b = serviceOn(sqliteStoreOn(t.open()), testSchedule(), clock.now);
    const one = await a.service.book(input(1), { channel: 'website' });
    const two = await a.service.book(input(2, '2026-12-02T11:00:00+01:00'), { channel: 'website' });
    await a.service.book(input(3, LATER), { channel: 'website' });
    const tokens = [await issueCancelToken(sqliteStoreOn(t.db), one.appointment.id), await issueCancelToken(sqliteStoreOn(t.db), two.appointment.id)];
    const results = await Promise.allSettled([a.service.rescheduleByToken(tokens[0], LATER), b.service.rescheduleByToken(tokens[1], LATER)]);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const taken = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'slot_taken').length;
    assert.deepEqual({ ok, taken }, { ok: 1, taken: 1 });
    assert.equal(rows('SELECT 1 FROM slot_claims WHERE start_utc = ?', LATER_UTC).length, 2, 'both agents hold the later slot once');
    assert.equal(rows('SELECT 1 FROM slot_claims').length, 3);
  });

  it('refuses the same time, a time that is not bookable, a cancelled appointment and a staff move of a past one', async () => {
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const booked = await service.book(input(1), { channel: 'website' });
    const token = await issueCancelToken(sqliteStoreOn(t.db), booked.appointment.id);
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, FIRST))).code, 'same_slot');
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, '2026-12-05T10:00:00+01:00'))).status, 400, 'a Saturday');
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, 'morgen'))).status, 400);
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, { start: LATER }))).status, 400);
    await service.cancelByToken(token);
    assert.equal((await userErrorOf(() => service.rescheduleByToken(token, LATER))).code, 'link_invalid');
    assert.equal((await userErrorOf(() => service.rescheduleByStaff(booked.appointment.id, 'kcc1', LATER))).code, 'already_cancelled');
    assert.equal((await userErrorOf(() => service.rescheduleByStaff('no-such-id', 'kcc1', LATER))).code, 'not_found');
    const other = await service.book(input(2), { channel: 'website' });
    clock.set('2026-12-02T09:10:00.000Z');
    assert.equal((await userErrorOf(() => service.rescheduleByStaff(other.appointment.id, 'kcc1', LATER))).code, 'appointment_over');
  });

  it('by the KCC: to another agent when the own one is busy; the hand-off sends the new invite (same UID, SEQUENCE 1), new links and reminders, and the old agent a cancellation', async () => {
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    const mine = await service.book(input(1), { channel: 'website', event: { source: 'book-1', facts: { lang: 'nl', cancelPath: '/afspraak' } } });
    const own = mine.appointment.agent;
    // The own agent is busy at the later time: the move goes to the other one.
    const busy = await service.book(input(2, LATER), { channel: 'website' });
    if (busy.appointment.agent !== own) {
      t.db.prepare(`UPDATE appointments SET agent = ? WHERE id = ?`).run(own, busy.appointment.id);
      t.db.prepare(`UPDATE slot_claims SET agent = ? WHERE appointment_id = ?`).run(own, busy.appointment.id);
    }
    const moved = await service.rescheduleByStaff(mine.appointment.id, 'kcc1', LATER, { source: 'book-kcc' });
    assert.notEqual(moved.appointment.agent, own);

    const outbox = createOutbox({ store: createSqliteOutboxStore(t.db), transport: {} as never, from: { address: 'video@gemeente.example' }, now: () => new Date(NOW) });
    const v = validateSessionLinkConfig({ agentEmails: [{ username: 'agent1', email: 'agent1@gemeente.example' }, { username: 'agent2', email: 'agent2@gemeente.example' }] });
    assert.ok(v.ok);
    const handOff = new HandOff(
      {
        events: createSqliteEventStore(t.db),
        appointments: service,
        plan: { links: createLinkService({ store: createSqliteLinkStore(t.db), now: () => new Date(NOW) }), outbox, agentName: async (u) => u, now: () => new Date(NOW) },
        cancelPath: () => '/afspraak',
        instanceId: 'inst-A',
        mailsQueued: () => undefined,
        now: () => new Date(NOW),
      },
      () => ({ base: 'https://video.example.nl', host: 'video.example.nl', municipality: 'Gemeente Voorbeeld', fromAddress: 'video@gemeente.example', config: v.config }),
    );
    const r = await handOff.byId(moved.eventId);
    assert.equal(r.status, 'done');
    assert.ok(r.status === 'done' && r.message.event === 'rescheduled' && r.message.appointment.previous?.agent === own);
    const mails = rows(`SELECT kind, to_address AS "to", ics_content AS ics, next_attempt_at AS at FROM mail_outbox ORDER BY kind, next_attempt_at`);
    assert.deepEqual(
      mails.map((m) => [m.kind, m.to]),
      [
        ['agent-cancellation', `${own}@gemeente.example`],
        ['agent-rescheduled', `${moved.appointment.agent}@gemeente.example`],
        ['resident-reminder', 'inwoner1@example.nl'],
        ['resident-reminder', 'inwoner1@example.nl'],
        ['resident-rescheduled', 'inwoner1@example.nl'],
      ],
    );
    const ics = (kind: string) => (mails.find((m) => m.kind === kind)?.ics as string).replace(/\r\n[ \t]/g, '');
    const uid = `UID:${mine.appointment.id}@video.example.nl`;
    assert.ok(ics('resident-rescheduled').includes(uid) && /\r\nSEQUENCE:1\r\n/.test(ics('resident-rescheduled')) && /METHOD:REQUEST/.test(ics('resident-rescheduled')));
    assert.ok(ics('agent-cancellation').includes(uid) && /\r\nSEQUENCE:2\r\n/.test(ics('agent-cancellation')) && /METHOD:CANCEL/.test(ics('agent-cancellation')));
    assert.deepEqual(
      mails.filter((m) => m.kind === 'resident-reminder').map((m) => m.at),
      ['2026-12-02T13:00:00.000Z', '2026-12-03T12:00:00.000Z'],
      'the reminders moved with the appointment',
    );
    assert.equal(rows(`SELECT 1 FROM access_links WHERE appointment_id = ?`, mine.appointment.id).length, 2, 'new links for resident and agent');
  });
});
