import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import WebSocket from 'ws';
import { until } from '../../support/identification-test';
import { FAKE_DTLS, joinCall, rtpParametersFor, SignalClient, startHarness, upgradeStatus, type Harness } from './harness';
import { routerRtpCapabilities, turnPassword, type CallEndedEvent, type PeerEvent, type RoomClosedEvent } from '../../../media-server';

describe('media-server/signaling (real worker, real WebSocket)', function () {
  this.timeout(20000);
  let h: Harness;
  const clients: SignalClient[] = [];
  let n = 0;

  /** A fresh appointment with a resident and an agent session for each test, so tests do not share rooms. */
  function appointment(): { id: string; resident: string; agent: string } {
    const id = `appt-${++n}`;
    h.sessions.set(`${id}-r`, { appointmentId: id, role: 'resident', sessionId: `s-${id}-r` });
    h.sessions.set(`${id}-a`, { appointmentId: id, role: 'agent', sessionId: `s-${id}-a` });
    return { id, resident: `${id}-r`, agent: `${id}-a` };
  }
  async function connect(key: string): Promise<SignalClient> {
    const c = await SignalClient.connect(h, key);
    clients.push(c);
    return c;
  }

  before(async () => {
    h = await startHarness({ emptyRoomTimeoutMs: 300, rateLimit: { burst: 30, perSecond: 10 } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(() => h.close());

  describe('upgrade refusals', () => {
    it('answers 401 without a session and 403 for a foreign origin', async () => {
      const a = appointment();
      assert.equal(await upgradeStatus(h.url, { origin: h.origin }), 401);
      assert.equal(await upgradeStatus(h.url, { origin: h.origin, cookie: 'idv_test=forged' }), 401);
      assert.equal(await upgradeStatus(h.url, { origin: 'https://evil.example', cookie: `idv_test=${a.resident}` }), 403);
      assert.equal(await upgradeStatus(h.url, { cookie: `idv_test=${a.resident}` }), 403, 'no Origin header at all');
      assert.equal(h.media.health().connections, 0);
    });

    it('answers 500 when authenticate throws and 401 when it returns a malformed session', async () => {
      const h2 = await startHarness({
        authenticate: async (req) => {
          if (req.headers.cookie === 'boom') throw new Error('store down');
          return { appointmentId: 'x', role: 'admin', sessionId: 's' } as never;
        },
      });
      try {
        assert.equal(await upgradeStatus(h2.url, { origin: h2.origin, cookie: 'boom' }), 500);
        // An internal fault is logged (the client gets only the status).
        await h2.log.expectLine(/\[error\] upgrade failed: store down$/);
        assert.equal(await upgradeStatus(h2.url, { origin: h2.origin, cookie: 'other' }), 401);
      } finally {
        await h2.close();
      }
    });
  });

  describe('a call between resident and agent', () => {
    it('answers capabilities and transports and tells each side about the other', async () => {
      const a = appointment();
      const joined: PeerEvent[] = [];
      const onJoined = (e: PeerEvent): number => joined.push(e);
      h.media.events.on('peerJoined', onJoined);
      const resident = await connect(a.resident);
      const r = await joinCall(resident);
      assert.ok(r.caps.codecs.some((c: { mimeType: string }) => c.mimeType === 'audio/opus'));
      assert.ok(r.caps.codecs.some((c: { mimeType: string }) => c.mimeType === 'video/VP8'));
      assert.ok(r.caps.codecs.some((c: { mimeType: string; parameters: Record<string, unknown> }) => c.mimeType === 'video/H264' && c.parameters['packetization-mode'] === 1));
      assert.equal(JSON.stringify(r.caps), JSON.stringify(routerRtpCapabilities()), 'the capabilities the call page embeds are the router\'s');
      for (const t of [r.send, r.recv]) {
        assert.match(t.id, /^[0-9a-f-]{36}$/);
        assert.ok(t.iceParameters.usernameFragment && t.iceParameters.password);
        assert.ok(t.iceCandidates.length >= 1);
        assert.ok(t.iceCandidates.every((c: { ip: string }) => c.ip === '127.0.0.1'));
        assert.ok(t.dtlsParameters.fingerprints.length > 0);
        assert.deepEqual(t.iceServers, [{ urls: 'turn:turn.example.test:3478', username: 'u', credential: 'c' }]);
      }
      assert.deepEqual(r.join.peers, [], 'nobody else is there yet');

      const agent = await connect(a.agent);
      const g = await joinCall(agent);
      assert.deepEqual(g.join.peers, [{ role: 'resident', videoCodecs: ['video/VP8', 'video/H264'] }], 'with the video codecs the other side decodes');
      const note = await resident.notification('peerJoined');
      assert.deepEqual(note.data, { role: 'agent', videoCodecs: ['video/VP8', 'video/H264'] });
      h.media.events.off('peerJoined', onJoined);
      assert.deepEqual(joined.map((e) => e.role), ['resident', 'agent']);
      assert.ok(joined.every((e) => e.appointmentId === a.id));
    });

    it('creates paused consumers for the other side, resumes on request and closes them in cascade', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      const r = await joinCall(resident);
      const g = await joinCall(agent);
      await resident.request('connectWebRtcTransport', { transportId: r.send.id, dtlsParameters: FAKE_DTLS });
      await agent.request('connectWebRtcTransport', { transportId: g.recv.id, dtlsParameters: FAKE_DTLS });
      const audio = await resident.request('produce', { transportId: r.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 1111), appData: { source: 'mic' } });
      const video = await resident.request('produce', { transportId: r.send.id, kind: 'video', rtpParameters: rtpParametersFor('video', 2222), appData: { source: 'webcam', evil: '<script>' } });
      const first = await agent.waitFor((e) => e.method === 'newConsumer' && e.data.producerId === audio.id);
      const second = await agent.waitFor((e) => e.method === 'newConsumer' && e.data.producerId === video.id);
      assert.equal(first.data.kind, 'audio');
      assert.equal(first.data.peerRole, 'resident');
      assert.deepEqual(first.data.appData, { source: 'mic' });
      assert.deepEqual(second.data.appData, { source: 'webcam' }, 'only the source label is passed on');
      assert.ok(second.data.rtpParameters.codecs.some((c: { mimeType: string }) => c.mimeType === 'video/VP8'));

      const stats = await agent.request('getStats');
      assert.equal(stats.consumers.length, 2);
      await agent.request('resumeConsumer', { consumerId: first.data.id });
      const bad = await agent.raw('resumeConsumer', { consumerId: 'not-mine' });
      assert.equal(bad.error?.code, 'not_found');
      // A consumer of the other side cannot be resumed by the producer's owner.
      assert.equal((await resident.raw('resumeConsumer', { consumerId: first.data.id })).error?.code, 'not_found');

      const before = agent.inbox.length;
      resident.close();
      const left = await agent.notification('peerLeft', 5000, before);
      assert.deepEqual(left.data, { role: 'resident', reason: 'disconnected' });
      await agent.waitFor(() => agent.inbox.filter((e) => e.method === 'consumerClosed').length === 2);
      const closedIds = agent.inbox.filter((e) => e.method === 'consumerClosed').map((e) => e.data.consumerId);
      assert.deepEqual(closedIds.sort(), [first.data.id, second.data.id].sort());
      assert.equal((await agent.request('getStats')).consumers.length, 0);
    });

    it('gives a late joiner consumers for what the other side already sends, video first', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const r = await joinCall(resident);
      const audio = await resident.request('produce', { transportId: r.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 3333) });
      const video = await resident.request('produce', { transportId: r.send.id, kind: 'video', rtpParameters: rtpParametersFor('video', 4444) });
      const agent = await connect(a.agent);
      await joinCall(agent);
      await agent.waitFor(() => agent.inbox.filter((e) => e.method === 'newConsumer').length === 2);
      const announced = agent.inbox.filter((e) => e.method === 'newConsumer').map((e) => e.data.producerId);
      // The picture is what a joining person waits for: its consumer is announced (and so set up) before the sound's.
      assert.deepEqual(announced, [video.id, audio.id]);
      assert.equal((await agent.request('getStats')).consumers.length, 2, 'one consumer per producer, no duplicate');
    });

    it('lets a second connection in the same role replace the first', async () => {
      const a = appointment();
      const first = await connect(a.resident);
      await joinCall(first);
      const second = await connect(a.resident);
      const note = await first.notification('roomClosed');
      assert.deepEqual(note.data, { reason: 'replaced' });
      assert.equal(await first.closed, 4001);
      const again = await joinCall(second);
      assert.deepEqual(again.join.peers, []);
    });

    it("tells the other side why a participant went: stepped away (leave) or connection lost", async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      await joinCall(resident);
      await joinCall(agent);
      await agent.request('leave');
      assert.deepEqual((await resident.notification('peerLeft')).data, { role: 'agent', reason: 'left' });
      const again = await connect(a.agent);
      await joinCall(again);
      const seen = resident.inbox.length;
      again.ws.terminate();
      assert.deepEqual((await resident.notification('peerLeft', 5000, seen)).data, { role: 'agent', reason: 'disconnected' });
      assert.equal(resident.closeCode, undefined, 'the resident stays in the call');
    });

    it("ends the call for both on the agent's end request; a resident may only leave", async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      await joinCall(resident);
      await joinCall(agent);
      const refused = await resident.raw('end');
      assert.equal(refused.ok, false);
      assert.equal(refused.error?.code, 'forbidden');
      assert.equal(h.media.health().rooms >= 1, true, 'a resident cannot end the call');
      const closed = new Promise<RoomClosedEvent>((resolve) => h.media.events.once('roomClosed', resolve));
      agent.ws.send(JSON.stringify({ request: true, id: 99, method: 'end', data: {} }));
      assert.deepEqual((await resident.notification('roomClosed')).data, { reason: 'ended', by: 'agent' });
      assert.deepEqual((await agent.notification('roomClosed')).data, { reason: 'ended', by: 'agent' });
      assert.equal(await resident.closed, 4002);
      assert.equal(await agent.closed, 4002);
      assert.deepEqual(await closed, { appointmentId: a.id, reason: 'closed' });
      assert.equal(resident.inbox.some((e) => e.method === 'peerLeft'), false, 'an ended call is not "the employee stepped away"');
    });

    it('publishes a notification to exactly one participant', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      assert.equal(h.media.publish(a.id, 'resident', { method: 'authRequest', data: { methods: ['digid'] } }), 1);
      const got = await resident.notification('authRequest');
      assert.deepEqual(got.data, { methods: ['digid'] });
      await agent.request('getRouterRtpCapabilities');
      assert.equal(agent.inbox.filter((e) => e.method === 'authRequest').length, 0);
      assert.equal(h.media.publish('appt-nobody', 'resident', { method: 'x' }), 0);
      assert.throws(() => h.media.publish(a.id, 'agent', { method: '' }), /method is required/);
    });

    it('closes an empty room after the timeout and reports the call duration', async () => {
      const a = appointment();
      const ended = new Promise<CallEndedEvent>((resolve) => {
        const on = (e: CallEndedEvent): void => {
          if (e.appointmentId !== a.id) return;
          h.media.events.off('callEnded', on);
          resolve(e);
        };
        h.media.events.on('callEnded', on);
      });
      const closed = new Promise<RoomClosedEvent>((resolve) => {
        const on = (e: RoomClosedEvent): void => {
          if (e.appointmentId !== a.id) return;
          h.media.events.off('roomClosed', on);
          resolve(e);
        };
        h.media.events.on('roomClosed', on);
      });
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      await joinCall(resident);
      await joinCall(agent);
      await new Promise((r) => setTimeout(r, 100));
      await agent.request('leave');
      resident.close();
      const t0 = Date.now();
      const e = await ended;
      assert.ok(Date.now() - t0 >= 250, 'not before the empty-room timeout');
      assert.equal(e.appointmentId, a.id);
      assert.ok(e.durationMs >= 90 && e.durationMs < 5000, `duration ${e.durationMs}`);
      assert.equal((await closed).reason, 'empty');
    });

    it('ends a call from the application side', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      await joinCall(resident);
      assert.equal(h.media.closeRoom(a.id), true);
      const note = await resident.notification('roomClosed');
      assert.deepEqual(note.data, { reason: 'ended' });
      assert.equal(await resident.closed, 4002);
      assert.equal(h.media.closeRoom(a.id), false);
    });
  });

  describe('hostile and broken input', () => {
    it('answers malformed JSON, wrong envelopes and unknown methods with errors, and keeps serving', async () => {
      const a = appointment();
      const c = await connect(a.resident);
      c.ws.send('{not json');
      assert.deepEqual((await c.waitFor((e) => e.response === true && e.id === null)).error?.code, 'bad_request');
      c.ws.send('[1,2,3]');
      c.ws.send('"just a string"');
      c.ws.send(JSON.stringify({ request: true, method: 'join' }));
      c.ws.send(JSON.stringify({ request: true, id: { nested: 1 }, method: 'join' }));
      c.ws.send(JSON.stringify({ request: true, id: 'x'.repeat(65), method: 'join' }));
      c.ws.send(JSON.stringify({ request: true, id: 'seven', method: 42 }));
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      const un = await c.raw('__proto__');
      assert.equal(un.error?.code, 'unknown_method');
      assert.equal((await c.raw('constructor')).error?.code, 'unknown_method');
      assert.equal((await c.raw('join', 'not an object')).error?.code, 'bad_request');
      assert.equal((await c.raw('join', { rtpCapabilities: 'x' })).error?.code, 'bad_request');
      assert.equal((await c.raw('createWebRtcTransport', { direction: 'sideways' })).error?.code, 'bad_request');
      assert.equal((await c.raw('connectWebRtcTransport', { transportId: 'nope', dtlsParameters: FAKE_DTLS })).error?.code, 'not_found');
      assert.equal((await c.raw('produce', { transportId: 'nope', kind: 'audio', rtpParameters: {} })).error?.code, 'not_joined');
      const errors = c.responses.filter((e) => e.ok === false);
      assert.ok(errors.length >= 13, `every broken frame got an answer (${errors.length})`);
      assert.ok(errors.every((e) => !/at |\.js|mediasoup/.test(e.error?.message ?? '')), 'no internals leak');
      // Still fully usable afterwards.
      const r = await joinCall(c);
      assert.ok(r.send.id);
    });

    it('refuses garbage producer and transport parameters without hurting the worker', async () => {
      const a = appointment();
      const c = await connect(a.resident);
      const r = await joinCall(c);
      const pidBefore = h.media.workerPidOf(a.id);
      const garbage: unknown[] = [
        { codecs: 'x' },
        { codecs: [{ mimeType: 'audio/opus' }], encodings: [] },
        { codecs: [{ mimeType: 'video/evil', payloadType: 300, clockRate: -1 }], encodings: [{ ssrc: -5 }] },
        { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 'x'.repeat(1000) }] },
      ];
      for (const rtpParameters of garbage) {
        const res = await c.raw('produce', { transportId: r.send.id, kind: 'audio', rtpParameters });
        assert.equal(res.ok, false);
        assert.equal(res.error?.code, 'bad_request', JSON.stringify(res.error));
      }
      assert.equal((await c.raw('produce', { transportId: r.recv.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 1) })).error?.code, 'bad_request');
      assert.equal((await c.raw('produce', { transportId: r.send.id, kind: 'data', rtpParameters: {} })).error?.code, 'bad_request');
      assert.equal((await c.raw('connectWebRtcTransport', { transportId: r.send.id, dtlsParameters: { fingerprints: 'x' } })).error?.code, 'bad_request');
      assert.equal((await c.raw('connectWebRtcTransport', { transportId: r.send.id, dtlsParameters: { role: 'boss', fingerprints: [{ algorithm: 'md0', value: 1 }] } })).ok, false);
      for (let i = 0; i < 3; i++) {
        await c.request('produce', { transportId: r.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 5000 + i * 10) });
      }
      assert.equal((await c.raw('produce', { transportId: r.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 6000) })).error?.message, 'too many producers');
      assert.equal(h.media.workerPidOf(a.id), pidBefore, 'the worker survived');
      assert.equal(h.media.health().ok, true);
    });

    it('closes the connection on an oversized frame (maxPayload) without affecting others', async () => {
      const a = appointment();
      const big = await connect(a.resident);
      const other = await connect(a.agent);
      big.ws.send(JSON.stringify({ request: true, id: 1, method: 'join', data: { pad: 'x'.repeat(70 * 1024) } }));
      assert.equal(await big.closed, 1009);
      assert.ok((await other.request('getRouterRtpCapabilities')).codecs.length > 0);
    });

    it('rate-limits a flooding connection and finally closes it', async () => {
      const a = appointment();
      const c = await connect(a.resident);
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) c.ws.send(JSON.stringify({ request: true, id: i, method: 'nope' }));
      assert.equal(await c.closed, 1008);
      const seconds = (Date.now() - t0) / 1000;
      const limited = c.responses.filter((e) => e.error?.code === 'rate_limited').length;
      assert.ok(limited >= 50, `rate_limited answers: ${limited}`);
      // The bucket (burst 30, 10 a second) lets through the burst plus what refilled while the flood was read: on a
      // busy machine reading 200 frames takes longer, and the bound follows the time it took, not an idle machine's.
      const through = c.responses.filter((e) => e.error?.code === 'unknown_method').length;
      assert.ok(through <= 30 + Math.ceil(seconds * 10) + 1, `${through} got through in ${seconds.toFixed(2)} s`);
      // A new connection of the same participant is fine.
      const fresh = await connect(a.resident);
      assert.ok(await fresh.request('getRouterRtpCapabilities'));
    });

    it('survives a client that vanishes mid-request', async () => {
      const a = appointment();
      const ws = new WebSocket(h.url, { headers: { origin: h.origin, cookie: `idv_test=${a.resident}` } });
      await once(ws, 'open');
      ws.send(JSON.stringify({ request: true, id: 1, method: 'getRouterRtpCapabilities' }));
      ws.send(JSON.stringify({ request: true, id: 2, method: 'createWebRtcTransport', data: { direction: 'send' } }));
      ws.terminate();
      // The server has seen the socket go (it was this test's only connection; earlier tests' clients are closed by
      // afterEach and counted out as well), with requests of it possibly still in flight: then it must still be well.
      await until('the server to close the vanished connection', () => h.media.health().connections === 0, 15_000);
      assert.equal(h.media.health().ok, true);
      const c = await connect(a.resident);
      assert.ok((await joinCall(c)).send.id);
    });
  });

  describe('codecs, camera pause and TURN credentials', () => {
    it('tells a sender which video codecs the other side decodes (an H.264-only device gets only H.264)', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const caps = await resident.request('getRouterRtpCapabilities');
      const h264Only = { ...caps, codecs: caps.codecs.filter((c: { mimeType: string }) => c.mimeType !== 'video/VP8') };
      await resident.request('join', { rtpCapabilities: h264Only });
      const agent = await connect(a.agent);
      const g = await joinCall(agent);
      assert.deepEqual(g.join.peers, [{ role: 'resident', videoCodecs: ['video/H264'] }]);
    });

    it('reports a paused and resumed producer to the consumer side, and closes a producer on request', async () => {
      const a = appointment();
      const resident = await connect(a.resident);
      const agent = await connect(a.agent);
      const r = await joinCall(resident);
      await joinCall(agent);
      const video = await resident.request('produce', { transportId: r.send.id, kind: 'video', rtpParameters: rtpParametersFor('video', 4444) });
      const nc = await agent.waitFor((e) => e.method === 'newConsumer' && e.data.producerId === video.id);
      assert.equal(nc.data.producerPaused, false);
      // Camera off on the resident's side: the agent's page learns it and shows "Camera uit".
      await resident.request('pauseProducer', { producerId: video.id });
      assert.ok(await agent.waitFor((e) => e.method === 'consumerPaused' && e.data.consumerId === nc.data.id));
      await resident.request('resumeProducer', { producerId: video.id });
      assert.ok(await agent.waitFor((e) => e.method === 'consumerResumed' && e.data.consumerId === nc.data.id));
      assert.equal((await agent.raw('pauseProducer', { producerId: video.id })).error?.code, 'not_found', 'only the owner pauses');
      assert.equal((await resident.raw('closeProducer', { producerId: 'not-mine' })).error?.code, 'not_found');
      assert.equal((await agent.raw('closeProducer', { producerId: video.id })).error?.code, 'not_found', 'only the owner closes a producer');
      await resident.request('closeProducer', { producerId: video.id });
      const closed = await agent.waitFor((e) => e.method === 'consumerClosed' && e.data.consumerId === nc.data.id);
      assert.ok(closed);
    });

    it('hands every participant its own TURN credentials (REST scheme), fresh on ICE restart, after the static servers', async () => {
      const h2 = await startHarness({ turn: { urls: ['turns:turn.example.test:443?transport=tcp', 'turn:turn.example.test:3478'], secret: 'a-test-secret-of-some-length' } });
      try {
        h2.sessions.set('t-r', { appointmentId: 'turn-1', role: 'resident', sessionId: 's-t-r', endsAt: new Date(Date.now() + 3600_000).toISOString() });
        h2.sessions.set('t-a', { appointmentId: 'turn-1', role: 'agent', sessionId: 's-t-a' });
        const resident = await SignalClient.connect(h2, 't-r');
        const agent = await SignalClient.connect(h2, 't-a');
        clients.push(resident, agent);
        const r = await joinCall(resident);
        const g = await joinCall(agent);
        const [staticServer, turn] = r.send.iceServers;
        assert.deepEqual(staticServer, { urls: 'turn:turn.example.test:3478', username: 'u', credential: 'c' });
        assert.deepEqual(turn.urls, ['turn:turn.example.test:3478', 'turns:turn.example.test:443?transport=tcp'], 'TURN/UDP before TURNS');
        const [expiry, id] = turn.username.split(':');
        const now = Date.now() / 1000;
        // Valid for the call: until two hours after the appointment's end (one hour from now), not for ever.
        assert.ok(Number(expiry) > now + 3 * 3600 - 60 && Number(expiry) < now + 3 * 3600 + 60, `expiry ${expiry}`);
        assert.match(id, /^[A-Za-z0-9_-]{12}$/, 'an opaque id, no appointment or person');
        assert.ok(!turn.username.includes('turn-1') && !turn.username.includes('resident'));
        assert.equal(turn.credential, turnPassword('a-test-secret-of-some-length', turn.username));
        const agentTurn = g.send.iceServers[1];
        assert.notEqual(agentTurn.username.split(':')[1], id, 'each participant has its own');
        const restarted = await resident.request('restartIce', { transportId: r.send.id });
        assert.ok(restarted.iceParameters.usernameFragment);
        assert.equal(restarted.iceServers[1].credential, turnPassword('a-test-secret-of-some-length', restarted.iceServers[1].username));
        assert.ok(!JSON.stringify(r).includes('a-test-secret-of-some-length'), 'the secret never reaches a browser');
      } finally {
        await h2.close();
      }
    });
  });
});
