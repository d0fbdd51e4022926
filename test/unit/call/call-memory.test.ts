import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { callMemory, PINNED, RECOGNISED, type Marked } from '../../../lib/call/call-memory';
import { isCallMemoryPath } from '../../../lib/call/owner-forward';

describe('call memory routes and their owner (several instances)', () => {
  const run = (req: Partial<Marked>) => {
    let status = 0;
    let body = '';
    let passed = false;
    const res = {
      headersSent: false,
      status(s: number) {
        status = s;
        return this;
      },
      setHeader() {
        return this;
      },
      type() {
        return this;
      },
      json(b: unknown) {
        body = JSON.stringify(b);
        return this;
      },
      send(b: unknown) {
        body = String(b);
        return this;
      },
    } as unknown as Response;
    const r = { method: 'GET', path: '/agent/appointments/a1/new-thing', ...req } as Request;
    callMemory(r, res, () => (passed = true));
    return { passed, status, body };
  };

  it('passes on one instance, and on several when owner-forward recognised the request', () => {
    assert.equal(run({}).passed, true);
    assert.equal(run({ [PINNED]: { error: () => undefined }, [RECOGNISED]: true }).passed, true);
  });

  it('with several instances refuses a marked request owner-forward did not recognise, and says which path', () => {
    const lines: string[] = [];
    const r = run({ [PINNED]: { error: (m: string) => lines.push(m) } });
    assert.equal(r.passed, false);
    assert.equal(r.status, 503);
    assert.doesNotMatch(r.body, /owner-forward|lib\//, 'no internals to the visitor');
    assert.match(lines[0], /^GET \/agent\/appointments\/a1\/new-thing reads a call's memory but lib\/call\/owner-forward\.ts does not/);
  });

  it('recognises the kinds that were missed before (the agent message, a flow document fetch) and not the pages without call memory', () => {
    for (const p of ['/agent/appointments/a1/message', '/idv/documents/tok', '/auth/agent/sets/s1', '/call/chat', '/auth/idcontact/attributes/t']) assert.equal(isCallMemoryPath(p), true, p);
    for (const p of ['/agent/call/a1', '/agent/appointments.json', '/agent/appointments/a1/booking.json', '/call', '/agent', '/idv/documents/a/b']) assert.equal(isCallMemoryPath(p), false, p);
  });
});
