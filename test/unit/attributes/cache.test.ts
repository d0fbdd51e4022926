import { strict as assert } from 'node:assert';
import { AttributeCache, type AttributeSetEvent } from '../../../lib/attributes/cache';

const input = (appointmentId = 'appt-1') => ({
  appointmentId,
  requestId: 'req-1',
  methodId: 'digid',
  acr: 'high',
  attributes: [{ key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: '999993653' }],
});


describe('attributes/cache', function () {
  this.timeout(20_000);
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

  /** Timers the test fires itself: expiry is checked without waiting. */
  function fakeTimers() {
    const pending = new Map<number, { fn: () => void; ms: number }>();
    let next = 1;
    return {
      pending,
      set: (fn: () => void, ms: number) => {
        pending.set(next, { fn, ms });
        return next++;
      },
      clear: (h: unknown) => void pending.delete(h as number),
      fireAll() {
        for (const [h, t] of [...pending]) {
          pending.delete(h);
          t.fn();
        }
      },
    };
  }
  type Inner = { attributes: { value: string }[] };
  const innerOf = (c: AttributeCache, id: string) => (c as unknown as { cache: { get(k: string): Inner } }).cache.get(id);
  const withInner = (c: AttributeCache, id: string): Inner => {
    const inner = innerOf(c, id);
    assert.equal(inner.attributes[0]?.value, '999993653');
    return inner;
  };

  it('expires each set by its own timer at exactly its TTL, wiping the stored object (controllable clock)', () => {
    const timers = fakeTimers();
    const c = new AttributeCache({ checkPeriodSec: 3600, timers });
    const events: AttributeSetEvent[] = [];
    c.on('expired', (e) => events.push(e));
    try {
      const id = c.put(input(), 90);
      const inner = withInner(c, id);
      assert.deepEqual([...timers.pending.values()].map((t) => t.ms), [90_000], 'one timer for exactly the TTL, whatever the sweep period');
      timers.fireAll();
      assert.equal(inner.attributes.length, 0, 'wiped in place');
      assert.equal(c.get(id), undefined);
      assert.equal(c.stats().sets, 0);
      assert.deepEqual(events, [{ attributeSetId: id, appointmentId: 'appt-1' }]);
      assert.ok(!JSON.stringify(events).includes('999993653'));
    } finally {
      c.close();
    }
  });

  // The exact timer is proven above with fake timers; this proves the real timers are the ones wired. The upper bound
  // is the claim (its TTL, not the next hourly sweep), with room for a busy machine, not an idle machine's second.
  it('with a one-hour sweep period, a 1 s set is gone at its TTL, not at the next sweep (real clock, waits for the event)', async () => {
    const c = new AttributeCache({ checkPeriodSec: 3600 });
    try {
      const started = Date.now();
      const id = c.put(input(), 1);
      const inner = withInner(c, id);
      const expired = new Promise<number>((resolve) => c.once('expired', () => resolve(Date.now())));
      const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not expired within TTL + 10 s')), 11_000).unref());
      const at = await Promise.race([expired, deadline]);
      // Node's timers count from the event loop's cached clock, which can lag Date.now() by a few ms: the set may go a
      // little before its second is up (the safe side). The upper bound is the claim (gone by TTL + 10 s on a busy
      // machine), not a speed measurement.
      assert.ok(at - started >= 980 && at - started < 11_000, `expired after ${at - started} ms`);
      assert.equal(inner.attributes.length, 0);
      assert.equal(c.get(id), undefined);
    } finally {
      c.close();
    }
  });

  it("node-cache's own expiry on read also wipes and reports (the path when its clock is ahead of our timer)", () => {
    const timers = fakeTimers();
    const c = new AttributeCache({ checkPeriodSec: 3600, timers });
    const events: AttributeSetEvent[] = [];
    c.on('expired', (e) => events.push(e));
    try {
      const id = c.put(input(), 60);
      const inner = withInner(c, id);
      // Age the entry inside node-cache (its stored expiry time, under lib/memory/exact-cache.ts) instead of waiting a minute.
      (c as unknown as { cache: { cache: { data: Record<string, { t: number }> } } }).cache.cache.data[id].t = Date.now() - 1;
      assert.equal(c.get(id), undefined);
      assert.equal(inner.attributes.length, 0);
      assert.equal(timers.pending.size, 0, 'its own timer is gone with it');
      assert.deepEqual(events, [{ attributeSetId: id, appointmentId: 'appt-1' }]);
    } finally {
      c.close();
    }
  });

  it('flush and close wipe every stored object and stop every timer', () => {
    for (const end of ['flush', 'close'] as const) {
      const timers = fakeTimers();
      const c = new AttributeCache({ timers });
      const deleted: AttributeSetEvent[] = [];
      c.on('deleted', (e) => deleted.push(e));
      const ids = [c.put(input('A'), 60), c.put(input('B'), 120)];
      const inners = ids.map((id) => withInner(c, id));
      c[end]();
      assert.ok(inners.every((i) => i.attributes.length === 0), `${end} wiped`);
      assert.equal(timers.pending.size, 0, `${end} cleared the timers`);
      assert.equal(c.stats().sets, 0);
      assert.equal(deleted.length, 2);
      if (end === 'flush') {
        assert.equal(c.get(ids[0]), undefined);
        c.close();
      }
    }
  });

  it('delete removes the set and wipes the stored object', () => {
    const deleted: AttributeSetEvent[] = [];
    cache.on('deleted', (e) => deleted.push(e));
    const id = cache.put(input(), 60);
    // Peek at the single stored copy the way a leaked reference would see it.
    const inner = withInner(cache, id);
    assert.equal(cache.delete(id), true);
    assert.equal(inner.attributes.length, 0, 'wiped in place');
    assert.equal(cache.get(id), undefined);
    assert.equal(cache.delete(id), false);
    assert.deepEqual(deleted, [{ attributeSetId: id, appointmentId: 'appt-1' }]);
  });

  it('deleteForAppointment (call end) removes and wipes only that appointment\'s sets', () => {
    const deleted: AttributeSetEvent[] = [];
    cache.on('deleted', (e) => deleted.push(e));
    const a1 = cache.put(input('A'), 60);
    const a2 = cache.put(input('A'), 60);
    const b = cache.put(input('B'), 60);
    const inners = [a1, a2].map((id) => withInner(cache, id));
    assert.deepEqual(cache.idsForAppointment('A').sort(), [a1, a2].sort());
    assert.deepEqual(cache.deleteForAppointment('A').sort(), [a1, a2].sort());
    assert.ok(inners.every((i) => i.attributes.length === 0), 'wiped in place');
    assert.deepEqual(deleted.map((e) => e.appointmentId), ['A', 'A']);
    assert.equal(withInner(cache, b).attributes.length, 1, 'the other appointment keeps its set');
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
