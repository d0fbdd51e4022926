import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import supertest from 'supertest';
import { appointmentStoreOf } from '../../lib/call/deps';
import { mailServiceOf } from '../../lib/mail-service';
import type { Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { hashToken, newToken } from '../../lib/security/tokens';
import { ZONE } from '../../lib/time';
import { baseFlows } from '../support/flows';
import { helper, httpNode, startServices, stopServices } from '../support/node-red';
import { startTestSmtp, type ReceivedMail, type TestSmtpServer } from '../support/smtp';
import { sqliteDb } from '../support/sqlite-rows';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settingsNode = require('../../nodes/idv-settings/idv-settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scheduleNode = require('../../nodes/idv-schedule/idv-schedule');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bookNode = require('../../nodes/idv-book-appointment/idv-book-appointment');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sessionLinkNode = require('../../nodes/idv-session-link/idv-session-link');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function');

type Msg = Record<string, unknown> & { eventId?: string; appointment?: { id: string }; links?: Record<string, string>; duplicate?: boolean };
interface TestNode {
  receive(msg: Msg): void;
  on(event: string, fn: (arg: never) => void): void;
  status: { lastCall?: { args: [{ fill?: string; text?: string }] } };
}

const BASE = 'https://video.testdorp.example';
const PASSWORD = 'staff-password-for-tests-1';
const day = (n: number) => DateTime.now().setZone(ZONE).startOf('day').plus({ days: n });

describe('the durable hand-off from idv-book-appointment to idv-session-link', function () {
  this.timeout(30_000);
  let services: Services;
  let smtp: TestSmtpServer;
  let kccCookie: string;
  let slot = 0;

  before(async () => {
    services = startServices();
    mailServiceOf(services, { backoff: { initialMs: 200, maxMs: 400, maxAttempts: 5 }, timeouts: { connectionTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 4000 }, pollMs: 200 });
    smtp = await startTestSmtp();
    await services.staffStore.upsertUser({ username: 'kcc1', displayName: 'Karin', roles: ['kcc'], passwordHash: await hashPassword(PASSWORD) });
    const login = await services.staff.login('kcc1', PASSWORD);
    assert.ok(login.ok);
    kccCookie = `${services.staff.cookie}=${login.sessionId}`;
  });
  after(async () => {
    await helper.unload();
    await smtp.stop();
    await stopServices();
  });
  afterEach(() => helper.unload());

  /** The shared base flow, with this test's public URL and mail server, and 10-minute slots open now. */
  const base = () =>
    baseFlows('hand-off').map((n) =>
      n.type === 'idv-settings'
        ? { ...n, publicUrl: BASE, smtpHost: '127.0.0.1', smtpPort: smtp.port }
        : n.type === 'idv-schedule'
          ? { ...n, slotMinutes: 10, minNoticeMinutes: 0 }
          : n,
    );
  const book = (id: string, extra: Record<string, unknown>) => ({ id, type: 'idv-book-appointment', schedule: 'schedule', settings: 'settings', topics: ['Paspoort'], phone: 'off', limitPerIp: 10000, limitPerEmail: 10000, ...extra });
  const link = (id: string, wires: string[][], extra: Record<string, unknown> = {}) => ({ id, type: 'idv-session-link', settings: 'settings', agentEmails: 'agent1 = anna@testdorp.example', wires, ...extra });
  const onTab = (nodes: Record<string, unknown>[]) => nodes.map((n) => ({ z: 'tab', ...n }));
  const load = (nodes: Record<string, unknown>[]) => helper.load([settingsNode, scheduleNode, bookNode, sessionLinkNode, functionNode], [...base(), ...onTab(nodes)]);
  const node = (id: string) => helper.getNode(id) as unknown as TestNode;

  /** Collects what a helper node receives. */
  function collect(id: string): Msg[] {
    const got: Msg[] = [];
    node(id).on('input', (m: never) => void got.push(m));
    return got;
  }

  /** A new free start each time: tomorrow from 09:00 on, 10 minutes apart (one agent). */
  const nextStart = () => day(1).plus({ hours: 9, minutes: 10 * slot++ }).toISO() as string;

  async function bookVia(path: string, cookie?: string): Promise<string> {
    const r = httpNode().post(path).set('accept', 'application/json');
    if (cookie) r.set('Cookie', cookie);
    const res = await r.send({ start: nextStart(), name: 'Jan de Vries', email: `jan${slot}@example.org` });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  }

  const mailsFor = (id: string, to?: string): ReceivedMail[] =>
    smtp.received.filter((m) => {
      const ics = m.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8').replace(/\r\n[ \t]/g, '') ?? '';
      return ics.includes(`\r\nUID:${id}@`) && (!to || m.envelope.to.includes(to));
    });

  async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`not in time: ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // Reminders (scheduled rows, not_after set) wait for their moment; every other mail must be gone.
  const outboxEmpty = () => (sqliteDb(services).prepare('SELECT count(*) AS n FROM mail_outbox WHERE not_after IS NULL').get() as { n: number }).n === 0;
  const eventState = (id: string) => (sqliteDb(services).prepare('SELECT state FROM appointment_events WHERE id = ?').get(id) as { state: string } | undefined)?.state;
  const cancelPathIn = (m: ReceivedMail) => new URL(/https:\/\/\S+\/annuleren\/[A-Za-z0-9_-]{43}/.exec(m.parsed.text ?? '')![0]).pathname;

  it('a booking: output 1 carries the event id and the access links, never the cancel link; a repeated message changes nothing', async () => {
    await load([book('b1', { mode: 'resident', path: '/afspraak', wires: [['sl']] }), link('sl', [['out'], []]), { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const id = await bookVia('/afspraak');
    await until('output 1', () => out.length === 1);
    const msg = out[0];
    assert.match(msg.eventId ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.equal(msg.appointment?.id, id);
    assert.deepEqual(Object.keys(msg.links ?? {}).sort(), ['agent', 'resident']);
    assert.equal(msg.duplicate, undefined);
    assert.equal(eventState(msg.eventId!), 'done');
    await until('both mails', () => mailsFor(id).length === 2 && outboxEmpty());
    const confirmation = mailsFor(id, 'jan' + slot + '@example.org')[0] ?? mailsFor(id).find((m) => !m.envelope.to.includes('anna@testdorp.example'))!;
    assert.ok(confirmation.parsed.text?.includes(msg.links!.resident), 'the mail carries the link output 1 reports');
    const cancel = cancelPathIn(confirmation);
    assert.match(cancel, /^\/afspraak\/annuleren\/[A-Za-z0-9_-]{43}$/);
    assert.equal((await httpNode().get(cancel)).status, 200, 'the mailed cancel link works');

    // The same message again (a flow that retries, a node that duplicates): it passes, marked, and nothing happens.
    const linksBefore = sqliteDb(services).prepare('SELECT token_hash FROM access_links WHERE appointment_id = ? ORDER BY role').all(id);
    const received = smtp.received.length;
    node('sl').receive({ ...msg, links: undefined });
    await until('the repeat passes', () => out.length === 2);
    assert.equal(out[1].duplicate, true);
    assert.equal(out[1].links, undefined, 'no new links');
    assert.deepEqual(sqliteDb(services).prepare('SELECT token_hash FROM access_links WHERE appointment_id = ? ORDER BY role').all(id), linksBefore, 'links unchanged');
    assert.ok(outboxEmpty(), 'no mail queued');
    assert.equal(smtp.received.length, received);
  });

  it('refuses a malformed or unknown event id with a reason, changing nothing', async () => {
    await load([link('sl', [['out'], []]), { id: 'out', type: 'helper' }]);
    for (const [eventId, reason] of [
      ['x'.repeat(500), /msg\.eventId must be/],
      [42, /msg\.eventId must be/],
      [newToken(16), /names no event/],
    ] as const) {
      const refused = new Promise<string>((resolve) => node('sl').on('call:error', (c: never) => resolve(String((c as { args: unknown[] }).args[0]))));
      node('sl').receive({ eventId: eventId as string, event: 'booked' });
      const e = await refused;
      assert.match(e, reason);
      assert.ok(!e.includes('xxxxxxxx'), 'the value is not echoed');
    }
    assert.ok(outboxEmpty());
  });

  it('messages a function node drops are handed off by the sweep, with an output-1 message of their own', async () => {
    await load([
      book('b1', { mode: 'resident', path: '/afspraak', wires: [['drop']] }),
      { id: 'drop', type: 'function', func: 'return null;', outputs: 1, wires: [['sl']] },
      link('sl', [['out'], []], { graceSeconds: 0.3, sweepSeconds: 0.1 }),
      { id: 'out', type: 'helper' },
    ]);
    const out = collect('out');
    const ids = [await bookVia('/afspraak'), await bookVia('/afspraak')];
    await until('both handed off by the sweep', () => out.length === 2);
    assert.deepEqual(out.map((m) => m.appointment?.id).sort(), [...ids].sort());
    for (const m of out) {
      assert.match(m.eventId ?? '', /^[A-Za-z0-9_-]{22}$/);
      assert.ok(m.links?.resident && m.links.agent);
      assert.equal(m.event, 'booked');
    }
    await until('the mails', () => ids.every((id) => mailsFor(id).length === 2) && outboxEmpty());
  });

  it('events left pending when the node was not running are handed off at its start', async () => {
    // A booking made while no idv-session-link ran (a deploy without it, a crash): its event waits in the store.
    const start = day(2).plus({ hours: 10 });
    const { appointment, eventId } = await appointmentStoreOf(services).create(
      {
        startUtc: start.toUTC().toISO() as string,
        endUtc: start.plus({ minutes: 10 }).toUTC().toISO() as string,
        topic: 'Paspoort',
        channel: 'website',
        bookedBy: null,
        resident: { name: 'Els', email: 'els@example.org', phone: null, remarks: null },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: newToken(),
        createdAt: new Date().toISOString(),
      },
      { candidates: ['agent1'], dayStartUtc: start.startOf('day').toUTC().toISO() as string, dayEndUtc: start.endOf('day').toUTC().toISO() as string, bufferMinutes: 0, idempotentSinceUtc: new Date().toISOString() },
      { source: 'a-node-that-is-gone', facts: { lang: 'en', cancelPath: '/afspraak' } },
    );
    assert.equal(eventState(eventId as string), 'pending');
    await load([book('b1', { mode: 'resident', path: '/afspraak', wires: [[]] }), link('sl', [['out'], []]), { id: 'out', type: 'helper' }]);
    const out = collect('out');
    await until('handed off at start', () => out.some((m) => m.eventId === eventId));
    await until('its mails', () => mailsFor(appointment.id).length === 2);
    assert.match(mailsFor(appointment.id, 'els@example.org')[0].parsed.subject ?? '', /^Confirmation/, 'in the language of the booking');
  });

  it('a cancellation: its event revokes the links and sends the cancellations once', async () => {
    await load([book('b1', { mode: 'resident', path: '/afspraak', wires: [['sl']] }), link('sl', [['out'], []]), { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const id = await bookVia('/afspraak');
    await until('the confirmation', () => mailsFor(id).length === 2);
    const cancel = cancelPathIn(mailsFor(id).find((m) => !m.envelope.to.includes('anna@testdorp.example'))!);
    const agent = supertest.agent(services.app()!);
    const page = await agent.get(cancel).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    await agent.post(cancel).type('form').send({ _csrf: csrf }).expect(200);
    await until('the cancellation passes', () => out.some((m) => m.event === 'cancelled'));
    const msg = out.find((m) => m.event === 'cancelled')!;
    assert.equal(eventState(msg.eventId!), 'done');
    assert.equal((sqliteDb(services).prepare('SELECT count(*) AS n FROM access_links WHERE appointment_id = ?').get(id) as { n: number }).n, 0);
    await until('the CANCEL mails', () => mailsFor(id).length === 4 && outboxEmpty());
    assert.equal(mailsFor(id).filter((m) => /METHOD:CANCEL/.test(m.parsed.attachments.map((a) => a.content.toString()).join(''))).length, 2);
  });

  it('two session-link nodes on one booking node: each event is carried out once', async () => {
    await load([
      book('b1', { mode: 'resident', path: '/afspraak', wires: [['sl1', 'sl2']] }),
      link('sl1', [['out'], []]),
      link('sl2', [['out'], []]),
      { id: 'out', type: 'helper' },
    ]);
    const out = collect('out');
    const ids = [await bookVia('/afspraak'), await bookVia('/afspraak'), await bookVia('/afspraak')];
    await until('six messages', () => out.length === 6);
    for (const id of ids) {
      const mine = out.filter((m) => m.appointment?.id === id);
      assert.equal(mine.filter((m) => m.duplicate === true).length, 1, 'one node did it, the other passed it as a duplicate');
      assert.equal(mine.filter((m) => m.links?.resident).length, 1);
    }
    // With the outbox empty nothing more can go out: two each is final (a duplicate would have arrived or wait here).
    await until('mails', () => ids.every((id) => mailsFor(id).length === 2) && outboxEmpty());
    assert.ok(ids.every((id) => mailsFor(id).length === 2), 'once each');
  });

  it('when the resident form moves, the KCC node goes red and cancel links follow the path that is served', async () => {
    const flow = (residentPath: string) => [
      book('r1', { mode: 'resident', path: residentPath, wires: [['sl']] }),
      book('k1', { mode: 'kcc', path: '/kcc/afspraak', residentPath: '/afspraak', wires: [['sl']] }),
      link('sl', [['out'], []]),
      { id: 'out', type: 'helper' },
    ];
    await load(flow('/afspraak'));
    assert.equal(node('k1').status.lastCall?.args[0].fill, 'green');
    const before = await bookVia('/kcc/afspraak', kccCookie);
    await until('mails', () => mailsFor(before).length === 2);
    assert.match(cancelPathIn(mailsFor(before).find((m) => !m.envelope.to.includes('anna@testdorp.example'))!), /^\/afspraak\/annuleren\//);

    // The administrator moves the resident form to /boeken and deploys only that node.
    const warned = new Promise<string>((resolve) => node('k1').on('call:warn', (c: never) => resolve(String((c as { args: unknown[] }).args[0]))));
    await helper.setFlows([...base(), ...onTab(flow('/boeken'))], 'nodes');
    const status = node('k1').status.lastCall?.args[0];
    assert.equal(status?.fill, 'red', 'nobody serves the cancel pages its links would name');
    // The test runtime has no message catalogue: the text is the i18n key (the editor shows "no resident form at /afspraak").
    assert.match(String(status?.text), /noResidentRoute|\/afspraak/);
    assert.match(await warned, /noResidentRoute|\/afspraak.*\/boeken/);
    const after = await bookVia('/kcc/afspraak', kccCookie);
    await until('mails', () => mailsFor(after).length === 2);
    const cancel = cancelPathIn(mailsFor(after).find((m) => !m.envelope.to.includes('anna@testdorp.example'))!);
    assert.match(cancel, /^\/boeken\/annuleren\//, 'the link points where the cancel pages are');
    assert.equal((await httpNode().get(cancel)).status, 200);
    assert.equal((await httpNode().get(cancel.replace('/boeken/', '/afspraak/'))).status, 404, 'the old path is gone');
  });
});
