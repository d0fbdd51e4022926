import { strict as assert } from 'node:assert';
import { AttributeCache, type AttributeSetEvent } from '../../../lib/attributes/cache';

const input = (appointmentId = 'appt-1') => ({
  appointmentId,
  requestId: 'req-1',
  methodId: 'digid',
  acr: 'high',
  attributes: [{ key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: '999993653' }],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('attributes/cache', function () {
  this.timeout(10_000);
  let cache: AttributeCache;
  beforeEach(() => {
    cache = new AttributeCache({ checkPeriodSec: 1 });
  });
  afterEach(() => cache.close());

  it('stores under an unguessable id and hands out copies', () => {
    const id = cache.put(input(), 60);
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    const a = cache.get(id)!;
    assert.equal(a.attributes[0]!.value, '999993653');
    a.attributes[0]!.value = 'changed';
    assert.equal(cache.get(id)!.attributes[0]!.value, '999993653');
    assert.notEqual(cache.put(input(), 60), id);
    assert.equal(cache.has(id), true);
  });

  it('the TTL really removes the set, even without a read, with an expired event carrying references only', async () => {
    const events: AttributeSetEvent[] = [];
    cache.on('expired', (e) => events.push(e));
    const id = cache.put(input(), 1);
    await sleep(2300);
    // The sweep ran on its own: the event came before any get().
    assert.deepEqual(events, [{ attributeSetId: id, appointmentId: 'appt-1' }]);
    assert.equal(cache.get(id), undefined);
    assert.equal(cache.stats().sets, 0);
    assert.ok(!JSON.stringify(events).includes('999993653'));
  });

  it('delete removes the set and wipes the stored object', () => {
    const deleted: AttributeSetEvent[] = [];
    cache.on('deleted', (e) => deleted.push(e));
    const id = cache.put(input(), 60);
    // Peek at the single stored copy the way a leaked reference would see it.
    const inner = (cache as unknown as { cache: { get(k: string): { attributes: { value: string }[] } } }).cache.get(id);
    assert.equal(inner.attributes.length, 1);
    assert.equal(cache.delete(id), true);
    assert.equal(inner.attributes.length, 0, 'wiped in place');
    assert.equal(cache.get(id), undefined);
    assert.equal(cache.delete(id), false);
    assert.deepEqual(deleted, [{ attributeSetId: id, appointmentId: 'appt-1' }]);
  });

  it('deleteForAppointment removes only that appointment\'s sets', () => {
    const a1 = cache.put(input('A'), 60);
    const a2 = cache.put(input('A'), 60);
    const b = cache.put(input('B'), 60);
    assert.deepEqual(cache.idsForAppointment('A').sort(), [a1, a2].sort());
    assert.deepEqual(cache.deleteForAppointment('A').sort(), [a1, a2].sort());
    assert.equal(cache.has(a1) || cache.has(a2), false);
    assert.equal(cache.has(b), true);
  });

  it('refuses junk ids and bad input', () => {
    for (const id of ['', 'x', '../../etc', 'a'.repeat(43) + '!', '__proto__']) {
      assert.equal(cache.get(id), undefined);
      assert.equal(cache.delete(id), false);
    }
    assert.throws(() => cache.put(input(), 0), /lifetime/);
    assert.throws(() => cache.put(input(), 1.5), /lifetime/);
    assert.throws(() => cache.put({ ...input(), appointmentId: '' }, 10), /appointmentId/);
  });

  it('refuses to grow beyond maxSets', () => {
    const small = new AttributeCache({ maxSets: 2 });
    try {
      small.put(input(), 60);
      small.put(input(), 60);
      assert.throws(() => small.put(input(), 60), /Too many/);
    } finally {
      small.close();
    }
  });
});
