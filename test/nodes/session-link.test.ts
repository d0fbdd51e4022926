import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import express from 'express';
import { DateTime } from 'luxon';
import type { ParsedMail } from 'mailparser';
import supertest from 'supertest';
import { parseBookingMessage } from '../../lib/access/booking-message';
import { callCookieName, requireCallSession } from '../../lib/access/call-session';
import { linkServiceOf } from '../../lib/access/links';
import { planBooked } from '../../lib/access/notifier';
import { createLinkService } from '../../lib/links';
import { createOutbox } from '../../lib/mail/outbox';
import { publicBase } from '../../lib/access/public-base';
import { parseAgentEmails, validateSessionLinkConfig } from '../../lib/access/session-link-config';
import { mailServiceOf } from '../../lib/mail-service';
import { currentServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { newToken } from '../../lib/security/tokens';
import { helper, httpNode, startServices, stopServices } from '../support/node-red';
import { startTestSmtp, type ReceivedMail, type TestSmtpServer } from '../support/smtp';
import { sqliteDb } from '../support/sqlite-rows';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settingsNode = require('../../nodes/idv-settings/idv-settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sessionLinkNode = require('../../nodes/idv-session-link/idv-session-link');

const AUTH = { user: 'idvideo', pass: 'mail-pass-123' };
const PASSWORD = 'agent-password-123';
const BASE = 'https://video.example.nl';

/**
 * Appointment days relative to today, so these tests mean the same at any date (fixed dates here once expired).
 * `inWords` is the Dutch or English date as a person reads it, from Intl rather than from the product's luxon code.
 */
function daysAhead(n: number, clock: string): DateTime {
  return DateTime.fromISO(`${DateTime.now().setZone('Europe/Amsterdam').plus({ days: n }).toISODate()}T${clock}`, { zone: 'Europe/Amsterdam' });
}
/** 10:00 on the Monday after the next switch to summer time (the last Sunday of March), at least a day ahead. */
function mondayAfterSpringForward(): DateTime {
  let year = DateTime.now().setZone('Europe/Amsterdam').year;
  for (;;) {
    const lastSunday = DateTime.fromObject({ year, month: 3, day: 31 }, { zone: 'Europe/Amsterdam' });
    const sunday = lastSunday.minus({ days: lastSunday.weekday % 7 });
    const monday = sunday.plus({ days: 1 }).set({ hour: 10 });
    if (monday > DateTime.now().plus({ days: 1 })) return monday;
    year++;
  }
}
function inWords(dt: DateTime, lang: 'nl' | 'en'): string {
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Amsterdam' })
    .format(dt.toJSDate())
    .replace(',', '');
}
const REJECTED = 'weigeraar@example.org';
const TOKEN_LINK = /^https:\/\/video\.example\.nl\/v\/([A-Za-z0-9_-]{43})$/;

type Msg = Record<string, unknown>;
interface TestNode {
  receive(msg: Msg): void;
  on(event: string, fn: (arg: never) => void): void;
  status: { lastCall?: { args: unknown[] } };
}

function appointmentId(): string {
  return randomBytes(16).toString('base64url');
}

interface BookingOptions {
  id?: string;
  start?: DateTime;
  minutes?: number;
  name?: string;
  email?: string;
  topic?: string;
  remarks?: string;
  lang?: 'nl' | 'en';
  agent?: string;
  event?: 'booked' | 'cancelled';
}

function booking(o: BookingOptions = {}): Msg {
  const start = o.start ?? DateTime.utc().plus({ minutes: 10 }).startOf('minute');
  const end = start.plus({ minutes: o.minutes ?? 30 });
  const id = o.id ?? appointmentId();
  return {
    event: o.event ?? 'booked',
    appointment: {
      id,
      start: start.setZone('Europe/Amsterdam').toISO(),
      end: end.setZone('Europe/Amsterdam').toISO(),
      topic: o.topic ?? 'Paspoort aanvragen',
      agent: o.agent ?? 'agent1',
      channel: 'website',
      bookedBy: null,
    },
    resident: { name: o.name ?? 'Jan de Vries', email: o.email ?? 'jan@example.org', phone: null, remarks: o.remarks ?? null, lang: o.lang ?? 'nl' },
    links: { cancel: `${BASE}/afspraak/annuleren/${newToken()}` },
  };
}

function tokenOf(link: unknown): string {
  const m = TOKEN_LINK.exec(String(link));
  assert.ok(m, 'link has the expected shape');
  return m[1];
}

function calendarOf(mail: ParsedMail): string {
  const part = mail.attachments.find((a) => a.contentType === 'text/calendar');
  assert.ok(part, 'the mail carries a text/calendar part');
  return part.content.toString('utf8');
}

function icsValue(ics: string, name: string): string[] {
  const unfolded = ics.replace(/\r\n[ \t]/g, '');
  return unfolded.split('\r\n').filter((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
}

describe('idv-session-link node', function () {
  this.timeout(20000);
  let services: Services;
  let smtp: TestSmtpServer;
  const cookies: Record<string, string> = {};

  before(async () => {
    services = startServices();
    // Short backoff: the fault tests watch retries happen within seconds. The timeouts are what the silent server
    // test waits out, and long enough that the test SMTP server (in this very process) answers in time on a busy
    // machine: a spurious timeout would be a retry these tests did not ask for.
    mailServiceOf(services, {
      backoff: { initialMs: 150, factor: 1.5, maxMs: 600, maxAttempts: 12 },
      timeouts: { connectionTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 4000 },
      pollMs: 200,
    });
    smtp = await startTestSmtp({ auth: AUTH, rejectRecipients: [REJECTED] });
    const hash = await hashPassword(PASSWORD);
    await services.staffStore.upsertUser({ username: 'agent1', displayName: 'Anna de Vries', roles: ['agent'], passwordHash: hash });
    await services.staffStore.upsertUser({ username: 'agent2', displayName: 'Bram Jansen', roles: ['agent'], passwordHash: hash });
    await services.staffStore.upsertUser({ username: 'kcc1', displayName: 'Karin', roles: ['kcc'], passwordHash: hash });
    for (const u of ['agent1', 'agent2', 'kcc1']) {
      const r = await services.staff.login(u, PASSWORD);
      assert.ok(r.ok);
      cookies[u] = `${services.staff.cookie}=${r.sessionId}`;
    }
  });

  after(async () => {
    await helper.unload();
    await smtp.stop();
    await stopServices();
  });

  afterEach(async () => {
    await helper.unload();
    // Each test starts with an empty outbox, so status colours and counts are its own.
    sqliteDb(services).prepare('DELETE FROM mail_outbox').run();
    if (smtp.mode !== 'accept') await smtp.setMode('accept');
    if (!smtp.listening) smtp.up();
  });

  function flow(extra: Msg = {}, settings: Msg = {}) {
    return [
      {
        id: 'cfg',
        type: 'idv-settings',
        municipality: 'Gemeente Testdorp',
        publicUrl: BASE,
        fromAddress: 'videobellen@testdorp.example',
        smtpHost: '127.0.0.1',
        smtpPort: smtp.port,
        ...settings,
      },
      {
        id: 'sl',
        type: 'idv-session-link',
        settings: 'cfg',
        openBeforeMinutes: 30,
        validAfterMinutes: 60,
        sendResident: true,
        sendAgent: true,
        agentEmails: 'agent1 = anna@testdorp.example\nagent2: bram@testdorp.example',
        wires: [['out1'], ['out2']],
        ...extra,
      },
      { id: 'out1', type: 'helper' },
      { id: 'out2', type: 'helper' },
    ];
  }

  async function load(extra: Msg = {}, settings: Msg = {}, creds: Msg = { cfg: { smtpUser: AUTH.user, smtpPassword: AUTH.pass } }) {
    await helper.load([settingsNode, sessionLinkNode], flow(extra, settings), creds);
    return {
      sl: helper.getNode('sl') as unknown as TestNode,
      out1: helper.getNode('out1') as unknown as TestNode,
      out2: helper.getNode('out2') as unknown as TestNode,
    };
  }

  function next(node: TestNode, timeoutMs = 5000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no message')), timeoutMs);
      node.on('input', (m: never) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }

  /** Output-2 messages until one matches. */
  function problem(node: TestNode, match: (m: Record<string, unknown>) => boolean, timeoutMs = 8000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no matching mail problem')), timeoutMs);
      node.on('input', (m: never) => {
        const mail = (m as Msg).mail as Record<string, unknown>;
        if (match(mail)) {
          clearTimeout(t);
          resolve(mail);
        }
      });
    });
  }

  function refusal(sl: TestNode): Promise<Error> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the message was not refused')), 3000);
      sl.on('call:error', (call: never) => {
        clearTimeout(t);
        resolve(new Error(String((call as { args: unknown[] }).args[0])));
      });
    });
  }

  /** The mails that arrived for an appointment (by invite UID), optionally of one iTIP method. */
  function arrivedFor(id: string, method?: 'REQUEST' | 'CANCEL'): ReceivedMail[] {
    return smtp.received.filter((r) => {
      const part = r.parsed.attachments.find((a) => a.contentType === 'text/calendar');
      const ics = part?.content.toString('utf8').replace(/\r\n[ \t]/g, '') ?? '';
      return ics.includes(`\r\nUID:${id}@`) && (!method || ics.includes(`\r\nMETHOD:${method}\r\n`));
    });
  }

  /** Waits until `count` mails of the appointment arrived. Counting all arrivals would let a late mail of an earlier test pass. */
  async function mailsFor(id: string, count: number, method?: 'REQUEST' | 'CANCEL', timeoutMs = 8000): Promise<ReceivedMail[]> {
    const end = Date.now() + timeoutMs;
    while (arrivedFor(id, method).length < count) {
      if (Date.now() > end) throw new Error(`only ${arrivedFor(id, method).length} of ${count} mails arrived`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return arrivedFor(id, method);
  }

  const idOf = (msg: Msg) => (msg.appointment as Record<string, string>).id;

  /** Books and waits for output 1 and the given number of mails of that appointment. */
  async function book(nodes: { sl: TestNode; out1: TestNode }, o: BookingOptions = {}, mails = 2) {
    const msg = booking(o);
    const out = next(nodes.out1);
    nodes.sl.receive(msg);
    const result = await out;
    return { msg, out: result, mails: await mailsFor(idOf(msg), mails, 'REQUEST') };
  }

  /** Sends the cancellation of a booking and waits for output 1 and the CANCEL mails. */
  async function cancel(nodes: { sl: TestNode; out1: TestNode }, msg: Msg, mails = 2) {
    const out = next(nodes.out1);
    nodes.sl.receive({ ...msg, event: 'cancelled' });
    const result = await out;
    return { out: result, mails: await mailsFor(idOf(msg), mails, 'CANCEL') };
  }

  const byRecipient = (mails: ReceivedMail[], to: string) => {
    const m = mails.find((r) => r.envelope.to.includes(to));
    assert.ok(m, `a mail to ${to}`);
    return m;
  };

  const linkRows = () => sqliteDb(services).prepare('SELECT token_hash, valid_from, valid_until FROM access_links ORDER BY token_hash').all();
  const sessionCount = () => (sqliteDb(services).prepare('SELECT COUNT(*) AS n FROM call_sessions').get() as { n: number }).n;
  const visit = (token: string, cookie?: string) => {
    const r = httpNode().get(`/v/${token}`);
    return cookie ? r.set('Cookie', cookie) : r;
  };
  const callCookie = (res: supertest.Response): string | undefined => {
    const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    return set.find((c) => c.startsWith(`${callCookieName(false)}=`));
  };

  /** A tiny app behind requireCallSession, standing in for the call page. */
  function callPage(role?: 'resident' | 'agent') {
    const app = express();
    app.get('/call', requireCallSession(role ? { role } : {}), (req, res) => {
      res.json({ appointmentId: req.callSession?.appointmentId, role: req.callSession?.role });
    });
    return supertest(app);
  }

  it('a booking produces both mails with links, cancel link and a REQUEST invite, and output 1 carries the links', async () => {
    const nodes = await load();
    const start = mondayAfterSpringForward();
    const { msg, out, mails } = await book(nodes, { start });
    const links = out.links as Record<string, string>;
    assert.equal(links.cancel, (msg.links as Record<string, string>).cancel, 'the cancel link is kept');
    const residentToken = tokenOf(links.resident);
    const agentToken = tokenOf(links.agent);
    assert.notEqual(residentToken, agentToken);
    // Only hashes are stored.
    const stored = JSON.stringify(linkRows());
    assert.ok(!stored.includes(residentToken) && !stored.includes(agentToken));

    const id = (msg.appointment as Record<string, string>).id;
    const resident = byRecipient(mails, 'jan@example.org').parsed;
    assert.equal(resident.subject, `Bevestiging van uw video-afspraak op ${inWords(start, 'nl')} om 10:00`);
    assert.ok(resident.text?.includes(links.resident), 'the access link is in the text');
    assert.ok(resident.text?.includes(links.cancel), 'the cancel link is in the text');
    assert.match(resident.text ?? '', /09:30 uur/, 'opens 30 minutes before, in words');
    assert.ok(String(resident.html).includes(`href="${links.resident}"`));
    const ics = calendarOf(resident);
    assert.deepEqual(icsValue(ics, 'METHOD'), ['METHOD:REQUEST']);
    assert.deepEqual(icsValue(ics, 'UID'), [`UID:${id}@video.example.nl`]);
    // Summer time started the day before: 10:00 in Amsterdam is 08:00 UTC.
    const ymd = start.toFormat('yyyyLLdd');
    assert.deepEqual(icsValue(ics, 'DTSTART'), [`DTSTART:${ymd}T080000Z`]);
    assert.deepEqual(icsValue(ics, 'DTEND'), [`DTEND:${ymd}T083000Z`]);
    assert.deepEqual(icsValue(ics, 'SEQUENCE'), ['SEQUENCE:0']);

    const agent = byRecipient(mails, 'anna@testdorp.example').parsed;
    assert.equal(agent.subject, `Nieuwe video-afspraak op ${inWords(start, 'nl')} om 10:00`);
    assert.match(agent.text ?? '', /^Beste Anna de Vries,/);
    assert.ok(agent.text?.includes(links.agent));
    assert.ok(agent.text?.includes(`${BASE}/agent`), 'the dashboard link');
    assert.ok(!agent.text?.includes(links.resident), "the agent never gets the resident's link");
    assert.deepEqual(icsValue(calendarOf(agent), 'UID'), [`UID:${id}@video.example.nl`]);
    assert.equal(smtp.received.slice(-2).every((r) => r.user === AUTH.user), true, 'sent with the SMTP login of idv-settings');
  });

  it('English for an English-speaking resident', async () => {
    const nodes = await load();
    const start = daysAhead(9, '10:30');
    const { mails } = await book(nodes, { start, lang: 'en' });
    const r = byRecipient(mails, 'jan@example.org').parsed;
    assert.equal(r.subject, `Confirmation of your video appointment on ${inWords(start, 'en')} at 10:30`);
    assert.deepEqual(icsValue(calendarOf(r), 'DTSTART'), [`DTSTART:${start.toUTC().toFormat("yyyyLLdd'T'HHmmss'Z'")}`]);
  });

  it('the resident link sets an HttpOnly call cookie and redirects to /call; the cookie opens the call page', async () => {
    const nodes = await load();
    const { out, msg } = await book(nodes);
    const res = await visit(tokenOf((out.links as Msg).resident));
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/call');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.match(String(res.headers['cache-control']), /no-store/);
    const cookie = callCookie(res);
    assert.ok(cookie, 'a call cookie');
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /Max-Age=\d+/);
    const pair = cookie.split(';')[0];
    const page = await callPage('resident').get('/call').set('Cookie', pair);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body, { appointmentId: (msg.appointment as Msg).id, role: 'resident' });
    assert.equal((await callPage('agent').get('/call').set('Cookie', pair)).status, 403, 'a resident session is no agent session');
    assert.equal((await callPage().get('/call')).status, 401, 'no cookie, no call');
    const api = await callPage().get('/call').set('Accept', 'application/json');
    assert.equal(api.status, 401);
    assert.equal(api.body.error, 'call_session_required');
    assert.equal((await callPage().get('/call').set('Cookie', `${callCookieName(false)}=${newToken()}`)).status, 401);
  });

  it("the agent link needs that very agent's sign-in", async () => {
    const nodes = await load();
    const { out, msg } = await book(nodes);
    const token = tokenOf((out.links as Msg).agent);
    const before = sessionCount();

    const anonymous = await visit(token);
    assert.equal(anonymous.status, 303);
    assert.match(String(anonymous.headers.location), /^\/login\?next=/);
    assert.equal(callCookie(anonymous), undefined);

    const other = await visit(token, cookies.agent2);
    assert.equal(other.status, 403);
    assert.equal(callCookie(other), undefined);
    assert.ok(!other.text.includes(token), 'the refusal does not echo the token');
    const kcc = await visit(token, cookies.kcc1);
    assert.equal(kcc.status, 403);
    assert.equal(sessionCount(), before, 'refusals create no call session');

    const own = await visit(token, cookies.agent1);
    assert.equal(own.status, 303);
    const id = (msg.appointment as Msg).id as string;
    assert.equal(own.headers.location, `/agent/call/${encodeURIComponent(id)}`);
    const pair = callCookie(own)!.split(';')[0];
    // The cookie alone is not enough: the call page wants the agent signed in as well.
    assert.equal((await callPage('agent').get('/call').set('Cookie', pair)).status, 403);
    assert.equal((await callPage('agent').get('/call').set('Cookie', `${pair}; ${cookies.agent2}`)).status, 403);
    const ok = await callPage('agent').get('/call').set('Cookie', `${pair}; ${cookies.agent1}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { appointmentId: id, role: 'agent' });
  });

  it('too early: a friendly page that says when the call opens, in Amsterdam time, and no cookie', async () => {
    const nodes = await load();
    const start = daysAhead(9, '10:30');
    const { out } = await book(nodes, { start });
    const res = await visit(tokenOf((out.links as Msg).resident));
    assert.equal(res.status, 200);
    assert.equal(callCookie(res), undefined);
    assert.match(res.text, /Het gesprek is nog niet geopend/);
    assert.ok(res.text.includes(`${inWords(start, 'nl')} om 10:00 uur`), 'opening time in words, 30 minutes before');
    const en = await httpNode().get(`/v/${tokenOf((out.links as Msg).resident)}?lang=en`);
    assert.ok(en.text.includes(`${inWords(start, 'en')} at 10:00`));
  });

  it('tampered, truncated, foreign, malformed, expired and cancelled links all get the one identical page', async () => {
    const nodes = await load();
    const { out, msg } = await book(nodes);
    const good = tokenOf((out.links as Msg).resident);
    const links = linkServiceOf(services);
    const expired = await links.issue({
      appointmentId: appointmentId(),
      role: 'resident',
      validFrom: DateTime.utc().minus({ hours: 3 }).toISO()!,
      validUntil: DateTime.utc().minus({ hours: 1 }).toISO()!,
    });
    const cancelledBooking = await book(nodes);
    const cancelledToken = tokenOf((cancelledBooking.out.links as Msg).resident);
    await cancel(nodes, cancelledBooking.msg);

    const flip = (t: string) => (t[0] === 'A' ? 'B' : 'A') + t.slice(1);
    const candidates = [
      flip(good),
      good.slice(0, 42),
      good.slice(0, 20),
      `${good}A`,
      newToken(),
      expired,
      cancelledToken,
      '',
      '..%2F..%2Fetc%2Fpasswd',
      `${good.slice(0, 42)}%00`,
      'x'.repeat(5000),
      `${good}/extra`,
      "<script>alert('x')</script>",
    ];
    const bodies = new Set<string>();
    for (const c of candidates) {
      const res = await httpNode().get(`/v/${c}`);
      assert.equal(res.status, 404, `status for candidate ${candidates.indexOf(c)}`);
      assert.equal(callCookie(res), undefined);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(String(res.headers['cache-control']), /no-store/);
      bodies.add(res.text);
    }
    const bare = await httpNode().get('/v');
    bodies.add(bare.text);
    assert.equal(bodies.size, 1, 'every bad link gets the same bytes');
    const body = [...bodies][0];
    assert.match(body, /Deze link werkt niet \(meer\)/);
    assert.ok(!body.includes(good.slice(0, 20)));
    // The real link still works after all that.
    assert.equal((await visit(good)).status, 303);
    void msg;
  });

  it('a prefetch of both links (a mail scanner) changes nothing for resident and agent', async () => {
    const nodes = await load();
    const { out } = await book(nodes);
    const resident = tokenOf((out.links as Msg).resident);
    const agent = tokenOf((out.links as Msg).agent);
    const own = await visit(resident);
    const ownPair = callCookie(own)!.split(';')[0];
    const rowsBefore = linkRows();
    const sessionsBefore = sessionCount();

    // The scanner: no cookies, follows nothing, maybe HEAD first.
    await httpNode().head(`/v/${resident}`);
    const scan = await visit(resident);
    const scanAgent = await visit(agent);
    assert.equal(scanAgent.status, 303);
    assert.equal(callCookie(scanAgent), undefined);
    assert.equal(sessionCount(), sessionsBefore + 2, 'the scanner got sessions of its own only (GET and HEAD of the resident link)');
    assert.deepEqual(linkRows(), rowsBefore, 'links are unchanged: not consumed, not re-issued');

    assert.equal((await callPage().get('/call').set('Cookie', ownPair)).status, 200, "the resident's session still works");
    assert.equal((await visit(resident)).status, 303, 'the link still works');
    assert.equal((await visit(agent, cookies.agent1)).status, 303, "the agent's link still works");
    assert.ok(callCookie(scan));
  });

  it('cancellation revokes links and call sessions and sends CANCEL with the same UID and a higher SEQUENCE', async () => {
    const nodes = await load();
    const { out, msg, mails } = await book(nodes);
    const residentToken = tokenOf((out.links as Msg).resident);
    const session = callCookie(await visit(residentToken))!.split(';')[0];
    const id = (msg.appointment as Msg).id as string;
    const requestUid = icsValue(calendarOf(byRecipient(mails, 'jan@example.org').parsed), 'UID');

    const { out: passed, mails: cancels } = await cancel(nodes, msg);
    assert.equal(passed.event, 'cancelled');
    for (const to of ['jan@example.org', 'anna@testdorp.example']) {
      const m = byRecipient(cancels, to).parsed;
      const ics = calendarOf(m);
      assert.deepEqual(icsValue(ics, 'METHOD'), ['METHOD:CANCEL']);
      assert.deepEqual(icsValue(ics, 'STATUS'), ['STATUS:CANCELLED']);
      assert.deepEqual(icsValue(ics, 'UID'), requestUid);
      assert.deepEqual(icsValue(ics, 'SEQUENCE'), ['SEQUENCE:1']);
      assert.ok(!ics.includes('/v/'), 'a cancellation carries no access link');
    }
    assert.match(byRecipient(cancels, 'jan@example.org').parsed.subject ?? '', /is geannuleerd/);
    assert.equal((sqliteDb(services).prepare('SELECT COUNT(*) AS n FROM access_links WHERE appointment_id = ?').get(id) as { n: number }).n, 0);
    assert.equal((await visit(residentToken)).status, 404);
    assert.equal((await callPage().get('/call').set('Cookie', session)).status, 401, 'the open call session ended too');
  });

  it('header and invite injection through name, topic and remarks is neutralised', async () => {
    const nodes = await load();
    const { mails } = await book(nodes, {
      name: 'Jan "de" Vries\r\nBcc: evil@example.org\r\n',
      topic: 'Paspoort\r\nATTENDEE:mailto:evil@example.org\nEND:VEVENT',
      remarks: 'Hallo\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\n<script>alert(1)</script>',
    });
    for (const r of mails) {
      assert.deepEqual(r.envelope.to.length, 1, 'exactly one recipient');
      assert.ok(!r.envelope.to.includes('evil@example.org'));
      assert.equal(r.parsed.headers.has('bcc'), false);
      assert.ok(!/^Bcc:/im.test(r.raw.toString('utf8').split('\r\n\r\n')[0]), 'no Bcc header in the raw mail');
      const ics = calendarOf(r.parsed);
      assert.equal(icsValue(ics, 'ATTENDEE').length, 1, 'one attendee only');
      assert.equal(ics.match(/^BEGIN:VEVENT/gm)?.length, 1);
      assert.equal(icsValue(ics, 'UID').length, 1);
      for (const line of icsValue(ics, 'ATTENDEE').concat(icsValue(ics, 'ORGANIZER'))) {
        const cn = /CN="([^"]*)"/.exec(line);
        assert.ok(cn, 'CN is one quoted value');
      }
      assert.ok(!String(r.parsed.html).includes('<script>'), 'no markup from input in the HTML part');
    }
    const resident = byRecipient(mails, 'jan@example.org').parsed;
    assert.match(resident.text ?? '', /^Beste Jan "de" Vries Bcc: evil@example\.org,/);
  });

  it('hostile messages are refused with a reason and leave nothing behind', async () => {
    const nodes = await load();
    const linksBefore = linkRows().length;
    const bad: Msg[] = [
      { ...booking(), event: 'rebooked' },
      { ...booking(), appointment: { ...(booking().appointment as Msg), start: '2026-12-01T10:00:00' } },
      { ...booking(), appointment: { ...(booking().appointment as Msg), id: '../x y' } },
      { ...booking(), appointment: { ...(booking().appointment as Msg), agent: 'agent1\r\nx' } },
      { ...booking(), resident: { name: 'Jan', email: 'jan@example.org, evil@example.org', lang: 'nl' } },
      { ...booking(), resident: { name: 'Jan', email: 'jan@example.org', lang: 'de' } },
      { ...booking(), links: { cancel: 'javascript:alert(1)' } },
      { ...booking(), resident: 'Jan' },
    ];
    for (const m of bad) {
      const refused = refusal(nodes.sl);
      nodes.sl.receive(m);
      const e = await refused;
      assert.match(e.message, /^UserError: msg\.|^msg\./, e.message);
      assert.ok(!e.message.includes('evil@example.org') && !e.message.includes('javascript'), 'the reason does not echo values');
    }
    assert.equal(linkRows().length, linksBefore, 'no links issued');
    assert.equal((sqliteDb(services).prepare('SELECT COUNT(*) AS n FROM mail_outbox').get() as { n: number }).n, 0, 'no mail queued');
  });

  it('an agent without a known address: the resident is mailed, the agent mail is skipped with a warning', async () => {
    const nodes = await load({ agentEmails: '' });
    const warned = new Promise<string>((resolve) => nodes.sl.on('call:warn', (call: never) => resolve(String((call as { args: unknown[] }).args[0]))));
    const { mails, out } = await book(nodes, {}, 1);
    assert.equal(mails.length, 1);
    assert.equal(mails[0].envelope.to[0], 'jan@example.org');
    assert.ok((out.links as Msg).agent, 'the agent link is issued anyway');
    const w = await warned;
    assert.ok(!w.includes('@'), 'the warning names no address');
  });

  it('administrator templates are used; invalid settings refuse every message', async () => {
    let nodes = await load({
      templates: { 'resident-confirmation': { nl: { subject: 'Uw afspraak: {{topic}}', text: 'Geachte {{name}},\n\n{{link}}\n\nGroet' } } },
    });
    const { mails, out } = await book(nodes, { topic: 'Rijbewijs' });
    const r = byRecipient(mails, 'jan@example.org').parsed;
    assert.equal(r.subject, 'Uw afspraak: Rijbewijs');
    assert.ok(r.text?.includes((out.links as Msg).resident as string));
    await helper.unload();

    nodes = await load({ templates: { 'resident-confirmation': { nl: { text: 'Geen link hier {{nope}}' } } }, agentEmails: 'agent1 = not an address', openBeforeMinutes: -5 });
    const status = (nodes.sl.status as unknown as { lastCall: { args: [{ fill: string }] } }).lastCall.args[0];
    assert.equal(status.fill, 'red');
    const refused = refusal(nodes.sl);
    nodes.sl.receive(booking());
    const e = await refused;
    assert.match(e.message, /openBeforeMinutes/);
    // The 0.1 text becomes a list (settings version 2): the problem names the entry, never the address.
    assert.match(e.message, /agentEmails entry 1/);
    assert.match(e.message, /\{\{link\}\}/);
    assert.ok(!e.message.includes('not an address'));
  });

  describe('when the mail server misbehaves (output 2 and status)', () => {
    function statusFill(sl: TestNode): string | undefined {
      return (sl.status.lastCall?.args[0] as { fill?: string } | undefined)?.fill;
    }

    async function waitFor(cond: () => boolean | Promise<boolean>, ms = 8000) {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    /**
     * "Exactly once": once the outbox holds nothing pending or being sent, no further delivery can happen, so the
     * number of arrivals is final (a duplicate would be a second row, sent before this or still waiting here).
     */
    async function outboxSettled(): Promise<void> {
      await waitFor(async () => {
        const c = await mailServiceOf(services).outbox.counts();
        return c.pending + c.sending === 0;
      });
    }

    it('refused login: retried, reported, delivered once the server accepts it again', async () => {
      const nodes = await load({ sendAgent: false });
      await smtp.setMode('refuse-auth');
      // The mode change drops the pooled connection; a send racing that drop may first report a connection error.
      const seen = problem(nodes.out2, (m) => m.status === 'retrying' && String(m.errorCode).startsWith('EAUTH'));
      const out = next(nodes.out1);
      const msg = booking();
      nodes.sl.receive(msg);
      await out;
      const p = await seen;
      assert.equal(p.errorCode, 'EAUTH:535');
      assert.equal(p.final, false);
      assert.equal(p.kind, 'resident-confirmation');
      assert.deepEqual(Object.keys(p).sort(), ['appointmentId', 'attempt', 'errorCode', 'final', 'id', 'kind', 'nextAttemptAt', 'status']);
      await waitFor(() => statusFill(nodes.sl) === 'yellow');
      const delivered = problem(nodes.out2, (m) => m.status === 'delivered');
      await smtp.setMode('accept');
      await delivered;
      await mailsFor(idOf(msg), 1);
      await outboxSettled();
      assert.equal(arrivedFor(idOf(msg)).length, 1, 'exactly once');
      await waitFor(() => statusFill(nodes.sl) === 'green');
    });

    it('a rejected recipient: failed for good (final), status red, the agent still gets the announcement', async () => {
      const nodes = await load();
      const failed = problem(nodes.out2, (m) => m.status === 'failed');
      const { mails } = await book(nodes, { email: REJECTED }, 1);
      const p = await failed;
      assert.equal(p.errorCode, 'EENVELOPE:550');
      assert.equal(p.final, true);
      assert.ok(!JSON.stringify(p).includes(REJECTED), 'no address on output 2');
      assert.equal(mails[0].envelope.to[0], 'anna@testdorp.example');
      await waitFor(() => statusFill(nodes.sl) === 'red');
    });

    it('a server that never answers (timeout): retried, then delivered exactly once when it answers', async () => {
      const nodes = await load({ sendAgent: false });
      await smtp.setMode('silent');
      const seen = problem(nodes.out2, (m) => m.status === 'retrying');
      const msg = booking();
      nodes.sl.receive(msg);
      const p = await seen;
      assert.match(String(p.errorCode), /^(ETIMEDOUT|ECONNECTION|ESOCKET)/);
      const dataBefore = smtp.dataCommands;
      await smtp.setMode('accept');
      await mailsFor(idOf(msg), 1);
      await outboxSettled();
      assert.equal(arrivedFor(idOf(msg)).length, 1);
      assert.equal(smtp.dataCommands, dataBefore + 1, 'one DATA transaction: no duplicate');
    });

    it('a server that goes away and comes back: no mail lost, each delivered once', async () => {
      const nodes = await load();
      smtp.down();
      const seen = problem(nodes.out2, (m) => m.status === 'retrying');
      const out = next(nodes.out1);
      const msg = booking();
      nodes.sl.receive(msg);
      const passed = await out;
      assert.ok((passed.links as Msg).resident, 'the booking goes on without the mail server');
      const p = await seen;
      assert.match(String(p.errorCode), /^(ECONNECTION|ESOCKET|ECONNREFUSED)/);
      smtp.up();
      await mailsFor(idOf(msg), 2);
      await outboxSettled();
      const arrived = arrivedFor(idOf(msg));
      assert.equal(arrived.length, 2);
      assert.deepEqual(arrived.map((r) => r.envelope.to[0]).sort(), ['anna@testdorp.example', 'jan@example.org']);
      assert.equal(new Set(arrived.map((r) => r.parsed.messageId)).size, 2);
      const counts = await mailServiceOf(services).outbox.counts();
      assert.deepEqual(counts, { pending: 0, scheduled: 0, sending: 0, failed: 0 });
    });
  });

  it('brute force on /v/ hits 429; many good links from one address (an office) do not', async () => {
    const nodes = await load();
    const { out } = await book(nodes);
    const good = tokenOf((out.links as Msg).resident);
    for (let i = 0; i < 40; i++) assert.equal((await visit(good)).status, 303, 'good links are not what the limit counts');
    let limited = 0;
    for (let i = 0; i < 60; i++) {
      const res = await httpNode().get(`/v/${newToken()}`);
      if (res.status === 429) {
        limited++;
        assert.ok(Number(res.headers['retry-after']) > 0);
        assert.equal(callCookie(res), undefined);
      } else assert.equal(res.status, 404);
    }
    assert.equal(limited, 30, 'refused after 30 bad links');
    assert.equal((await visit(good)).status, 429, 'the guessing address is refused for the rest of the window');
  });

  describe('/dev/mail in demo mode (built-in catcher)', () => {
    it('lists caught mails for signed-in staff, with the access link clickable and input escaped', async () => {
      const nodes = await load({}, { smtpHost: '' }, {});
      const catcher = await mailServiceOf(services).catcher();
      assert.ok(catcher, 'demo mode without SMTP: the catcher runs');
      const before = catcher.list().length;
      const out = next(nodes.out1);
      nodes.sl.receive(booking({ name: '<img src=x onerror=alert(1)>' }));
      const passed = await out;
      const end = Date.now() + 5000;
      while (catcher.list().length < before + 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(catcher.list().length, before + 2);

      const anonymous = await httpNode().get('/dev/mail');
      assert.equal(anonymous.status, 303);
      assert.match(String(anonymous.headers.location), /^\/login/);

      const list = await httpNode().get('/dev/mail').set('Cookie', cookies.kcc1);
      assert.equal(list.status, 200);
      assert.match(list.text, /Bevestiging van uw video-afspraak/);
      assert.match(list.text, /jan@example\.org/);
      assert.match(String(list.headers['cache-control']), /no-store/);
      const id = catcher.list().find((m) => m.to.includes('jan@example.org'))!.id;
      const detail = await httpNode().get(`/dev/mail/${id}`).set('Cookie', cookies.kcc1);
      assert.equal(detail.status, 200);
      const link = (passed.links as Msg).resident as string;
      assert.ok(detail.text.includes(`href="${link}"`), 'the access link is clickable');
      assert.ok(!detail.text.includes('<img src=x'), 'input is escaped');
      assert.match(detail.text, /BEGIN:VCALENDAR/);
      assert.equal((await httpNode().get('/dev/mail/not-an-id').set('Cookie', cookies.kcc1)).status, 404);
    });
  });
});

describe('/dev/mail in production mode', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    await helper.unload();
    await stopServices();
    smtp = await startTestSmtp();
    startServices({ IDV_MODE: 'production', IDV_PUBLIC_URL: 'https://video.example.nl', SMTP_URL: smtp.url, IDV_CREDENTIAL_SECRET: 'x'.repeat(40) });
  });
  after(async () => {
    await helper.unload();
    await stopServices();
    await smtp.stop();
  });

  it('does not exist, and the link cookie is Secure with the __Host- prefix behind https', async () => {
    const services = currentServices()!;
    const hash = await hashPassword(PASSWORD);
    await services.staffStore.upsertUser({ username: 'admin', displayName: 'Admin', roles: ['admin'], passwordHash: hash });
    const login = await services.staff.login('admin', PASSWORD);
    assert.ok(login.ok);
    await helper.load([settingsNode, sessionLinkNode], [
      { id: 'cfg', type: 'idv-settings', municipality: 'Gemeente Testdorp', fromAddress: 'videobellen@testdorp.example' },
      { id: 'sl', type: 'idv-session-link', settings: 'cfg', agentEmails: '', wires: [['out1'], []] },
      { id: 'out1', type: 'helper' },
    ]);
    assert.equal((await httpNode().get('/dev/mail').set('Cookie', `${services.staff.cookie}=${login.sessionId}`)).status, 404);
    assert.equal(await mailServiceOf(services).catcher(), undefined);

    const out = new Promise<Msg>((resolve) => (helper.getNode('out1') as unknown as TestNode).on('input', (m: never) => resolve(m)));
    (helper.getNode('sl') as unknown as TestNode).receive(booking());
    const msg = await out;
    const token = tokenOf((msg.links as Msg).resident);
    const res = await httpNode().get(`/v/${token}`);
    assert.equal(res.status, 303);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-idv_call='));
    assert.ok(cookie, 'the __Host- cookie');
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; Path=\//);
    await smtp.waitFor(1);
    assert.equal(smtp.received[0].envelope.to[0], 'jan@example.org', 'SMTP_URL is used');
    assert.ok(smtp.received[0].parsed.text?.includes(`https://video.example.nl/v/${token}`), 'links are built from IDV_PUBLIC_URL');
  });
});

describe('lib/access helpers behind the node', () => {
  it('publicBase: IDV_PUBLIC_URL wins, then the settings, then the address we listen on', () => {
    const derived = { publicUrl: 'http://127.0.0.1:1880', publicUrlFromEnv: false };
    assert.equal(publicBase({ publicUrl: 'https://video.gemeente.nl', publicUrlFromEnv: true }, 'https://other.example'), 'https://video.gemeente.nl');
    assert.equal(publicBase(derived, 'https://video.gemeente.nl/'), 'https://video.gemeente.nl');
    assert.equal(publicBase(derived, undefined), 'http://127.0.0.1:1880');
  });

  it('agent address lists: errors name the line, never the address', async () => {
    const errors: string[] = [];
    const map = parseAgentEmails('# team\nAgent1 = anna@gemeente.example\n\nagent2: geheim adres@x\nagent1=dubbel@gemeente.example\nagent3 = a@b.nl, c@d.nl', errors);
    assert.deepEqual([...map], [['agent1', 'anna@gemeente.example']]);
    assert.deepEqual(errors, ['agentEmails line 4: expected "username = address"', 'agentEmails line 5: this username is listed twice', 'agentEmails line 6: expected "username = address"']);
  });

  it('the agent announcement carries the dashboard link, also through an administrator template', async () => {
    const queued: { kind: string; text: string }[] = [];
    // prepare() only validates and renders: no store is touched.
    const outbox = createOutbox({ store: {} as never, transport: {} as never });
    const deps = {
      links: createLinkService({ store: {} as never }),
      outbox: { prepare: (m: Parameters<typeof outbox.prepare>[0]) => (queued.push(m), outbox.prepare(m)) },
      agentName: async () => 'Anna',
    };
    const event = booking() as never;
    const parsed = parseBookingMessage(event);
    for (const templates of [{}, { 'agent-announcement': { nl: { text: 'Hallo {{name}}\n\n{{link}}\n\nOverzicht: {{dashboardLink}}' } } }]) {
      queued.length = 0;
      const v = validateSessionLinkConfig({ agentEmails: 'agent1 = anna@gemeente.example', templates });
      assert.ok(v.ok);
      await planBooked(deps, { base: BASE, host: 'video.example.nl', municipality: 'Gemeente Testdorp', fromAddress: 'video@testdorp.example', config: v.config }, parsed, { none: true });
      const agent = queued.find((m) => m.kind === 'agent-announcement');
      assert.ok(agent?.text.includes(`${BASE}/agent`), JSON.stringify(templates));
      assert.ok(!agent?.text.includes('{{dashboardLink}}'));
    }
  });
});
