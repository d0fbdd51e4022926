import { strict as assert } from 'node:assert';
import { PROCESSING_ACTIONS, type ProcessingLog } from '../../../lib/attributes/processing-log';
import { openDatabase, type Db } from '../../../lib/store/db';
import { migration } from '../../../lib/store/migrations/004-processing-log';
import { migration as bookingViewed } from '../../../lib/store/migrations/006-booking-viewed';
import { migration as logboek } from '../../../lib/store/migrations/011-openklant-logboek';
import { SqliteProcessingLog } from '../../../lib/store/sqlite/processing-log';
import { isUserError } from '../../../lib/errors';
import { forEachEngine, type TestStore } from '../../support/engines';
import { parseTraceparent, spanFor } from '../../../lib/trace/context';
import { dataSubjectId } from '../../../lib/trace/data-subject';
import { toLogboekRecord } from '../../../lib/trace/logboek';

forEachEngine('attributes/processing log', (engine) => {
  let t: TestStore;
  let log: ProcessingLog;
  beforeEach(async () => {
    t = await engine.open();
    log = t.store.processingLog;
  });
  afterEach(() => t.close());

  it('records and lists entries with names, never values', async () => {
    await log.record({ at: '2026-12-01T09:00:00.000Z', appointmentId: 'A', actor: 'agent.jansen', action: 'requested', purpose: 'Identificatie paspoortaanvraag', methodId: 'digid', attributeKeys: ['bsn', 'name'] });
    await log.record({ at: '2026-12-01T09:01:00.000Z', appointmentId: 'A', actor: 'resident', action: 'verified', methodId: 'digid', attributeKeys: ['bsn', 'name'] });
    await log.record({ at: '2026-12-01T09:02:00.000Z', appointmentId: 'B', actor: 'system', action: 'failed', methodId: 'digid', detail: 'acr_too_low' });
    const a = await log.list({ appointmentId: 'A', limit: 10 });
    assert.deepEqual(a.map((r) => [r.action, r.actor, r.attributeKeys]), [['requested', 'agent.jansen', ['bsn', 'name']], ['verified', 'resident', ['bsn', 'name']]]);
    const window = await log.list({ from: '2026-12-01T09:01:00.000Z', to: '2026-12-01T10:01:30+01:00', limit: 10 });
    assert.deepEqual(window.map((r) => r.action), ['verified']);
    assert.equal((await log.list({ limit: 1 })).length, 1);
    // Every column but the random trace and span ids (hex, which may hold nine digits in a row).
    const raw = JSON.stringify(await t.rows('SELECT at, appointment_id, actor, action, purpose, method_id, attribute_keys, detail FROM processing_log'));
    assert.ok(!/\d{9}/.test(raw));
  });

  it('refuses values where names belong, bad actions and bad codes, writing nothing', async () => {
    const bad = [
      { appointmentId: 'A', actor: 'resident', action: 'verified', attributeKeys: ['999993653'] },
      { appointmentId: 'A', actor: 'resident', action: 'verified', attributeKeys: ['Jan Jansen'] },
      { appointmentId: 'A', actor: 'resident', action: 'verified', attributeKeys: ['1980-01-01'] },
      { appointmentId: 'A', actor: 'resident', action: 'leaked' },
      { appointmentId: 'A', actor: 'Jan Jansen', action: 'shown' },
      { appointmentId: 'A', actor: 'system', action: 'failed', detail: 'BSN 999993653 invalid' },
      { appointmentId: '', actor: 'system', action: 'failed' },
      { appointmentId: 'A', actor: 'system', action: 'failed', at: 'yesterday' },
    ];
    for (const e of bad) {
      await assert.rejects(log.record(e as never), (err: unknown) => isUserError(err) && !err.message.includes('999993653') && !err.message.includes('Jan Jansen'));
    }
    assert.equal(await t.count('SELECT count(*) AS n FROM processing_log'), 0);
  });

  it('the table itself refuses unknown actions and non-list keys', async () => {
    await assert.rejects(t.exec(`INSERT INTO processing_log (at, appointment_id, actor, action) VALUES ('x','A','system','sold')`), /check constraint/i);
    await assert.rejects(t.exec(`INSERT INTO processing_log (at, appointment_id, actor, action, attribute_keys) VALUES ('x','A','system','shown','"bsn"')`), /check constraint/i);
  });

  it('the table takes every action the domain knows (the twin migrations widen the same check)', async () => {
    for (const action of PROCESSING_ACTIONS) await log.record({ appointmentId: 'A', actor: 'system', action });
    assert.equal(await t.count('SELECT count(*) AS n FROM processing_log'), PROCESSING_ACTIONS.length);
  });

  it('validates the query', async () => {
    await assert.rejects(log.list({ limit: 0 }), /limit/);
    await assert.rejects(log.list({ limit: 5000 }), /limit/);
    await assert.rejects(log.list({ limit: 10, from: 'gisteren' }), /from/);
  });

  it('Logboek fields: a new trace and span by default, the given ones checked, never a value; paging by id', async () => {
    const plain = await log.record({ appointmentId: 'A', actor: 'system', action: 'failed', detail: 'internal' });
    assert.match(String(plain.traceId), /^[0-9a-f]{32}$/);
    assert.equal(plain.statusCode, 2, 'failed is an error');
    const linked = await log.record({
      at: '2026-12-01T09:00:00.000Z', endedAt: '2026-12-01T09:00:02.500Z', appointmentId: 'A', actor: 'system', action: 'contact_registered',
      traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: 'c'.repeat(16), statusCode: 1, processingActivityId: 'https://register.example/va/1',
    });
    const bad = [
      { traceId: 'A'.repeat(32) },
      { traceId: '0'.repeat(32) },
      { spanId: '999993653' },
      { parentSpanId: 'x'.repeat(16) },
      { statusCode: 7 },
      { processingActivityId: 'Jan Jansen' },
      { at: '2026-12-01T09:00:00.000Z', endedAt: '2026-12-01T08:00:00.000Z' },
    ];
    for (const extra of bad) {
      await assert.rejects(log.record({ appointmentId: 'A', actor: 'system', action: 'shown', ...extra } as never), (e: unknown) => isUserError(e) && !e.message.includes('Jan Jansen'));
    }
    const stored = await log.list({ afterId: plain.id, limit: 10 });
    assert.deepEqual(stored.map((r) => r.id), [linked.id], 'nothing else written; paging by id');
    const r = stored[0];
    assert.deepEqual([r.traceId, r.spanId, r.parentSpanId, r.statusCode, r.endedAt, r.processingActivityId], ['a'.repeat(32), 'b'.repeat(16), 'c'.repeat(16), 1, '2026-12-01T09:00:02.500Z', 'https://register.example/va/1']);
  });

  it('the data subject is a pseudonym (Logboek dpl.core.data_subject_id, migration 016): never a BSN or other identifier', async () => {
    const subject = dataSubjectId('installation-secret', '999993653')!;
    const rec = await log.record({ appointmentId: 'S', actor: 'resident', action: 'verified', attributeKeys: ['bsn'], dataSubjectId: subject });
    for (const raw of ['999993653', 'Jan Jansen', subject.toUpperCase(), subject.slice(1), `${subject}0`]) {
      await assert.rejects(log.record({ appointmentId: 'S', actor: 'system', action: 'shown', dataSubjectId: raw }), (e: unknown) => isUserError(e) && /dataSubjectId/.test(e.message) && !e.message.includes(raw));
    }
    const [back] = await log.list({ appointmentId: 'S', limit: 10 });
    assert.equal(back.id, rec.id);
    assert.equal(back.dataSubjectId, subject);
    assert.equal(await t.count("SELECT count(*) AS n FROM processing_log WHERE appointment_id = 'S'"), 1, 'nothing else written');
    const line = toLogboekRecord(back, { name: 'idv', version: '0' });
    assert.deepEqual(line.attributes.filter((a) => a.key.startsWith('dpl.core.data_subject')), [
      { key: 'dpl.core.data_subject_id', value: subject },
      { key: 'dpl.core.data_subject_id_type', value: 'BSN' },
    ]);
    assert.ok(!JSON.stringify(line).includes('999993653'));
  });
});

