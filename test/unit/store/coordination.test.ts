import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { pendingFlowsOf, type PendingAttempt } from '../../../lib/identification/pending-store';
import { createRateLimiter } from '../../../lib/http/rate-limit';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { allMigrations } from '../../../lib/store/migrations';
import { createPostgresStore } from '../../../lib/store/postgres';
import { postgresMigrations } from '../../../lib/store/postgres/migrations';
import type { PubSubMessage } from '../../../lib/store/pubsub';
import { describeOnPostgres, ENGINES, forEachEngine, type TestStore } from '../../support/engines';
import { freshDatabase, testCluster } from '../../support/postgres';

const T0 = Date.parse('2026-11-30T08:00:00.000Z');

function attempt(extra: Partial<PendingAttempt> = {}): PendingAttempt {
  return {
    kind: 'oidc',
    keyHash: hashToken(newToken()),
    sessionHash: hashToken(newToken()),
    payload: { appointmentId: 'A1', requestId: 'R1', methodId: 'digid', nonce: newToken(), codeVerifier: newToken() },
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...extra,
  };
}

/** Resolves with the first message the handler gets, or rejects after `ms` (a message that never comes). */
function nextMessage(subscribe: (h: (m: PubSubMessage) => void) => () => void, ms = 5000): Promise<PubSubMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no message within ${ms} ms`));
    }, ms);
    const off = subscribe((m) => {
      clearTimeout(timer);
      off();
      resolve(m);
    });
  });
}

forEachEngine('coordination through the store', (engine) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  describe('pending identifications', () => {
    it('an attempt is taken once: twenty parallel takes over two stores give one "taken", the rest "replayed"', async () => {
      const a = attempt();
      await t.store.pendingIdentifications.put(a);
      const other = await t.another();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? other : t.store).pendingIdentifications.take('oidc', a.keyHash, T0 + 1000)),
      );
      const taken = results.filter((r) => r.status === 'taken');
      assert.equal(taken.length, 1);
      assert.equal(results.filter((r) => r.status === 'replayed').length, 19);
      assert.deepEqual(taken[0].status === 'taken' && taken[0].attempt, a);
      assert.equal(await t.count('SELECT count(*) AS n FROM identification_pending'), 0, 'the secrets of the attempt are gone');
    });

    it('unknown, expired and per-kind keys; peek does not take; counts and purge', async () => {
      const store = t.store.pendingIdentifications;
      assert.deepEqual(await store.take('oidc', hashToken('nothing'), T0), { status: 'unknown' });
      const old = attempt({ expiresAt: T0 + 10 });
      await store.put(old);
      const live = attempt();
      await store.put(live);
      assert.equal(await store.countOpen(T0 + 100), 1);
      assert.equal(await store.peek('oidc', old.keyHash, T0 + 100), undefined, 'an expired attempt is not shown');
      assert.deepEqual(await store.peek('oidc', live.keyHash, T0 + 100), live);
      assert.deepEqual(await store.take('idcontact-attr', live.keyHash, T0 + 100), { status: 'unknown' }, 'kinds are separate key spaces');
      const expired = await store.take('oidc', old.keyHash, T0 + 100);
      assert.equal(expired.status, 'expired', 'found but too late: gone, and not usable');
      assert.equal((await store.take('oidc', live.keyHash, T0 + 100)).status, 'taken');
      assert.equal(await store.purgeExpired(T0 + 700_000), 2, 'both tombstones after their time');
      assert.deepEqual(await store.take('oidc', live.keyHash, T0 + 700_001), { status: 'unknown' });
    });

    it('refuses what is not an attempt: no raw secrets as keys, no big payloads, no duplicates', async () => {
      const store = t.store.pendingIdentifications;
      await assert.rejects(store.put(attempt({ keyHash: newToken() })), /SHA-256/);
      await assert.rejects(store.put(attempt({ payload: { blob: 'x'.repeat(5000) } })), /4000/);
      await assert.rejects(store.put(attempt({ expiresAt: T0 })), /expire/);
      const a = attempt();
      await store.put(a);
      await assert.rejects(store.put({ ...a }));
      assert.equal(await t.count('SELECT count(*) AS n FROM identification_pending'), 1);
    });
  });

  it('started OIDC sign-ins (residents and staff) wait in the store: taken once on any instance, kinds apart', async () => {
    const other = await t.another();
    const staffA = pendingFlowsOf(t.store.pendingIdentifications, 'staff-oidc');
    const staffB = pendingFlowsOf(other.pendingIdentifications, 'staff-oidc');
    const residents = pendingFlowsOf(other.pendingIdentifications, 'oidc');
    const { kind: _kind, ...flow } = attempt();
    await staffA.put(flow);
    assert.equal(await staffB.countOpen(T0), 1);
    assert.equal(await residents.countOpen(T0), 0);
    assert.equal((await residents.take(flow.keyHash, T0)).status, 'unknown', 'a staff state is no resident state');
    const takes = await Promise.all([staffA.take(flow.keyHash, T0), staffB.take(flow.keyHash, T0)]);
    assert.deepEqual(takes.map((r) => r.status).sort(), ['replayed', 'taken']);
    const taken = takes.find((r) => r.status === 'taken');
    assert.deepEqual(taken?.status === 'taken' && taken.attempt, flow);
  });

  describe('pub/sub', () => {
    it("a publisher's own subscribers get its messages, asynchronously, as JSON", async () => {
      const got = nextMessage((h) => t.store.pubsub.subscribe('agent', h));
      await t.store.pubsub.listening();
      let syncDelivered = false;
      const off = t.store.pubsub.subscribe('agent', () => (syncDelivered = true));
      await t.store.pubsub.listening();
      const p = t.store.pubsub.publish('agent', { username: 'agent1', message: { type: 'appointments' } });
      assert.equal(syncDelivered, false, 'never delivered inside publish()');
      await p;
      assert.deepEqual(await got, { username: 'agent1', message: { type: 'appointments' } });
      off();
    });

    it('refuses unknown topics and large messages', async () => {
      await assert.rejects(t.store.pubsub.publish('everyone' as 'agent', {}), /topic/);
      await assert.rejects(t.store.pubsub.publish('agent', { blob: 'x'.repeat(5000) }), /4000/);
    });
  });

  describe('background jobs leased across instances', () => {
    it('two stores claiming due events at once take disjoint sets (SKIP LOCKED on PostgreSQL, one writer on SQLite)', async () => {
      const other = await t.another();
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const start = new Date(Date.parse('2026-12-01T08:00:00.000Z') + i * 3600_000).toISOString();
        const r = await t.store.appointments.create(
          {
            startUtc: start,
            endUtc: new Date(Date.parse(start) + 1800_000).toISOString(),
            topic: 'Paspoort',
            channel: 'website',
            bookedBy: null,
            resident: { name: `R${i}`, email: `r${i}@example.nl`, phone: null, remarks: null },
            cancelTokenHash: hashToken(newToken()),
            idempotencyKey: newToken(),
            createdAt: new Date(T0).toISOString(),
          },
          { candidates: ['agent1'], dayStartUtc: '2026-11-30T23:00:00.000Z', dayEndUtc: '2027-01-31T23:00:00.000Z', bufferMinutes: 0, idempotentSinceUtc: new Date(T0).toISOString() },
          { source: 'book-1' },
        );
        ids.push(r.eventId!);
      }
      const lease = (instance: string) => ({ token: randomUUID(), instance, nowIso: new Date(T0 + 60_000).toISOString(), untilIso: new Date(T0 + 120_000).toISOString() });
      const filter = { kinds: ['booked'], createdBeforeIso: new Date(T0 + 60_000).toISOString(), sources: ['book-1'] };
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? other : t.store).events.claimDue(filter, lease(`inst-${i % 2}`), 5)),
      );
      const claimed = batches.flat().map((e) => e.id);
      assert.equal(claimed.length, 30, 'every due event claimed');
      assert.equal(new Set(claimed).size, 30, 'none twice');
      assert.deepEqual([...claimed].sort(), [...ids].sort());
    });
  });

  it('the health probe writes for real and answers ok', async () => {
    assert.deepEqual(await t.store.probe.check(), { ok: true });
    assert.ok((await t.rows(`SELECT value FROM kv WHERE key = 'health.write-probe'`)).length === 1);
  });
});

describeOnPostgres('coordination through PostgreSQL between instances', () => {
  const pgEngine = ENGINES.find((e) => e.name === 'postgres')!;
  let t: TestStore;
  before(async function () {
    this.timeout(60_000);
    await testCluster();
  });
  beforeEach(async () => {
    t = await pgEngine.open();
  });
  afterEach(() => t.close());

  it("LISTEN/NOTIFY: a push made on one instance reaches another instance's subscriber, and not a foreign schema's", async () => {
    const other = await t.another();
    const foreign = await pgEngine.open();
    try {
      const reached = nextMessage((h) => other.pubsub.subscribe('agent', h));
      let leaked = 0;
      foreign.store.pubsub.subscribe('agent', () => leaked++);
      await Promise.all([other.pubsub.listening(), foreign.store.pubsub.listening()]);
      const began = Date.now();
      await t.store.pubsub.publish('agent', { username: 'agent1', message: { type: 'presence', appointmentId: 'A1' } });
      assert.deepEqual(await reached, { username: 'agent1', message: { type: 'presence', appointmentId: 'A1' } });
      assert.ok(Date.now() - began < 2000);
      // A second message round trip on the foreign store proves its listener works; it never heard the first.
      const own = nextMessage((h) => foreign.store.pubsub.subscribe('agent', h));
      await foreign.store.pubsub.publish('agent', { ping: 1 });
      await own;
      assert.equal(leaked, 1, 'only its own message');
    } finally {
      await foreign.close();
    }
  });

  it('the listener comes back after its connection is killed, and messages flow again', async () => {
    const other = await t.another();
    let got = 0;
    other.pubsub.subscribe('agent', () => got++);
    await other.pubsub.listening();
    // The server ends every LISTENing session of this database (what a failover or restart does to it).
    const admin = new Client({ connectionString: (await testCluster()).adminUrl });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`);
      assert.ok(killed.rowCount! >= 1);
    } finally {
      await admin.end();
    }
    const deadline = Date.now() + 10_000;
    while (got === 0 && Date.now() < deadline) {
      await t.store.pubsub.publish('agent', { ping: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(got > 0, 'a message arrived after the reconnect');
  });

  it('rate limits count across instances: the same network is one budget, whichever instance it reaches', async () => {
    const other = await t.another();
    const a = createRateLimiter({ windowMs: 60_000, max: 5, store: t.store.rateLimits('test', { windowMs: 60_000, max: 5 }) });
    const b = createRateLimiter({ windowMs: 60_000, max: 5, store: other.rateLimits('test', { windowMs: 60_000, max: 5 }) });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).hit('client-1')));
    assert.equal(results.filter((r) => r.ok).length, 5, 'five in all, not five per instance');
    assert.ok(results.filter((r) => !r.ok).every((r) => r.retryAfterSec >= 1 && r.retryAfterSec <= 60));
    assert.equal((await a.hit('client-2')).ok, true, 'another network has its own budget');
    const keys = await t.rows<{ key: string }>('SELECT key FROM rate_limits ORDER BY key');
    assert.deepEqual(keys.map((k) => k.key), ['test:client-1', 'test:client-2']);
  });

  it('has the twin of every SQLite migration: the same ids and names, so "schema N" means the same on both', () => {
    const names = (list: { id: number; name: string }[]) => list.map((m) => `${m.id} ${m.name}`);
    assert.deepEqual(names(postgresMigrations()), names(allMigrations()));
  });

  it('two instances starting at once migrate once (advisory lock)', async () => {
    const url = await freshDatabase('migrate');
    const stores = Array.from({ length: 4 }, () => createPostgresStore({ url, max: 2 }));
    try {
      await Promise.all(stores.map((s) => s.ready));
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        const rows = (await c.query('SELECT id, count(*)::int AS n FROM schema_migrations GROUP BY id ORDER BY id')).rows;
        assert.deepEqual(rows.map((r: { id: number }) => r.id), postgresMigrations().map((m) => m.id));
        assert.ok(rows.every((r: { n: number }) => r.n === 1));
      } finally {
        await c.end();
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses a database written by a newer version, and leaves it as it is', async () => {
    const url = await freshDatabase('newer');
    const first = createPostgresStore({ url, max: 1 });
    await first.ready;
    await first.close();
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`INSERT INTO schema_migrations (id, name, applied_at) VALUES (999, 'future', 'x')`);
      const later = createPostgresStore({ url, max: 1 });
      const known = postgresMigrations().at(-1)!.id;
      await assert.rejects(later.ready, new RegExp(`newer ID Video \\(schema 999, this version knows ${known}\\)`));
      await assert.rejects(later.appointments.get('x'), /newer ID Video/, 'no statement runs against it');
      await later.close();
      assert.equal((await c.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n, postgresMigrations().length + 1);
    } finally {
      await c.end();
    }
  });

  it('a database that cannot be reached or signed in to is a clear StoreError without the password', async () => {
    const cluster = await testCluster();
    const closed = createPostgresStore({ url: 'postgres://idv:geheim-wachtwoord@127.0.0.1:1/idvideo', max: 1, connectTimeoutMs: 1000 });
    await assert.rejects(closed.ready, (e: Error) => e.name === 'StoreError' && /cannot be reached \(PG_ECONNREFUSED\)/.test(e.message) && !e.message.includes('geheim'));
    await closed.close();
    const missing = createPostgresStore({ url: `postgres://idv@127.0.0.1:${cluster.port}/does_not_exist`, max: 1 });
    await assert.rejects(missing.ready, /database does not exist/);
    await missing.close();
  });

  it('the health probe reports a lock held by another session within about a second, and a server that is gone', async () => {
    const c = new Client({ connectionString: t.url! });
    await c.connect();
    try {
      await t.store.probe.check();
      await c.query('BEGIN');
      await c.query(`SELECT * FROM kv WHERE key = 'health.write-probe' FOR UPDATE`);
      const began = Date.now();
      const state = await t.store.probe.check();
      assert.equal(state.ok, false);
      assert.match(String(state.detail), /^locked by another process \(PG_55P03\)$/);
      assert.ok(Date.now() - began < 3000, `answered in ${Date.now() - began} ms`);
      await c.query('ROLLBACK');
      assert.deepEqual(await t.store.probe.check(), { ok: true });
    } finally {
      await c.end();
    }
    const gone = createPostgresStore({ url: 'postgres://idv@127.0.0.1:1/idvideo', max: 1, connectTimeoutMs: 500 });
    gone.ready.catch(() => undefined);
    const state = await gone.probe.check();
    assert.equal(state.ok, false);
    assert.ok(!String(state.detail).includes('127.0.0.1'), 'no address in the detail');
    await gone.close();
  });
});
