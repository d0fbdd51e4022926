import assert from 'node:assert/strict';
import { CancelRoutes } from '../../../lib/booking-pages/cancel-routes';
import { upstreamOf } from '../../../nodes/common/flow-graph';

describe('hand-off routing', () => {
  it('finds the booking nodes wired to a session-link node, through other nodes and link nodes', () => {
    const defs = [
      { id: 'b1', type: 'idv-book-appointment', wires: [['fn']] },
      { id: 'fn', type: 'function', wires: [[], ['delay']] },
      { id: 'delay', type: 'delay', wires: [['sl']] },
      { id: 'b2', type: 'idv-book-appointment', wires: [['lo']] },
      { id: 'lo', type: 'link out', mode: 'link', links: ['li'] },
      { id: 'li', type: 'link in', wires: [['sl']] },
      { id: 'b3', type: 'idv-book-appointment', wires: [['off']] },
      { id: 'off', type: 'change', d: true, wires: [['sl']] },
      { id: 'b4', type: 'idv-book-appointment', wires: [['other']] },
      { id: 'other', type: 'idv-session-link', wires: [[], []] },
      { id: 'b5', type: 'idv-book-appointment', wires: [['loop']] },
      { id: 'loop', type: 'function', wires: [['loop', 'sl']] },
      { id: 'sl', type: 'idv-session-link', wires: [[], []] },
    ];
    const { reaching, all } = upstreamOf(defs, 'sl', 'idv-book-appointment');
    assert.deepEqual(reaching, ['b1', 'b2', 'b5'], 'b3 goes through a disabled node, b4 to another session-link');
    assert.deepEqual(all, ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.deepEqual(upstreamOf(defs, 'other', 'idv-book-appointment').reaching, ['b4']);
  });

  it('cancel links use the path that serves them now: the booking node’s own, the recorded one, or any', () => {
    const routes = new CancelRoutes();
    const changes: number[] = [];
    routes.on('change', () => changes.push(1));
    assert.equal(routes.resolve('r1', '/afspraak'), undefined, 'no resident node: no cancel link');
    const r1 = routes.register('r1', '/afspraak');
    const r2 = routes.register('r2', '/boeken');
    assert.equal(routes.resolve('r2', '/afspraak'), '/boeken', 'the booking node, wherever it is now');
    assert.equal(routes.resolve('kcc', '/afspraak'), '/afspraak', 'a KCC booking: its resident path while served');
    assert.ok(routes.serves('/afspraak'));
    r1();
    r1();
    assert.equal(routes.serves('/afspraak'), false);
    assert.equal(routes.resolve('kcc', '/afspraak'), '/boeken', 'moved: any path that is served');
    // A node redeployed on a new path registers before the old registration is withdrawn: the new one stays.
    const moved = routes.register('r2', '/inwoners');
    r2();
    assert.equal(routes.resolve('r2'), '/inwoners');
    moved();
    assert.deepEqual(routes.paths(), []);
    assert.equal(changes.length, 5, 'every real change is announced once');
  });
});
