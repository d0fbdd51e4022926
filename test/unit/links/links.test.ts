import assert from 'node:assert/strict';
import { createLinkService, validityWindow, type LinkService } from '../../../lib/links';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { forEachEngine, type TestStore } from '../../support/engines';

describe('access links: validityWindow', () => {
  const start = '2026-12-01T09:30:00.000Z';
  const end = '2026-12-01T10:00:00.000Z';
  const window = validityWindow(start, end);
  it('opens 30 minutes before and closes 60 minutes after by default', () => {
    assert.deepEqual(window, { validFrom: '2026-12-01T09:00:00.000Z', validUntil: '2026-12-01T11:00:00.000Z' });
  });
  it('takes other margins and offset times', () => {
    assert.deepEqual(validityWindow('2026-12-01T10:30:00+01:00', new Date(end), { beforeMinutes: 5, afterMinutes: 0 }), {
      validFrom: '2026-12-01T09:25:00.000Z',
      validUntil: '2026-12-01T10:00:00.000Z',
    });
  });
  it('refuses bad input', () => {
    assert.throws(() => validityWindow(end, start), /end must be after start/);
    assert.throws(() => validityWindow('2026-12-01T10:30:00', end), /offset/);
    assert.throws(() => validityWindow('yesterday', end), /start/);
    assert.throws(() => validityWindow(start, end, { beforeMinutes: -1 }), /beforeMinutes/);
    assert.throws(() => validityWindow(start, end, { afterMinutes: 1.5 }), /afterMinutes/);
  });
});

