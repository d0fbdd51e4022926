import assert from 'node:assert/strict';
import type { Store } from '../../../lib/store/store';
import { RoomPinning } from '../../../lib/call/room-pinning';
import { RoomHolds } from '../../../lib/call/room-holds';
import { InstanceLink, FORWARD_HEADER } from '../../../lib/runtime/instance-link';
import { describeOnPostgres, ENGINES, type TestStore } from '../../support/engines';

const quiet = { warn: () => undefined };
const A = { instanceId: 'instance-a', url: 'http://127.0.0.1:1' };
const B = { instanceId: 'instance-b', url: 'http://127.0.0.1:2' };

describeOnPostgres('room directory and pinning across two instances [postgres]', () => {
  let t: TestStore;
  let other: Store;
  const pinnings: RoomPinning[] = [];
  const pin = (store: Store, me: typeof A, o: { draining?: () => boolean; active?: () => string[]; leaseMs?: number; onInstanceGone?: (id: string) => Promise<void> } = {}) => {
    const p = new RoomPinning({ directory: store.rooms, me, leaseMs: o.leaseMs ?? 60_000, active: o.active ?? (() => []), draining: o.draining ?? (() => false), onInstanceGone: o.onInstanceGone, log: quiet });
    pinnings.push(p);
    return p;
  };

  before(async () => {
    t = await ENGINES.find((e) => e.name === 'postgres')!.open();
    other = await t.another();
  });
  // Each test's instances stop at its end: a heartbeat of one test's instance must not touch the next test's rooms.
  afterEach(async () => {
    for (const p of pinnings.splice(0)) await p.close();
  });
  after(async () => {
    await t?.close();
  });

  it('of 20 instances-worth of concurrent first connections exactly one instance owns the room, and all are sent there', async () => {
    const a = pin(t.store, A);
    const b = pin(other, B);
    await Promise.all([a.beat(), b.beat()]);
    const routes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).routeConnection('appt-race')));
    const owner = (await t.store.rooms.owner('appt-race'))!.instanceId;
    for (const [i, r] of routes.entries()) {
      const mine = (i % 2 ? A : B).instanceId === owner;
      assert.equal(r.local, mine, `connection ${i}`);
      if (!r.local) assert.equal(r.owner.instanceId, owner);
    }
    assert.equal(await t.count(`SELECT count(*) AS n FROM media_rooms WHERE appointment_id = 'appt-race'`), 1);
  });

  it('a draining instance claims no new room: the call goes to a live instance that is not draining; its own calls stay', async () => {
    let draining = false;
    const a = pin(t.store, A, { draining: () => draining, active: () => ['appt-kept'] });
    const b = pin(other, B);
    await Promise.all([a.beat(), b.beat()]);
    assert.deepEqual(await a.routeConnection('appt-kept'), { local: true });
    draining = true;
    await a.beat();
    const route = await a.routeConnection('appt-new');
    assert.equal(route.local, false);
    assert.equal(!route.local && route.owner.instanceId, B.instanceId);
    assert.equal(await t.store.rooms.owner('appt-new'), undefined, 'the draining instance claimed nothing');
    assert.deepEqual(await a.routeConnection('appt-kept'), { local: true }, 'a call already here stays here');
    assert.deepEqual((await t.store.rooms.liveInstances()).map((i) => [i.instanceId, i.draining]), [[A.instanceId, true], [B.instanceId, false]]);
  });

  it("an owner that stopped heartbeating loses its rooms when the lease ends; a refused owner is taken over at once, only from that owner", async () => {
    const a = pin(t.store, A, { leaseMs: 2000 });
    const b = pin(other, B, { leaseMs: 2000 });
    await Promise.all([a.beat(), b.beat()]);
    assert.deepEqual(await a.routeConnection('appt-lease'), { local: true });
    assert.equal((await b.routeConnection('appt-lease')).local, false);
    // A stops renewing (its process died): after the lease, B's next connection claims the room.
    await t.exec(`UPDATE media_rooms SET expires_at = now() - interval '1 second' WHERE appointment_id = 'appt-lease'`);
    assert.deepEqual(await b.routeConnection('appt-lease'), { local: true });
    // Takeover on a refused connection: only from the instance that was found dead.
    assert.deepEqual(await a.routeConnection('appt-refused'), { local: true });
    const notTheOwner = await b.ownerGone('appt-refused', { instanceId: 'instance-x', url: 'http://127.0.0.1:3' });
    assert.equal(notTheOwner.local, false, 'a stale report about another instance takes nothing');
    assert.deepEqual(await b.ownerGone('appt-refused', A), { local: true });
    assert.equal((await t.store.rooms.owner('appt-refused'))?.instanceId, B.instanceId);
  });

  it('an instance whose heartbeat lapsed by more than a lease is reported gone once (its jobs are resumed) and forgotten; a refused one at once', async () => {
    const gone: string[] = [];
    let fail = true;
    const b = pin(other, B, {
      leaseMs: 2000,
      onInstanceGone: async (id) => {
        if (fail) throw new Error('store down');
        gone.push(id);
      },
    });
    await b.beat();
    // A's last heartbeat: lease over 1 s ago (within the grace of one more lease: a stalled loop, not taken as dead).
    await t.exec(`INSERT INTO media_instances (instance_id, url, draining, expires_at) VALUES (?, ?, false, now() - interval '1 second')`, A.instanceId, A.url);
    await b.beat();
    assert.deepEqual(gone, []);
    // Over a lease more: gone. The first report fails (store down): A is kept and reported again at the next beat.
    await t.exec(`UPDATE media_instances SET expires_at = now() - interval '3 seconds' WHERE instance_id = ?`, A.instanceId);
    await b.beat();
    assert.equal(await t.count(`SELECT count(*) AS n FROM media_instances WHERE instance_id = '${A.instanceId}'`), 1, 'kept while its jobs could not be resumed');
    fail = false;
    await b.beat();
    await b.beat();
    assert.deepEqual(gone, [A.instanceId], 'reported once, then forgotten');
    assert.equal(await t.count(`SELECT count(*) AS n FROM media_instances WHERE instance_id = '${A.instanceId}'`), 0);
    // A refused address: reported at once, without waiting for the lease.
    await t.exec(`INSERT INTO media_instances (instance_id, url, draining, expires_at) VALUES (?, ?, false, now() + interval '1 minute')`, A.instanceId, A.url);
    await t.exec(`INSERT INTO media_rooms (appointment_id, instance_id, url, expires_at) VALUES ('appt-gone', ?, ?, now() + interval '1 minute')`, A.instanceId, A.url);
    assert.deepEqual(await b.ownerGone('appt-gone', A), { local: true });
    assert.deepEqual(gone, [A.instanceId, A.instanceId]);
  });

  it("who is in a room is kept beside it by its owner only, read for live rooms, and starts empty with a new owner", async () => {
    const a = pin(t.store, A, { leaseMs: 2000 });
    const b = pin(other, B, { leaseMs: 2000 });
    await Promise.all([a.beat(), b.beat()]);
    assert.deepEqual(await a.routeConnection('appt-p'), { local: true });
    await t.store.rooms.setPresence('appt-p', A.instanceId, { resident: true, agent: false, guest: false });
    await other.rooms.setPresence('appt-p', B.instanceId, { resident: false, agent: true, guest: true });
    assert.deepEqual([...(await other.rooms.presenceOf(['appt-p', 'appt-none']))], [['appt-p', { resident: true, agent: false, guest: false }]], 'only the owner writes; read on any instance');
    await t.exec(`UPDATE media_rooms SET expires_at = now() - interval '1 second' WHERE appointment_id = 'appt-p'`);
    assert.equal((await other.rooms.presenceOf(['appt-p'])).size, 0, 'a room whose lease ended shows nobody');
    assert.deepEqual(await b.routeConnection('appt-p'), { local: true });
    assert.deepEqual(await other.rooms.presenceOf(['appt-p']), new Map([['appt-p', { resident: false, agent: false, guest: false }]]), 'a new owner starts empty');
  });

  it('a heartbeat renews the active rooms and drops the ended ones; a clean stop gives all up', async () => {
    const a = pin(t.store, A, { active: () => ['appt-h1'] });
    await a.beat();
    await a.routeConnection('appt-h1');
    // A room of an earlier call on this instance that ended here.
    await t.exec(`INSERT INTO media_rooms (appointment_id, instance_id, url, expires_at) VALUES ('appt-h2', ?, ?, now() + interval '1 minute')`, A.instanceId, A.url);
    await a.beat();
    assert.equal((await t.store.rooms.owner('appt-h1'))?.instanceId, A.instanceId);
    assert.equal(await t.store.rooms.owner('appt-h2'), undefined);
    await a.close();
    assert.equal(await t.store.rooms.owner('appt-h1'), undefined);
    assert.equal((await t.store.rooms.liveInstances()).some((i) => i.instanceId === A.instanceId), false);
  });

  it('a verified set stored before anyone joined pins the room where it lives, kept while the set lives, then let go', async () => {
    // As lib/call/service.ts wires it: active() = rooms with a connection + the appointments RoomHolds reports.
    const holds = new RoomHolds();
    let live = ['appt-held'];
    holds.addSource(() => live);
    // The test must outlive one whole lease, and then a heartbeat and B's lookup must come within the renewed one:
    // RoomPinning reads Date.now() and the database's now(), so no clock can be injected. 3 s is wider than any stall
    // a loaded machine gives between a beat (the pinning's own timer also beats every lease/3) and the lookup after
    // it, at the cost of one 3 s wait.
    const leaseMs = 3000;
    const a = pin(t.store, A, { leaseMs, active: () => holds.held() });
    const b = pin(other, B, { leaseMs });
    holds.onPlaced(async (id) => void (await a.hold(id)));
    await Promise.all([a.beat(), b.beat()]);
    // An ID Contact core started the session on A with its result: nobody has connected yet.
    await holds.placed('appt-held');
    assert.equal((await t.store.rooms.owner('appt-held'))?.instanceId, A.instanceId, 'claimed where the values are');
    // After a whole lease (the claim's own memory is gone), the heartbeat still keeps the room for the live set.
    const since = Date.now();
    while (Date.now() - since <= leaseMs) await new Promise((r) => setTimeout(r, 50));
    await a.beat();
    const route = await b.routeConnection('appt-held');
    assert.equal(!route.local && route.owner.instanceId, A.instanceId, 'the first connection, on B, is sent to A');
    // The set ended (expired, deleted or the call ended): the next heartbeat gives the room up (no connection here).
    live = [];
    await a.beat();
    assert.equal(await t.store.rooms.owner('appt-held'), undefined);
    // A draining instance claims nothing for a new hold.
    const c = pin(t.store, { instanceId: 'instance-c', url: 'http://127.0.0.1:4' }, { leaseMs, draining: () => true });
    await c.beat();
    assert.equal((await c.hold('appt-drain')).local, true, 'nobody holds it: answered here, nothing claimed');
    assert.equal(await t.store.rooms.owner('appt-drain'), undefined);
  });
});

