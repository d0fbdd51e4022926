import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import express from 'express';
import request from 'supertest';
import { createSqliteStore } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';
import { readyRoute } from '../../../lib/runtime/health-route';
import { metricsOf, metricsRoute, type Metrics } from '../../../lib/runtime/metrics';

describe('metrics and readiness', () => {
  let dir: string;
  let store: Store;
  let metrics: Metrics;
  const memos = new Map<string, unknown>();
  const memo = <T>(k: string, f: () => T): T => (memos.has(k) ? (memos.get(k) as T) : (memos.set(k, f()), memos.get(k) as T));

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-metrics-'));
    store = createSqliteStore(path.join(dir, 'idvideo.sqlite'));
    metrics = metricsOf({ memo, store });
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts joins, join time, identification outcomes by reason code, mails and bookings; no appointment id or name in a label', async () => {
    const media = new EventEmitter();
    metrics.watchCall({ media: { events: media, health: () => ({ rooms: 1, connections: 2 }) }, presence: { live: () => ['appt-secret-id'] } });
    metrics.watchCall({ media: { events: media, health: () => ({ rooms: 1, connections: 2 }) }, presence: { live: () => ['appt-secret-id'] } });
    media.emit('peerJoined', { appointmentId: 'appt-secret-id', role: 'resident', joinMs: 180 });
    media.emit('peerJoined', { appointmentId: 'appt-secret-id', role: 'agent', joinMs: 2500 });
    const ident = new EventEmitter();
    metrics.watchIdentification(ident);
    ident.emit('verified', { appointmentId: 'appt-secret-id', attributeSetId: 'set-1', attributeKeys: ['bsn'] });
    ident.emit('failed', { reason: 'cancelled', appointmentId: 'appt-secret-id' });
    const outbox = new EventEmitter();
    metrics.watchOutbox(outbox);
    outbox.emit('sent', { mailId: 'm1' });
    metrics.booked('website');
    metrics.booked('phone');
    metrics.booked('website');
    const text = await metrics.registry.metrics();
    assert.match(text, /^idv_calls_active 1$/m);
    assert.match(text, /^idv_call_joins_total\{role="resident"\} 1$/m, 'a second watch of the same emitter counts nothing twice');
    assert.match(text, /^idv_call_join_seconds_bucket\{le="0.25",role="resident"\} 1$/m);
    assert.match(text, /^idv_call_join_seconds_bucket\{le="2",role="agent"\} 0$/m);
    assert.match(text, /^idv_call_join_seconds_bucket\{le="5",role="agent"\} 1$/m);
    assert.match(text, /^idv_identifications_total\{outcome="verified"\} 1$/m);
    assert.match(text, /^idv_identifications_total\{outcome="cancelled"\} 1$/m);
    assert.match(text, /^idv_mails_total\{outcome="sent"\} 1$/m);
    assert.match(text, /^idv_bookings_total\{channel="website"\} 2$/m);
    assert.match(text, /^idv_bookings_total\{channel="phone"\} 1$/m);
    assert.match(text, /^idv_outbox_mails\{state="pending"\} 0$/m, 'read from the real store');
    assert.doesNotMatch(text, /appt-secret-id|set-1|m1"|bsn/);
  });

  function app(ok: boolean, draining: () => boolean) {
    const a = express();
    const identify = async (req: express.Request) => (req.headers.cookie === 'admin' ? { username: 'a', roles: ['admin'] } : undefined) as never;
    a.get('/readyz', readyRoute({ health: async (only) => ({ ok, checks: Object.fromEntries(only.map((n) => [n, { ok }])) }), draining, identify }));
    a.get('/metrics', metricsRoute({ metrics, identify }));
    a.use((_req, res) => res.status(404).json({ error: 'not_found' }));
    return a;
  }

  it('/readyz: ready while store and media are well; not ready when one is down or while draining', async () => {
    let draining = false;
    const a = app(true, () => draining);
    const ready = await request(a).get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', store: { ok: true }, media: { ok: true }, draining: { ok: true } });
    draining = true;
    const drained = await request(a).get('/readyz');
    assert.equal(drained.status, 503);
    assert.equal(drained.body.status, 'not ready');
    assert.equal(drained.body.draining.ok, false);
    const down = await request(app(false, () => false)).get('/readyz').set('x-forwarded-for', '203.0.113.9');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { status: 'not ready' }, 'through the proxy: no parts named');
  });

  it('/metrics: a local scrape and a signed-in admin get it; through the proxy anyone else gets 404', async () => {
    const a = app(true, () => false);
    const local = await request(a).get('/metrics');
    assert.equal(local.status, 200);
    assert.match(local.headers['content-type'], /text\/plain/);
    assert.match(local.text, /idv_bookings_total/);
    const outside = await request(a).get('/metrics').set('x-forwarded-for', '203.0.113.9');
    assert.equal(outside.status, 404);
    assert.doesNotMatch(outside.text, /idv_/);
    const admin = await request(a).get('/metrics').set('x-forwarded-for', '203.0.113.9').set('cookie', 'admin');
    assert.equal(admin.status, 200);
  });
});
