import { strict as assert } from 'node:assert';
import { sqliteStoreOn } from '../../../lib/store/sqlite';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { runRetention } from '../../../lib/retention/runtime';
import { createSqliteRetentionStore } from '../../../lib/store/sqlite/retention';
import { fixedClock, serviceOn, tempDatabase, testSchedule } from './support';

const DAY = 24 * 3600_000;

describe('retention: the resident\'s details erased N days after the appointment (SQLite, controllable clock)', () => {
  let t: ReturnType<typeof tempDatabase>;
  const clock = fixedClock('2026-11-30T08:00:00.000Z');
  beforeEach(() => {
    t = tempDatabase();
    clock.set('2026-11-30T08:00:00.000Z');
  });
  afterEach(() => t.cleanup());

  const book = async (start: string, i: number) => {
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    return (
      await service.book(parseBookingInput({ start, name: `Inwoner ${i}`, email: `inwoner${i}@example.nl`, phone: '0612345678', remarks: 'Over mijn paspoort' }, { topics: ['paspoort'], askPhone: true }), {
        channel: 'website',
      })
    ).appointment;
  };
  const row = (id: string) =>
    t.db.prepare(`SELECT resident_name AS name, resident_email AS email, resident_phone AS phone, remarks, idempotency_key AS k, erased_at AS erased FROM appointments WHERE id = ?`).get(id) as Record<string, string | null>;
  const log = () => t.db.prepare(`SELECT appointment_id AS id, actor, action, attribute_keys AS keys FROM processing_log ORDER BY id`).all() as Record<string, string>[];
  const run = (days: number, atIso: string) => runRetention({ store: createSqliteRetentionStore(t.db), days, now: () => new Date(atIso) });

  it('keeps everything until N days after the end, then erases name, e-mail, phone, remarks and the mail-derived key, and logs it', async () => {
    const early = await book('2026-12-01T10:00:00+01:00', 1); // ends 09:30 UTC
    const late = await book('2026-12-03T10:00:00+01:00', 2);
    const cancelled = await book('2026-12-01T11:00:00+01:00', 3);
    const { service } = serviceOn(sqliteStoreOn(t.db), testSchedule(), clock.now);
    await service.cancelByStaff(cancelled.id, 'kcc1');
    t.db.prepare(`INSERT INTO mail_outbox (id, kind, appointment_id, message_id, from_address, to_address, subject, text_body, status, attempts, max_attempts, next_attempt_at, created_at, updated_at)
      VALUES ('m1', 'resident-confirmation', ?, '<m1@x>', 'a@b.nl', 'inwoner1@example.nl', 's', 't', 'failed', 10, 10, ?, ?, ?)`).run(early.id, '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z');

    assert.equal(await run(30, new Date(Date.parse('2026-12-01T09:30:00.000Z') + 30 * DAY - 1000).toISOString()), 0, 'one second before the 30 days are over');
    assert.equal(row(early.id).name, 'Inwoner 1');
    const at = new Date(Date.parse('2026-12-01T10:30:00.000Z') + 30 * DAY).toISOString();
    assert.equal(await run(30, at), 2, 'the early and the cancelled one');
    assert.deepEqual(row(early.id), { name: '', email: '', phone: null, remarks: null, k: `erased:${early.id}`, erased: at });
    assert.equal(row(cancelled.id).email, '');
    assert.equal(row(late.id).email, 'inwoner2@example.nl', 'the later appointment is kept');
    assert.equal((t.db.prepare('SELECT count(*) AS n FROM mail_outbox').get() as { n: number }).n, 0, 'a failed mail of an erased appointment goes too');
    assert.deepEqual(
      log().filter((l) => l.action === 'resident_data_erased').map((l) => [l.id, l.actor, l.keys]).sort(),
      [early.id, cancelled.id].map((id) => [id, 'system', '["name","email","phone","remarks"]']).sort(),
    );
    assert.equal(await run(30, at), 0, 'erased once, logged once');
  });

  it('0 days: erased as soon as the appointment has ended, not before', async () => {
    const a = await book('2026-12-01T10:00:00+01:00', 1);
    assert.equal(await run(0, '2026-12-01T09:29:59.000Z'), 0);
    assert.equal(await run(0, '2026-12-01T09:30:00.000Z'), 1);
    assert.equal(row(a.id).name, '');
  });

  it('a clock jump forward erases the whole backlog, each appointment once', async () => {
    for (let i = 0; i < 16; i++) await book(`2026-12-0${1 + (i % 4)}T${String(9 + Math.floor(i / 4)).padStart(2, '0')}:00:00+01:00`, i);
    assert.equal(await run(30, '2027-06-01T00:00:00.000Z'), 16);
    assert.equal((t.db.prepare(`SELECT count(*) AS n FROM appointments WHERE resident_email != ''`).get() as { n: number }).n, 0);
    assert.equal(log().length, 16);
  });
});