describe('Logboek helpers: the data subject pseudonym and incoming traceparent', () => {
  it('the pseudonym is keyed, stable per installation, 64 hex, and only for a BSN', () => {
    const a = dataSubjectId('secret-A', '999993653');
    assert.match(String(a), /^[0-9a-f]{64}$/);
    assert.equal(dataSubjectId('secret-A', '999993653'), a, 'the same person, the same pseudonym');
    assert.notEqual(dataSubjectId('secret-B', '999993653'), a, 'another installation, another pseudonym');
    assert.notEqual(dataSubjectId('secret-A', '999990019'), a);
    for (const notBsn of ['', '12345678', '1234567890', 'Jan Jansen', ' 999993653']) assert.equal(dataSubjectId('secret-A', notBsn), undefined);
  });

  it('parses traceparent as W3C Trace Context says, and continues it with a new span', () => {
    const t = '4bf92f3577b34da6a3ce929d0e0e4736';
    const p = '00f067aa0ba902b7';
    assert.deepEqual(parseTraceparent(`00-${t}-${p}-01`), { traceId: t, spanId: p });
    assert.deepEqual(parseTraceparent(`00-${t}-${p}-00`), { traceId: t, spanId: p }, 'not sampled is still a trace');
    assert.deepEqual(parseTraceparent(`01-${t}-${p}-01-later-fields`), { traceId: t, spanId: p }, 'a later version: its first four fields');
    for (const bad of [undefined, 42, ['a'], '', `00-${t.toUpperCase()}-${p}-01`, `00-${'0'.repeat(32)}-${p}-01`, `00-${t}-${'0'.repeat(16)}-01`,
      `ff-${t}-${p}-01`, `00-${t}-${p}-01-x`, `01-${t}-${p}-01x`, `00-${t}-${p}`, `00-${t.slice(1)}-${p}-01`, `0-${t}-${p}-01`, `00-${t}-${p}-01,00-${t}-${p}-01`, 'x'.repeat(600)]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad).slice(0, 80));
    }
    const cont = spanFor(`00-${t}-${p}-01`);
    assert.equal(cont.traceId, t);
    assert.equal(cont.parentSpanId, p);
    assert.match(cont.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(cont.spanId, p);
    const fresh = spanFor('garbage');
    assert.notEqual(fresh.traceId, t);
    assert.equal(fresh.parentSpanId, undefined);
  });
});

