import { strict as assert } from 'node:assert';
import { initialStatus, nextStatus, statusView, type CallStatus, type StatusEvent } from '../../../lib/call-pages/call-status';
import { CLIENT } from '../../../lib/call-pages/texts';
import { AGENT_CLIENT } from '../../../lib/agent-pages/texts';

function run(role: 'resident' | 'agent', ...events: StatusEvent[]): CallStatus {
  return events.reduce(nextStatus, initialStatus(role));
}

describe('call-pages/call-status: what the call page says follows one state machine', () => {
  it('resident: device check, waiting room, call', () => {
    assert.equal(statusView(run('resident')).section, 'device-check');
    const waiting = run('resident', { type: 'connect' }, { type: 'joined', otherHere: false });
    assert.deepEqual([waiting.phase, statusView(waiting).section, statusView(waiting).status], ['waiting', 'waiting', 'waiting']);
    const inCall = nextStatus(waiting, { type: 'peer', present: true });
    assert.deepEqual([inCall.phase, statusView(inCall).section, statusView(inCall).status], ['inCall', 'call', 'agentJoined']);
    // Joining while the agent is already there goes straight into the call.
    assert.equal(run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }).phase, 'inCall');
  });

  it("the agent's end (by:'agent') ends it for the resident with its own heading and what happens next", () => {
    const s = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'ended', by: 'agent' });
    const v = statusView(s);
    assert.deepEqual([s.phase, s.endedBy, v.section, v.heading, v.body, v.canRejoin], ['ended', 'agent', 'ended', 'endedHeadingByAgent', 'endedTextByAgent', true]);
    assert.match(CLIENT.nl[v.body as keyof (typeof CLIENT)['nl']], /neemt de gemeente contact met u op/);
  });

  it('the agent only stepping away (leave) or dropping is "away", not the end, and the call resumes when they return', () => {
    const left = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'peer', present: false, reason: 'left' });
    assert.deepEqual([left.phase, statusView(left).section, statusView(left).heading, statusView(left).body], ['otherAway', 'waiting', 'awayHeading', 'agentLeftText']);
    const dropped = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'peer', present: false, reason: 'disconnected' });
    assert.deepEqual([statusView(dropped).status, statusView(dropped).body], ['agentDisconnected', 'agentDisconnectedText']);
    const back = nextStatus(dropped, { type: 'peer', present: true });
    assert.deepEqual([back.phase, statusView(back).status], ['inCall', 'agentJoined']);
    // Before the agent was ever there, a peerLeft is not "the employee went away".
    const early = run('resident', { type: 'connect' }, { type: 'joined', otherHere: false }, { type: 'peer', present: false, reason: 'left' });
    assert.equal(early.phase, 'waiting');
  });

  it('own hang-up: the status says so, and nothing that arrives later changes it', () => {
    let s = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'hangUp' });
    assert.deepEqual([s.phase, s.endedBy, statusView(s).status, statusView(s).heading], ['ended', 'self', 'endedBySelf', 'endedHeadingBySelf']);
    for (const late of [{ type: 'peer', present: true }, { type: 'joined', otherHere: true }, { type: 'reconnecting' }, { type: 'ended', by: 'agent' }, { type: 'identification', shared: true }] as StatusEvent[]) {
      s = nextStatus(s, late);
    }
    assert.deepEqual([s.phase, s.endedBy, s.identification, statusView(s).status], ['ended', 'self', 'none', 'endedBySelf'], 'never "De medewerker is in het gesprek" after the own hang-up');
  });

  it('the line about verified data follows sharing, deletion and the end of the call', () => {
    let s = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true });
    assert.equal(statusView(s).identification, undefined, 'nothing shared, nothing said');
    s = nextStatus(s, { type: 'identification', shared: true });
    assert.equal(statusView(s).identification, 'identShared');
    s = nextStatus(s, { type: 'identification', shared: false });
    assert.equal(statusView(s).identification, 'identDeleted', '"Verwijder nu" or expiry');
    s = nextStatus(s, { type: 'identification', shared: true });
    s = nextStatus(s, { type: 'ended', by: 'agent' });
    assert.equal(statusView(s).identification, 'identDeleted', 'the end of the call deletes the data, and the page says so');
  });

  it('a reconnect keeps the section, says "reconnecting", then "Verbinding hersteld" once, and re-reads who is there', () => {
    let s = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'reconnecting' });
    assert.deepEqual([statusView(s).section, statusView(s).status], ['call', 'reconnecting']);
    // While we were gone the agent left: the join answer says so, and the page does not claim they are there.
    s = nextStatus(s, { type: 'joined', otherHere: false });
    assert.deepEqual([s.phase, statusView(s).status, s.recovered], ['otherAway', 'agentDisconnected', true]);
    s = run('resident', { type: 'connect' }, { type: 'joined', otherHere: true }, { type: 'reconnecting' }, { type: 'joined', otherHere: true });
    assert.equal(statusView(s).status, 'reconnected');
    s = nextStatus(s, { type: 'joined' });
    assert.equal(statusView(s).status, 'reconnected', 'the media settling afterwards does not overwrite it');
  });

  it('agent: waiting for the resident, resident left or dropped, own end', () => {
    let s = run('agent', { type: 'joined', otherHere: false });
    assert.equal(statusView(s).status, 'waitingForResident');
    s = nextStatus(s, { type: 'peer', present: true });
    assert.equal(statusView(s).status, 'residentJoined');
    s = nextStatus(s, { type: 'peer', present: false, reason: 'left' });
    assert.deepEqual([statusView(s).section, statusView(s).status], ['call', 'residentLeft']);
    s = nextStatus(s, { type: 'peer', present: false, reason: 'disconnected' });
    assert.equal(statusView(s).status, 'residentDisconnected');
    s = nextStatus(s, { type: 'hangUp' });
    assert.deepEqual([s.endedBy, statusView(s).status, statusView(s).canRejoin], ['self', 'endedBySelf', false]);
    // The server's roomClosed by:'agent' after the agent's own end is the agent's own end.
    assert.equal(run('agent', { type: 'joined', otherHere: true }, { type: 'ended', by: 'agent' }).endedBy, 'self');
  });

  it('replaced and failed are final and say why', () => {
    const r = run('resident', { type: 'connect' }, { type: 'joined' }, { type: 'replaced' }, { type: 'joined', otherHere: true });
    assert.deepEqual([r.phase, statusView(r).body], ['replaced', 'replaced']);
    const f = run('resident', { type: 'connect' }, { type: 'failed' }, { type: 'peer', present: true });
    assert.deepEqual([f.phase, statusView(f).heading], ['failed', 'failedHeading']);
  });

  it('every key a view can name has a text in both languages, for both roles', () => {
    const events: StatusEvent[] = [
      { type: 'connect' }, { type: 'joined', otherHere: false }, { type: 'joined', otherHere: true }, { type: 'peer', present: true },
      { type: 'peer', present: false, reason: 'left' }, { type: 'peer', present: false, reason: 'disconnected' }, { type: 'reconnecting' },
      { type: 'identification', shared: true }, { type: 'identification', shared: false }, { type: 'hangUp' }, { type: 'ended' },
      { type: 'ended', by: 'agent' }, { type: 'replaced' }, { type: 'failed' },
    ];
    for (const role of ['resident', 'agent'] as const) {
      for (const lang of ['nl', 'en'] as const) {
        const texts: Record<string, string> = role === 'agent' ? { ...CLIENT[lang], ...AGENT_CLIENT[lang] } : CLIENT[lang];
        // Every pair of events from the start, and each event after each other one: enough to reach every view.
        for (const a of events) {
          for (const b of events) {
            const v = statusView(run(role, { type: 'connect' }, a, b));
            for (const key of [v.status, v.heading, v.body, v.identification]) {
              if (key === undefined) continue;
              assert.ok(texts[key], `${role}/${lang}: no text for "${key}"`);
            }
          }
        }
      }
    }
  });
});
