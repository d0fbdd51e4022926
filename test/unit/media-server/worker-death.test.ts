import { strict as assert } from 'node:assert';
import { joinCall, rtpParametersFor, SignalClient, startHarness, type Harness } from './harness';
import type { WorkerDiedEvent } from '../../../media-server';

describe('media-server: a worker killed during a call', function () {
  this.timeout(20000);
  let h: Harness;
  const clients: SignalClient[] = [];

  before(async () => {
    h = await startHarness({ numWorkers: 2 });
    h.sessions.set('r', { appointmentId: 'death-1', role: 'resident', sessionId: 'sr' });
    h.sessions.set('a', { appointmentId: 'death-1', role: 'agent', sessionId: 'sa' });
    h.sessions.set('other', { appointmentId: 'death-2', role: 'resident', sessionId: 'so' });
  });
  after(async () => {
    for (const c of clients) c.close();
    await h.close();
  });

  it('is replaced, the room\'s participants get rejoin and can set the call up again on the same connection', async () => {
    const resident = await SignalClient.connect(h, 'r');
    const agent = await SignalClient.connect(h, 'a');
    const bystander = await SignalClient.connect(h, 'other');
    clients.push(resident, agent, bystander);
    const r = await joinCall(resident);
    await joinCall(agent);
    await bystander.request('getRouterRtpCapabilities');
    await resident.request('produce', { transportId: r.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 42) });
    await agent.notification('newConsumer');

    const victim = h.media.workerPidOf('death-1');
    assert.ok(victim);
    assert.notEqual(h.media.workerPidOf('death-2'), victim, 'the other room lives on the other worker');
    const died = new Promise<WorkerDiedEvent>((resolve) => h.media.events.once('workerDied', resolve));
    const respawned = new Promise((resolve) => h.media.events.once('workerRespawned', resolve));
    const beforeR = resident.inbox.length;
    const beforeA = agent.inbox.length;
    process.kill(victim, 'SIGKILL');
    await h.log.expectLine(new RegExp(`mediasoup worker ${victim} died`));

    const event = await died;
    assert.deepEqual(event.roomKeys, ['death-1']);
    assert.deepEqual((await resident.notification('rejoin', 5000, beforeR)).data, { reason: 'media-restart' });
    assert.deepEqual((await agent.notification('rejoin', 5000, beforeA)).data, { reason: 'media-restart' });
    assert.equal(bystander.inbox.filter((e) => e.method === 'rejoin').length, 0, 'rooms on other workers are untouched');
    assert.equal(resident.closeCode, undefined, 'the WebSocket stays open');
    await respawned;
    assert.equal(h.media.health().ok, true);
    assert.ok(!h.media.workerPids().includes(victim));

    // Rejoin: the same sequence again, on the same connections.
    const r2 = await joinCall(resident);
    const a2 = await joinCall(agent);
    assert.notEqual(r2.send.id, r.send.id);
    assert.deepEqual(a2.join.peers.map((p: { role: string }) => p.role), ['resident']);
    const pid = h.media.workerPidOf('death-1');
    assert.ok(pid && pid !== victim);
    const p = await resident.request('produce', { transportId: r2.send.id, kind: 'audio', rtpParameters: rtpParametersFor('audio', 43) });
    const nc = await agent.waitFor((e) => e.method === 'newConsumer' && e.data.producerId === p.id);
    assert.equal(nc.data.peerRole, 'resident');
    // The untouched room still answers.
    assert.ok((await bystander.request('createWebRtcTransport', { direction: 'recv' })).id);
  });
});