describe('attributes/processing log: SQLite migrations 004, 006 and 011', () => {
  let db: Db;
  let log: SqliteProcessingLog;
  beforeEach(() => {
    db = openDatabase(':memory:', [migration]);
    log = new SqliteProcessingLog(db);
  });
  afterEach(() => db.close());

  it('migration 004 applies in the full migration chain', async () => {
    const full = openDatabase(':memory:');
    try {
      const rec = await new SqliteProcessingLog(full).record({ appointmentId: 'A', actor: 'system', action: 'expired', attributeKeys: ['bsn'] });
      assert.equal(rec.action, 'expired');
      assert.match(rec.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    } finally {
      full.close();
    }
  });

  it('migration 006 adds booking_viewed and keeps every row, id and index', async () => {
    // Written as 004 had it (the repository writes the columns of 011).
    db.prepare(`INSERT INTO processing_log (at, appointment_id, actor, action, method_id, attribute_keys) VALUES ('2026-12-01T09:00:00.000Z', 'A', 'agent1', 'shown', 'digid', '["bsn"]')`).run();
    assert.throws(() => db.prepare("INSERT INTO processing_log (at, appointment_id, actor, action) VALUES ('x', 'A', 'agent1', 'booking_viewed')").run(), /CHECK/);
    db.exec(bookingViewed.up);
    db.exec(logboek.up);
    // The repository also writes migration 016's column (its other statements are about staff tables this chain lacks).
    db.exec('ALTER TABLE processing_log ADD COLUMN data_subject_id TEXT');
    const kept = await log.list({ limit: 10 });
    assert.deepEqual(kept.map((r) => [r.id, r.action, r.attributeKeys]), [[1, 'shown', ['bsn']]]);
    const [old] = await log.list({ limit: 10 });
    assert.match(String(old.traceId), /^[0-9a-f]{32}$/, '011 gives old rows a trace of their own');
    assert.match(String(old.spanId), /^[0-9a-f]{16}$/);
    assert.deepEqual([old.statusCode, old.endedAt, old.processingActivityId], [1, old.at, null]);
    const viewed = await log.record({ appointmentId: 'A', actor: 'agent1', action: 'booking_viewed', attributeKeys: ['name', 'email', 'remarks'], detail: 'viewed_in_call' });
    assert.equal(viewed.id, 2, 'ids go on where they were');
    assert.throws(() => db.prepare("INSERT INTO processing_log (at, appointment_id, actor, action) VALUES ('x', 'A', 'agent1', 'peeked')").run(), /CHECK/);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'processing_log' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(indexes, ['processing_log_appointment', 'processing_log_at', 'processing_log_trace']);
  });
});