forEachEngine('access links', (engine) => {
  let t: TestStore;
  let clock: Date;
  let links: LinkService;
  const start = '2026-12-01T09:30:00.000Z';
  const end = '2026-12-01T10:00:00.000Z';
  const window = validityWindow(start, end);

  beforeEach(async () => {
    t = await engine.open();
    clock = new Date('2026-12-01T09:15:00.000Z');
    links = createLinkService({ store: t.store.links, now: () => clock });
  });
  afterEach(() => t.close());

  it('issues a token that resolves, and stores only its hash', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await links.resolve(token), {
      status: 'ok',
      appointmentId: 'a1',
      role: 'resident',
      validUntil: '2026-12-01T11:00:00.000Z',
    });
    const dump = JSON.stringify((await t.rows('SELECT * FROM access_links')));
    assert.ok(!dump.includes(token), 'the token itself is not in the database');
    assert.ok(dump.includes(hashToken(token)));
  });

  it('carries the agent username on agent links', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'agent', agentUsername: 'medewerker1', ...window });
    const r = await links.resolve(token);
    assert.equal(r.status, 'ok');
    assert.equal(r.status === 'ok' && r.agentUsername, 'medewerker1');
    assert.equal(r.status === 'ok' && r.role, 'agent');
  });

  it('keeps resident and agent links apart', async () => {
    const resident = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const agent = await links.issue({ appointmentId: 'a1', role: 'agent', ...window });
    assert.notEqual(resident, agent);
    assert.equal(((await links.resolve(resident)) as { role: string }).role, 'resident');
    assert.equal(((await links.resolve(agent)) as { role: string }).role, 'agent');
  });

  it('gives the same invalid for malformed, tampered, truncated, foreign and non-string tokens', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const bad: unknown[] = [
      flipped,
      token.slice(0, 42),
      token + 'A',
      newToken(),
      hashToken(token),
      '',
      ' '.repeat(43),
      token.replace(/.$/, '='),
      "' OR 1=1 --",
      undefined,
      null,
      42,
      { token },
      [token],
    ];
    for (const b of bad) assert.deepEqual(await links.resolve(b), { status: 'invalid' }, `for ${typeof b} ${String(b).length}`);
  });

  it('says too_early before the window without revealing the appointment, invalid after it', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    clock = new Date('2026-12-01T08:59:59.999Z');
    assert.deepEqual(await links.resolve(token), { status: 'too_early', opensAt: '2026-12-01T09:00:00.000Z' });
    clock = new Date('2026-12-01T09:00:00.000Z');
    assert.equal((await links.resolve(token)).status, 'ok');
    clock = new Date('2026-12-01T10:59:59.999Z');
    assert.equal((await links.resolve(token)).status, 'ok');
    clock = new Date('2026-12-01T11:00:00.000Z');
    assert.deepEqual(await links.resolve(token), { status: 'invalid' });
  });

  it('resolving twice (a mail scanner prefetch) changes nothing', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const before = JSON.stringify((await t.rows('SELECT * FROM access_links')));
    const first = await links.resolve(token);
    const second = await links.resolve(token);
    assert.deepEqual(first, second);
    assert.equal(first.status, 'ok');
    assert.equal(JSON.stringify((await t.rows('SELECT * FROM access_links'))), before);
    assert.equal(await t.count('SELECT COUNT(*) AS n FROM call_sessions'), 0, 'no session created');
  });

  it('re-issue replaces the previous link', async () => {
    const old = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const fresh = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    assert.deepEqual(await links.resolve(old), { status: 'invalid' });
    assert.equal((await links.resolve(fresh)).status, 'ok');
    assert.equal(await t.count('SELECT COUNT(*) AS n FROM access_links'), 1);
  });

  it('revoking an appointment kills its links and call sessions, not those of others', async () => {
    const a = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const b = await links.issue({ appointmentId: 'a1', role: 'agent', ...window });
    const other = await links.issue({ appointmentId: 'a2', role: 'resident', ...window });
    const session = await links.createCallSession({ appointmentId: 'a1', role: 'resident' });
    const otherSession = await links.createCallSession({ appointmentId: 'a2', role: 'resident' });
    assert.equal(await links.revokeForAppointment('a1'), 3);
    assert.deepEqual(await links.resolve(a), { status: 'invalid' });
    assert.deepEqual(await links.resolve(b), { status: 'invalid' });
    assert.equal(await links.getCallSession(session), undefined);
    assert.equal((await links.resolve(other)).status, 'ok');
    assert.equal((await links.getCallSession(otherSession))?.appointmentId, 'a2');
  });

  it('refuses bad issue requests with clear errors and writes nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ appointmentId: '', role: 'resident', ...window }, /appointmentId/],
      [{ appointmentId: 'x'.repeat(201), role: 'resident', ...window }, /appointmentId/],
      [{ appointmentId: 'a\n1', role: 'resident', ...window }, /appointmentId/],
      [{ appointmentId: 'a1', role: 'admin', ...window }, /role/],
      [{ appointmentId: 'a1', role: 'resident', agentUsername: 'x', ...window }, /agent links only/],
      [{ appointmentId: 'a1', role: 'resident', validFrom: window.validUntil, validUntil: window.validFrom }, /after validFrom/],
      [{ appointmentId: 'a1', role: 'resident', validFrom: 'soon', validUntil: window.validUntil }, /validFrom/],
      [{ appointmentId: 'a1', role: 'resident', validFrom: window.validFrom }, /validUntil/],
    ];
    for (const [req, re] of cases) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await assert.rejects(links.issue(req as any), (e: Error & { status?: number }) => re.test(e.message) && e.status === 400);
    }
    assert.equal(await t.count('SELECT COUNT(*) AS n FROM access_links'), 0);
  });

  describe('call sessions', () => {
    it('creates a session that expires with the link window, stored hashed', async () => {
      await links.issue({ appointmentId: 'a1', role: 'agent', agentUsername: 'm1', ...window });
      const id = await links.createCallSession({ appointmentId: 'a1', role: 'agent', agentUsername: 'm1' });
      assert.match(id, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await links.getCallSession(id), {
        appointmentId: 'a1',
        role: 'agent',
        agentUsername: 'm1',
        expiresAt: window.validUntil,
      });
      assert.ok(!JSON.stringify((await t.rows('SELECT * FROM call_sessions'))).includes(id));
      clock = new Date(window.validUntil);
      assert.equal(await links.getCallSession(id), undefined);
    });

    it('needs a live link for the same appointment, role and agent', async () => {
      await assert.rejects(links.createCallSession({ appointmentId: 'a1', role: 'resident' }), /not valid/);
      await links.issue({ appointmentId: 'a1', role: 'agent', agentUsername: 'm1', ...window });
      await assert.rejects(links.createCallSession({ appointmentId: 'a1', role: 'agent', agentUsername: 'm2' }), /not valid/);
      await assert.rejects(links.createCallSession({ appointmentId: 'a1', role: 'resident' }), /not valid/);
      clock = new Date('2026-12-01T08:00:00.000Z');
      await assert.rejects(links.createCallSession({ appointmentId: 'a1', role: 'agent', agentUsername: 'm1' }), /not valid/);
    });

    it('unknown, malformed and ended sessions are undefined', async () => {
      await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
      const id = await links.createCallSession({ appointmentId: 'a1', role: 'resident' });
      for (const bad of [newToken(), id.slice(1), '', null, 7, hashToken(id)]) assert.equal(await links.getCallSession(bad), undefined);
      await links.endCallSession(id);
      assert.equal(await links.getCallSession(id), undefined);
    });

    it('revokeCallSessions ends sessions but leaves links working', async () => {
      const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
      const id = await links.createCallSession({ appointmentId: 'a1', role: 'resident' });
      assert.equal(await links.revokeCallSessions('a1'), 1);
      assert.equal(await links.getCallSession(id), undefined);
      assert.equal((await links.resolve(token)).status, 'ok');
    });
  });

  it('survives a restart (same database file, new service)', async () => {
    const token = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    const id = await links.createCallSession({ appointmentId: 'a1', role: 'resident' });
    await t.store.close();
    const again = createLinkService({ store: (await t.another()).links, now: () => clock });
    assert.equal((await again.resolve(token)).status, 'ok');
    assert.equal((await again.getCallSession(id))?.role, 'resident');
  });

  it('purgeExpired removes ended links and sessions only', async () => {
    await links.issue({ appointmentId: 'old', role: 'resident', validFrom: '2026-11-01T09:00:00.000Z', validUntil: '2026-11-01T11:00:00.000Z' });
    const live = await links.issue({ appointmentId: 'a1', role: 'resident', ...window });
    assert.equal(await links.purgeExpired(), 1);
    assert.equal((await links.resolve(live)).status, 'ok');
  });
});