describe('room holds (call memory outside a room)', () => {
  it('merges its sources, forwards a placement to the one listener, never rejects, and stops after removal', async () => {
    const holds = new RoomHolds();
    const off = holds.addSource(() => ['x', 'y']);
    holds.addSource(() => ['y', 'z']);
    assert.deepEqual(holds.held().sort(), ['x', 'y', 'z']);
    off();
    assert.deepEqual(holds.held().sort(), ['y', 'z']);
    await holds.placed('nobody-listens');
    const seen: string[] = [];
    holds.onPlaced(async (id) => {
      seen.push(id);
      throw new Error('directory down');
    });
    await holds.placed('appt-1');
    assert.deepEqual(seen, ['appt-1']);
    holds.onPlaced(undefined);
    await holds.placed('appt-2');
    assert.deepEqual(seen, ['appt-1']);
  });
});

describe('instance link (HMAC between instances)', () => {
  let now = 1_800_000_000_000;
  const a = new InstanceLink('shared-secret-of-the-installation-0123456789', 'instance-a', () => now);
  const b = new InstanceLink('shared-secret-of-the-installation-0123456789', 'instance-b', () => now);
  const outsider = new InstanceLink('another-secret-not-this-installation-98765', 'instance-a', () => now);
  const req = (header: string | undefined, url = '/auth/callback?code=x&state=y', method = 'GET') => ({ method, url, headers: header === undefined ? {} : { [FORWARD_HEADER]: header } });

  it('accepts what another instance signed for this method and target, within 30 s', () => {
    assert.equal(b.check(req(a.sign('GET', '/auth/callback?code=x&state=y'))), 'valid');
    assert.equal(b.check(req(undefined)), 'none');
  });

  it('refuses a forged, altered, re-pointed, late or malformed header', () => {
    const h = a.sign('GET', '/auth/callback?code=x&state=y');
    assert.equal(b.check(req(outsider.sign('GET', '/auth/callback?code=x&state=y'))), 'invalid', 'another secret');
    assert.equal(b.check(req(h, '/auth/agent/sets/s1')), 'invalid', 'pointed at another path');
    assert.equal(b.check(req(h, undefined, 'POST')), 'invalid', 'another method');
    assert.equal(b.check(req(h.replace('instance-a', 'instance-c'))), 'invalid', 'another sender');
    now += 31_000;
    assert.equal(b.check(req(h)), 'invalid', 'replayed late');
    for (const bad of ['', 'x', 'a.b.c', `instance-a.${now}.${'A'.repeat(42)}`, 'é'.repeat(300)]) assert.equal(b.check(req(bad)), 'invalid', JSON.stringify(bad));
  });
});
