import assert from 'node:assert/strict';
import { createSmsCatcher } from '../../../lib/sms/catcher';
import { parseDeliveryReport } from '../../../lib/sms/delivery-report';
import { forEachEngine, type TestStore } from '../../support/engines';

const REF = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';

describe('SMS delivery reports: reading what gateways send', () => {
  it('reads MessageBird, CM.com, Spryng and generic reports; field names in any case; codes only for failures', () => {
    assert.deepEqual(parseDeliveryReport('messagebird', { reference: REF, status: 'delivered', recipient: '31612345678' }), { ok: true, reference: REF, status: 'delivered' });
    assert.deepEqual(parseDeliveryReport('messagebird', { reference: REF, status: 'delivery_failed', statusErrorCode: '104' }), { ok: true, reference: REF, status: 'failed', code: '104' });
    assert.deepEqual(parseDeliveryReport('messagebird', { reference: REF, status: 'buffered' }), { ok: true, reference: REF, status: 'pending' });
    assert.deepEqual(parseDeliveryReport('cm', { REFERENCE: REF, STATUS: '2' }), { ok: true, reference: REF, status: 'delivered' });
    assert.deepEqual(parseDeliveryReport('cm', { REFERENCE: REF, STATUS: 3, ERRORCODE: 9 }), { ok: true, reference: REF, status: 'failed', code: '9' });
    assert.deepEqual(parseDeliveryReport('spryng', { REFERENCE: REF, STATUS: '20', REASONCODE: '21' }), { ok: true, reference: REF, status: 'failed', code: '21' });
    assert.deepEqual(parseDeliveryReport('spryng', { REFERENCE: REF.toUpperCase(), STATUS: '10' }), { ok: true, reference: REF, status: 'delivered' });
    assert.deepEqual(parseDeliveryReport('generic-json', { reference: REF, status: 'failed', code: 'ABSENT' }), { ok: true, reference: REF, status: 'failed', code: 'ABSENT' });
  });

  it('refuses what is not a report of ours, and drops a free-text code (it may quote the number)', () => {
    const refused = (preset: Parameters<typeof parseDeliveryReport>[0], fields: Record<string, unknown>) => {
      const r = parseDeliveryReport(preset, fields);
      assert.equal(r.ok, false, JSON.stringify(fields));
      return r.ok ? '' : r.field;
    };
    assert.equal(refused('generic-json', { status: 'delivered' }), 'reference');
    assert.equal(refused('generic-json', { reference: 'msg-1', status: 'delivered' }), 'reference');
    assert.equal(refused('generic-json', { reference: { $ne: null }, status: 'delivered' }), 'reference');
    assert.equal(refused('generic-json', { reference: [REF], status: 'delivered' }), 'reference');
    assert.equal(refused('generic-json', { reference: REF, status: 'maybe' }), 'status');
    assert.equal(refused('generic-json', { reference: REF, status: '2' }), 'status', "CM's numbers are CM's only");
    assert.equal(refused('cm', { reference: REF, status: '10' }), 'status', "Spryng's numbers are Spryng's only");
    assert.equal(refused('generic-json', { reference: REF }), 'status');
    const free = parseDeliveryReport('generic-json', { reference: REF, status: 'failed', code: 'Number +31612345678 is not reachable' });
    assert.deepEqual(free, { ok: true, reference: REF, status: 'failed' });
  });

  it('the demo catcher keeps the newest first, a re-send with the same reference once, at most its limit', async () => {
    const c = createSmsCatcher(2);
    await c.sender.send({ reference: 'a', to: '+31612345678', text: 'een' });
    await c.sender.send({ reference: 'b', to: '+31612345678', text: 'twee' });
    await c.sender.send({ reference: 'a', to: '+31612345678', text: 'een' });
    assert.deepEqual(c.list().map((m) => m.reference), ['a', 'b']);
    await c.sender.send({ reference: 'c', to: '+31612345678', text: 'drie' });
    assert.deepEqual(c.list().map((m) => m.reference), ['c', 'a']);
  });
});

forEachEngine('SMS delivery reports in the store', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  it('records a report once per SMS by reference and gateway; unknown and foreign references are refused; no number or text kept', async () => {
    const s = t.store.smsOutbox;
    await s.accepted({ reference: REF, gateway: 'gw-1', kind: 'sms-reminder', appointmentId: 'appt-1', acceptedAt: '2026-12-01T08:00:00.000Z' });
    await s.accepted({ reference: REF, gateway: 'gw-1', kind: 'sms-reminder', appointmentId: 'appt-1', acceptedAt: '2026-12-01T08:05:00.000Z' });
    assert.deepEqual(await s.delivery(REF), { reference: REF, gateway: 'gw-1', kind: 'sms-reminder', appointmentId: 'appt-1', status: 'accepted', acceptedAt: '2026-12-01T08:00:00.000Z' }, 'a re-send keeps the first row');
    assert.deepEqual(await s.report(REF, 'gw-2', 'delivered', undefined, '2026-12-01T08:01:00.000Z'), { result: 'unknown' }, 'another gateway cannot report on it');
    assert.deepEqual(await s.report('00000000-0000-4000-8000-000000000000', 'gw-1', 'delivered', undefined, '2026-12-01T08:01:00.000Z'), { result: 'unknown' });
    const first = await s.report(REF, 'gw-1', 'failed', 'EC_ABSENT', '2026-12-01T08:02:00.000Z');
    assert.equal(first.result, 'recorded');
    const again = await s.report(REF, 'gw-1', 'delivered', undefined, '2026-12-01T08:03:00.000Z');
    assert.equal(again.result, 'final');
    assert.deepEqual(await s.delivery(REF), { reference: REF, gateway: 'gw-1', kind: 'sms-reminder', appointmentId: 'appt-1', status: 'failed', code: 'EC_ABSENT', acceptedAt: '2026-12-01T08:00:00.000Z', reportedAt: '2026-12-01T08:02:00.000Z' });
    const columns = Object.keys((await t.rows('SELECT * FROM sms_deliveries'))[0]).sort();
    assert.deepEqual(columns, ['accepted_at', 'appointment_id', 'code', 'gateway', 'kind', 'reference', 'reported_at', 'status']);
  });
});
