import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import supertest from 'supertest';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { currentServices } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { ZONE } from '../../lib/time';
import { helper, startServices, stopServices } from '../support/node-red';
import { issueCancelToken } from '../unit/appointments/support';
import { sqliteDb } from '../support/sqlite-rows';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settingsNode = require('../../nodes/idv-settings/idv-settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scheduleNode = require('../../nodes/idv-schedule/idv-schedule');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bookNode = require('../../nodes/idv-book-appointment/idv-book-appointment');

interface Msg {
  topic: string;
  eventId: string;
  event: string;
  appointment: { id: string; start: string; topic: string; agent: string; channel: string; bookedBy: string | null; cancelledBy?: string | null };
  resident: Record<string, string>;
  links?: { cancel: string };
}
const PASSWORD = 'test-password-for-staff-42';
const PUBLIC_URL = 'https://video.testdorp.example';

/**
 * "Today" in Amsterdam, read once when this file's tests start (in `before`), not at module load and not per call:
 * mocha loads every file first, and under a clock near midnight (npm run test:clock -- --at 23:50) a date read at load
 * or in one test could be a day behind the one read later, so "a closing day" could land on the absence day. The
 * schedule (closing day, absences) and every date the tests send are built from this one value.
 */
let today: DateTime | undefined;
/** Fixes `today` for the file once; both top-level suites call it, so either may run alone or first. */
const fixToday = () => (today ??= DateTime.now().setZone(ZONE).startOf('day'));
/** Local date n days from `today` in Amsterdam, and an instant on it with the offset Amsterdam has then. */
const day = (n: number) => {
  if (!today) throw new Error('day() before the suite fixed today');
  return today.plus({ days: n }).toFormat('yyyy-MM-dd');
};
const at = (n: number, clock: string) => DateTime.fromISO(`${day(n)}T${clock}`, { zone: ZONE }).toISO({ suppressMilliseconds: true }) as string;

const everyDay = [{ from: '09:00', to: '17:00' }];
const schedule = () => ({
  id: 's1',
  type: 'idv-schedule',
  openingHours: { mon: everyDay, tue: everyDay, wed: everyDay, thu: everyDay, fri: everyDay, sat: everyDay, sun: everyDay },
  slotMinutes: 30,
  minNoticeMinutes: 60,
  horizonDays: 30,
  dutchHolidays: false,
  closingDays: [day(5)],
  agents: [
    { username: 'agent1', displayName: 'Anna', absences: [{ from: day(6), to: day(6) }] },
    { username: 'agent2', displayName: 'Bram', absences: [{ from: day(6), to: day(6) }] },
  ],
});
const topics = ['Paspoort aanvragen', 'Verhuizing doorgeven'];
const common = { type: 'idv-book-appointment', schedule: 's1', settings: 'c1', topics, phone: 'optional', wires: [['out']] };
const flow = () => [
  { id: 'c1', type: 'idv-settings', municipality: 'Gemeente Testdorp', publicUrl: PUBLIC_URL, fromAddress: 'video@testdorp.example' },
  schedule(),
  { id: 'b1', ...common, mode: 'resident', path: '/afspraak', limitPerIp: 1000, limitPerEmail: 1000, corsOrigins: 'https://www.testdorp.example', privacyUrl: 'https://www.testdorp.example/privacy' },
  { id: 'b2', ...common, mode: 'resident', path: '/flood', limitPerIp: 5, limitPerEmail: 1000 },
  { id: 'b3', ...common, mode: 'resident', path: '/flood-mail', limitPerIp: 1000, limitPerEmail: 3 },
  { id: 'b4', ...common, mode: 'kcc', path: '/kcc/afspraak', residentPath: '/afspraak', limitPerIp: 1000 },
  { id: 'out', type: 'helper' },
];

function app() {
  const a = currentServices()?.app();
  if (!a) throw new Error('no app');
  return a;
}

function csrfFrom(text: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(text);
  if (!m) throw new Error('no CSRF field');
  return m[1];
}

function count(): number {
  return (sqliteDb(currentServices()).prepare("SELECT count(*) AS n FROM appointments WHERE status = 'booked'").get() as { n: number }).n;
}

/** The hidden fields of the review form, as the browser would send them back. */
function reviewFields(page: string): Record<string, string> {
  const form = /<form[^>]*idv-review-form[\s\S]*?<\/form>/.exec(page)?.[0] ?? '';
  const out: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]] = m[2].replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return out;
}

let serial = 0;
function resident(extra: Record<string, unknown> = {}) {
  serial++;
  return { name: `Inwoner ${serial}`, email: `inwoner${serial}@example.nl`, ...extra };
}

describe('idv-book-appointment node', function () {
  this.timeout(20_000);
  const msgs: Msg[] = [];

  before(async () => {
    fixToday();
    const s = startServices();
    const hash = await hashPassword(PASSWORD);
    await s.staffStore.upsertUser({ username: 'kcc1', displayName: 'Karin KCC', roles: ['kcc'], passwordHash: hash });
    await s.staffStore.upsertUser({ username: 'agent1', displayName: 'Anna', roles: ['agent'], passwordHash: hash });
    await helper.load([settingsNode, scheduleNode, bookNode], flow());
    helper.getNode('out').on('input', (msg: Record<string, unknown>) => {
      if (typeof msg.barrier === 'number') barriers.get(msg.barrier)?.();
      else msgs.push(msg as unknown as Msg);
    });
  });
  after(async () => {
    await helper.unload();
    await stopServices();
  });
  beforeEach(() => (msgs.length = 0));

  // Node-RED delivers messages asynchronously, in the order they were sent. A marker the booking node sends now
  // arrives after every message it (or another node) sent before: once it is in, `msgs` is complete, so "one
  // message" is proven by a condition that would have seen a second one, not by waiting a while.
  const barriers = new Map<number, () => void>();
  let nextBarrier = 0;
  async function delivered(): Promise<void> {
    const id = ++nextBarrier;
    const arrived = new Promise<void>((resolve) => barriers.set(id, resolve));
    (helper.getNode('b1') as unknown as { send(m: unknown): void }).send({ barrier: id });
    await arrived;
    barriers.delete(id);
  }

  const json = (path: string, body: unknown) => supertest(app()).post(path).set('accept', 'application/json').send(body as object);

  describe('resident JSON API', () => {
    it('lists free slots with the Amsterdam offset and refuses a bad period', async () => {
      const res = await supertest(app()).get(`/afspraak/slots?from=${day(3)}&to=${day(4)}`).expect(200);
      assert.ok(Array.isArray(res.body) && res.body.length === 32, `16 slots a day, got ${res.body.length}`);
      const first = res.body[0];
      assert.equal(first.start, at(3, '09:00').replace(/([+-]\d\d:\d\d)$/, '.000$1'));
      assert.match(first.start, /[+-]0[12]:00$/);
      assert.equal(first.available, 2);
      const bad = await supertest(app()).get('/afspraak/slots?from=2026-02-30&to=2026-13-01').expect(400);
      assert.equal(bad.body.error, 'invalid_query');
      assert.ok(bad.body.fields.from && bad.body.fields.to);
      const nested = await supertest(app()).get('/afspraak/slots?from[]=x').expect(400);
      assert.equal(nested.body.error, 'invalid_query');
    });

    it('books (201) with its event, sends one message with the event id and no secret, and answers a repeat with the same booking', async () => {
      const input = resident({ start: at(3, '10:00'), topic: topics[1], phone: '06 12345678', remarks: 'Graag in het Engels' });
      const res = await json('/afspraak?lang=en', input).expect(201);
      assert.deepEqual(Object.keys(res.body).sort(), ['end', 'id', 'start']);
      assert.equal(res.body.start, at(3, '10:00').replace(/([+-]\d\d:\d\d)$/, '.000$1'));
      await delivered();
      assert.equal(msgs.length, 1);
      const m = msgs[0];
      assert.equal(m.event, 'booked');
      assert.equal(m.appointment.id, res.body.id);
      assert.equal(m.appointment.topic, topics[1]);
      assert.equal(m.appointment.channel, 'website');
      assert.equal(m.appointment.bookedBy, null);
      assert.ok(['agent1', 'agent2'].includes(m.appointment.agent));
      assert.deepEqual(m.resident, { name: input.name, email: input.email, phone: '06 12345678', remarks: 'Graag in het Engels', lang: 'en' });
      assert.match(m.eventId, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(m.topic, 'booked');
      assert.equal(m.links, undefined, 'no link travels in the message: the hand-off issues them');
      assert.ok(!JSON.stringify(m).includes('/annuleren/'));
      const ev = sqliteDb(currentServices()).prepare('SELECT appointment_id, kind, source, facts, state FROM appointment_events WHERE id = ?').get(m.eventId);
      assert.deepEqual(ev, { appointment_id: res.body.id, kind: 'booked', source: 'b1', facts: '{"lang":"en","cancelPath":"/afspraak"}', state: 'pending' });
      // Plain JSON only: it survives a round trip unchanged.
      assert.deepEqual(JSON.parse(JSON.stringify(m)), { ...m, _msgid: (m as unknown as { _msgid: string })._msgid });

      const again = await json('/afspraak', input).expect(200);
      assert.equal(again.body.id, res.body.id);
      await delivered();
      assert.equal(msgs.length, 1, 'a repeat is not a new booking');
      const slots = await supertest(app()).get(`/afspraak/slots?from=${day(3)}&to=${day(3)}`).expect(200);
      assert.equal(slots.body.find((s: { start: string }) => s.start.startsWith(`${day(3)}T10:00`)).available, 1);
    });

    it('uses the first topic when none is given', async () => {
      await json('/afspraak', resident({ start: at(3, '11:00') })).expect(201);
      await delivered();
      assert.equal(msgs[0].appointment.topic, topics[0]);
    });

    // Dated patches are functions: the table is built when mocha loads the file, before `today` is fixed.
    const bad: [string, Record<string, unknown> | (() => Record<string, unknown>), number, string, string?][] = [
      ['an impossible date', { start: '2026-02-30T10:00:00+01:00' }, 400, 'start'],
      ['month 13', { start: '2026-13-01T10:00:00+01:00' }, 400, 'start'],
      ['24:00', () => ({ start: `${day(3)}T24:00:00+01:00` }), 400, 'start'],
      ['an off-grid time', () => ({ start: at(3, '09:07') }), 400, 'start', 'slot_off_grid'],
      ['another offset than Amsterdam has', () => ({ start: `${day(3)}T10:00:00+05:00` }), 400, 'start'],
      ['the wall clock as UTC', () => ({ start: `${day(3)}T10:00:00Z` }), 400, 'start'],
      ['the past', () => ({ start: at(-1, '10:00') }), 400, 'start', 'slot_past'],
      ['beyond the horizon', () => ({ start: at(40, '10:00') }), 400, 'start', 'slot_beyond_horizon'],
      ['a closing day', () => ({ start: at(5, '10:00') }), 400, 'start', 'slot_closed'],
      ['e-mail with CR/LF', { email: 'a@example.nl\r\nBcc: victim@example.nl' }, 400, 'email'],
      ['several addresses', { email: 'a@example.nl, b@example.nl' }, 400, 'email'],
      ['a quoted local part', { email: '"a b"@example.nl' }, 400, 'email'],
      ['an e-mail over 254 characters', { email: `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.nl` }, 400, 'email'],
      ['an RTL override in the name', { name: 'Jan \u202Egnivred' }, 400, 'name'],
      ['a control character in the name', { name: 'Jan\u0007' }, 400, 'name'],
      ['an RTL override in the remarks', { remarks: 'zie \u202Ehier' }, 400, 'remarks'],
      ['a control character in the remarks', { remarks: 'a\u0000b' }, 400, 'remarks'],
      ['an unknown field', { admin: 'true' }, 400, 'admin'],
      ['a number instead of text', { name: 42 }, 400, 'name'],
      ['an unknown topic', { topic: 'Iets anders' }, 400, 'topic'],
      ['an over-long name', { name: 'x'.repeat(101) }, 400, 'name'],
      ['an invalid phone number', { phone: '06-CALL-ME' }, 400, 'phone'],
    ];
    for (const [what, patch, status, field, code] of bad) {
      it(`refuses ${what} with a ${status} naming the field, and creates nothing`, async () => {
        const before = count();
        const res = await json('/afspraak', { ...resident({ start: at(4, '14:00') }), ...(typeof patch === 'function' ? patch() : patch) }).expect(status);
        assert.ok(res.body.fields?.[field], JSON.stringify(res.body));
        if (code) assert.equal(res.body.error, code);
        assert.equal(count(), before);
        assert.equal(msgs.length, 0);
        assert.doesNotMatch(JSON.stringify(res.body), /at .*\.js:\d+/);
      });
    }

    it('answers 409 for a slot without a free agent', async () => {
      const res = await json('/afspraak', resident({ start: at(6, '10:00') })).expect(409);
      assert.equal(res.body.error, 'slot_taken');
    });

    it('refuses a non-object body, malformed JSON and an oversized body', async () => {
      const array = await json('/afspraak', ['start']).expect(400);
      assert.match(array.body.message, /\S/, 'a message a person can read');
      const malformed = await supertest(app()).post('/afspraak').set('content-type', 'application/json').send('{"start":').expect(400);
      assert.doesNotMatch(malformed.text, /SyntaxError|body-parser|Unexpected end|at .*\.js|node_modules/);
      assert.match(malformed.body.message, /\S/);
      const big = await json('/afspraak', resident({ remarks: 'x'.repeat(20_000) })).expect(413);
      assert.match(big.body.message, /\S/);
      assert.doesNotMatch(big.text, /PayloadTooLargeError|raw-body|entity\.too\.large|xxxxxxxx/, 'no library words, no echo of the input');
      await delivered();
      assert.equal(msgs.length, 0);
    });

    it('gives the last free slot to exactly one of twenty parallel requests', async () => {
      const start = at(7, '11:30');
      await json('/afspraak', resident({ start })).expect(201);
      const before = count();
      const results = await Promise.all(Array.from({ length: 20 }, () => json('/afspraak', resident({ start }))));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, ...Array(19).fill(409)]);
      assert.equal(count(), before + 1);
    });

    it('allows CORS only for the listed origin and refuses a foreign one', async () => {
      const ok = await supertest(app()).options('/afspraak').set('origin', 'https://www.testdorp.example').set('access-control-request-method', 'POST').expect(204);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://www.testdorp.example');
      const other = await supertest(app()).options('/afspraak').set('origin', 'https://evil.example').expect(204);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      const post = await json('/afspraak', resident({ start: at(8, '10:00') })).set('origin', 'https://evil.example').expect(403);
      assert.equal(post.body.error, 'forbidden_origin');
      await json('/afspraak', resident({ start: at(8, '10:00') })).set('origin', 'null').expect(403);
      await json('/afspraak', resident({ start: at(8, '10:00') })).set('origin', 'null').set('sec-fetch-site', 'cross-site').expect(403);
      await json('/afspraak', resident({ start: at(8, '10:00') })).set('origin', 'https://www.testdorp.example').expect(201);
      await json('/afspraak', resident({ start: at(8, '10:30') })).set('origin', 'null').set('sec-fetch-site', 'same-origin').expect(201);
      // The node without an allow-list answers no origin at all.
      const off = await supertest(app()).get(`/flood/slots?from=${day(3)}&to=${day(3)}`).set('origin', 'https://www.testdorp.example');
      assert.equal(off.headers['access-control-allow-origin'], undefined);
    });

    it('limits flooding from one address (429 with Retry-After)', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await json('/flood', { bogus: 'x' })).status);
      assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
      const last = await json('/flood', resident({ start: at(9, '10:00') })).expect(429);
      assert.ok(Number(last.headers['retry-after']) > 0);
      assert.equal(last.body.error, 'rate_limited');
    });

    it('limits bookings for one e-mail address, whatever the client address', async () => {
      const email = 'veel@example.nl';
      const statuses: number[] = [];
      for (const clock of ['09:00', '09:30', '10:00', '10:30']) {
        statuses.push((await json('/flood-mail', resident({ start: at(10, clock), email }))).status);
      }
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      await json('/flood-mail', resident({ start: at(10, '11:00'), email: 'ander@example.nl' })).expect(201);
    });
  });

  describe('resident form', () => {
    it('shows topics and days, then times read out in full, in Dutch by default and English on request', async () => {
      const page = await supertest(app()).get('/afspraak').expect(200);
      assert.match(page.text, /<html lang="nl"/);
      assert.match(page.text, /<legend class="utrecht-form-fieldset__legend">Waar gaat uw afspraak over\?<\/legend>/);
      assert.match(page.text, new RegExp(`name="day" value="${day(1)}"`));
      assert.doesNotMatch(page.text, new RegExp(`value="${day(5)}"`), 'closing day not offered');
      assert.doesNotMatch(page.text, /<script>|style=/);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      assert.equal(page.headers['cache-control'], 'no-store');
      const times = await supertest(app()).get(`/afspraak?day=${day(4)}&topic=${encodeURIComponent(topics[1])}`).expect(200);
      const words = DateTime.fromISO(day(4), { zone: ZONE }).setLocale('nl').toFormat('cccc d LLLL yyyy');
      assert.ok(times.text.includes(`<span class="idv-visually-hidden">${words}, </span>10:00`), 'time label carries the full date');
      assert.match(times.text, /<legend class="utrecht-form-fieldset__legend">Kies een tijd<\/legend>/);
      assert.match(times.text, /href="https:\/\/www.testdorp.example\/privacy"/);
      const en = await supertest(app()).get(`/afspraak?lang=en&day=${day(4)}`).expect(200);
      assert.match(en.text, /<html lang="en"/);
      assert.match(en.text, /Choose a time/);
    });

    it('pages through the days within the horizon, keeping the topic', async () => {
      // The pages count from the product's own today, read per request; so this test reads it right before them, not
      // the file's fixed `today`: a file run that passes midnight (npm run test:clock -- --at <date>T23:59:59+01:00)
      // then leaves only the few milliseconds of this test's requests as a window, not the whole file's run.
      const now = DateTime.now().setZone(ZONE).startOf('day');
      const day = (n: number) => now.plus({ days: n }).toFormat('yyyy-MM-dd');
      const first = await supertest(app()).get(`/afspraak?topic=${encodeURIComponent(topics[1])}`).expect(200);
      const later = /<a class="utrecht-pagination__relative-link[^"]*" rel="next" href="([^"]+)">Latere dagen<\/a>/.exec(first.text)?.[1].replace(/&amp;/g, '&');
      assert.equal(later, `/afspraak?from=${day(14)}&topic=${encodeURIComponent(topics[1]).replace(/%20/g, '+')}`);
      assert.doesNotMatch(first.text, /Eerdere dagen/);
      const second = await supertest(app()).get(later as string).expect(200);
      assert.match(second.text, new RegExp(`name="day" value="${day(14)}" checked`));
      assert.match(second.text, /id="topic-1" name="topic" value="Verhuizing doorgeven" checked/);
      assert.match(second.text, /Eerdere dagen/);
      const last = await supertest(app()).get(`/afspraak?from=${day(28)}`).expect(200);
      assert.doesNotMatch(last.text, /Latere dagen/, 'nothing beyond the horizon');
      assert.doesNotMatch(last.text, new RegExp(`value="${day(31)}"`));
    });

    it('may be embedded where the runtime allows it; the KCC pages never', async () => {
      const res = await supertest(app()).get('/afspraak').expect(200);
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self'/);
      const kcc = await signedIn('kcc1');
      const page = await kcc.get('/kcc/afspraak').expect(200);
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(page.headers['x-frame-options'], 'DENY');
    });

    it('refuses a bad day or topic in the query with a 400 page', async () => {
      const res = await supertest(app()).get('/afspraak?day=2026-02-30').expect(400);
      assert.match(res.text, /id="error-summary"/);
      const hostile = await supertest(app()).get('/afspraak?topic=%3Cscript%3Ealert(1)%3C%2Fscript%3E').expect(400);
      assert.match(hostile.text, /id="error-summary"/, 'the page says what is wrong');
      assert.ok(!hostile.text.includes('<script>alert(1)'), 'the topic is not echoed as markup');
      assert.ok(!hostile.text.includes('alert(1)'), 'nor echoed at all: an unknown topic is not shown back');
    });

    async function formAgent(d: number) {
      const agent = supertest.agent(app());
      const page = await agent.get(`/afspraak?day=${day(d)}`).expect(200);
      return { agent, csrf: csrfFrom(page.text) };
    }

    it('shows "Controleer uw afspraak" before booking; changing keeps every value; nothing is booked until confirmed', async () => {
      const { agent, csrf } = await formAgent(11);
      const before = count();
      const typed = { _csrf: csrf, topic: topics[1], date: day(11), time: '14:00', name: 'Jan <b>Jansen</b>', email: 'jan.review@example.nl', phone: '06 12345678', remarks: 'Regel één\nRegel "twee"' };
      const review = await agent.post('/afspraak').type('form').send(typed).expect(200);
      assert.match(review.text, /<h1 class="utrecht-heading-1">Controleer uw afspraak<\/h1>/);
      assert.match(review.text, /om 14:00/);
      assert.match(review.text, /Jan &lt;b&gt;Jansen&lt;\/b&gt;/, 'what was typed is shown as text');
      assert.doesNotMatch(review.text, /<b>Jansen/);
      assert.equal(count(), before, 'the review books nothing');
      const fields = reviewFields(review.text);
      assert.deepEqual({ ...fields, _csrf: '' }, { ...typed, _csrf: '' }, 'the review carries exactly what was checked');

      const edit = await agent.post('/afspraak').type('form').send({ ...fields, step: 'edit' }).expect(200);
      assert.match(edit.text, /id="name"[^>]*value="Jan &lt;b&gt;Jansen&lt;\/b&gt;"/);
      assert.match(edit.text, /value="14:00" checked/);
      assert.match(edit.text, /Regel één\nRegel &quot;twee&quot;<\/textarea>/);
      assert.equal(count(), before);

      const booked = await agent.post('/afspraak').type('form').send({ ...fields, step: 'confirm' }).expect(303);
      assert.equal(count(), before + 1);
      // A second confirm (double click, back button) is the same booking, not a second one.
      const again = await agent.post('/afspraak').type('form').send({ ...fields, step: 'confirm' }).expect(303);
      assert.equal(count(), before + 1);
      assert.match(String(again.headers.location), /bevestiging/);
      assert.ok(booked.headers.location);
      // Without a valid CSRF token the confirm is refused like any form post.
      await agent.post('/afspraak').type('form').send({ ...fields, step: 'confirm', _csrf: 'x' }).expect(403);
    });

    it('says at review time that the chosen time went meanwhile', async () => {
      const { agent, csrf } = await formAgent(11);
      // Two agents: two bookings take the slot.
      await json('/afspraak', resident({ start: at(11, '15:00') })).expect(201);
      await json('/afspraak', resident({ start: at(11, '15:00') })).expect(201);
      const res = await agent.post('/afspraak').type('form').send({ _csrf: csrf, topic: topics[0], date: day(11), time: '15:00', name: 'Te Laat', email: 'late@example.nl' }).expect(409);
      assert.match(res.text, /id="error-summary"/);
      assert.doesNotMatch(res.text, /Controleer uw afspraak/);
    });

    it('books through the form: 303 to a confirmation without secrets or personal data in the URL', async () => {
      const { agent, csrf } = await formAgent(11);
      const before = count();
      const res = await agent.post('/afspraak').type('form').send({ _csrf: csrf, step: 'confirm', topic: topics[0], date: day(11), time: '13:30', name: 'Jan Jansen', email: 'jan@example.nl', phone: '', remarks: '' }).expect(303);
      assert.equal(count(), before + 1);
      const location = res.headers.location as string;
      assert.match(location, /^\/afspraak\/bevestiging\?ref=[A-Za-z0-9_.-]+$/);
      await delivered();
      assert.equal(msgs[0].links, undefined, 'no secret in the message');
      assert.ok(!location.includes(msgs[0].eventId), 'the event id is not in the redirect');
      const confirmation = await agent.get(location).expect(200);
      assert.match(confirmation.text, /Uw afspraak is gemaakt/);
      assert.match(confirmation.text, /om 13:30/);
      assert.doesNotMatch(confirmation.text, /Jan Jansen|jan@example\.nl/);
      // A tampered reference shows nothing.
      const tampered = location.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      const bad = await agent.get(tampered).expect(404);
      assert.doesNotMatch(bad.text, /13:30/);
    });

    it('refuses a form post without or with a foreign CSRF token, creating nothing', async () => {
      const { agent } = await formAgent(12);
      const other = await formAgent(12);
      const before = count();
      const body = { topic: topics[0], date: day(12), time: '10:00', name: 'Jan', email: 'jan2@example.nl' };
      await agent.post('/afspraak').type('form').send(body).expect(403);
      await agent.post('/afspraak').type('form').send({ ...body, _csrf: other.csrf + 'x' }).expect(403);
      // Another visitor's valid token does not fit this visitor's cookie.
      const stranger = supertest.agent(app());
      await stranger.get('/afspraak').expect(200);
      await stranger.post('/afspraak').type('form').send({ ...body, _csrf: other.csrf }).expect(403);
      assert.equal(count(), before);
      assert.equal(msgs.length, 0);
    });

    it('shows errors in a summary linking to the fields, keeps values escaped, and creates nothing', async () => {
      const { agent, csrf } = await formAgent(12);
      const before = count();
      const hostile = '"><script>alert(1)</script>';
      const res = await agent.post('/afspraak').type('form').send({ _csrf: csrf, topic: topics[0], date: day(12), time: '24:00', name: '', email: hostile, remarks: hostile }).expect(400);
      assert.match(res.text, /id="error-summary"/);
      assert.match(res.text, /href="#name"/);
      assert.match(res.text, /href="#email"/);
      assert.match(res.text, /href="#time-0"/);
      assert.match(res.text, /id="email"[^>]*aria-invalid="true"/);
      assert.ok(!res.text.includes('<script>alert(1)'), 'hostile input is escaped');
      assert.ok(res.text.includes('&quot;&gt;&lt;script&gt;'));
      assert.equal(count(), before);
    });

    it('shows a taken slot as a 409 with the time field marked', async () => {
      await json('/afspraak', resident({ start: at(13, '10:00') })).expect(201);
      await json('/afspraak', resident({ start: at(13, '10:00') })).expect(201);
      const { agent, csrf } = await formAgent(13);
      const res = await agent.post('/afspraak').type('form').send({ _csrf: csrf, topic: topics[0], date: day(13), time: '10:00', name: 'Jan', email: 'jan3@example.nl' }).expect(409);
      assert.match(res.text, /net vergeven/);
      assert.doesNotMatch(res.text, /value="10:00"/, 'the taken time is no longer offered');
    });

    it('escapes HTML in a name wherever it is shown (KCC list)', async () => {
      const name = '<img src=x onerror=alert(1)>';
      await json('/afspraak', { name, email: 'html@example.nl', start: at(14, '10:00') }).expect(201);
      const kcc = await signedIn('kcc1');
      const list = await kcc.get('/kcc/afspraak/afspraken').expect(200);
      assert.ok(list.text.includes('&lt;img src=x onerror=alert(1)&gt;'));
      assert.ok(!list.text.includes(name));
    });
  });

  describe('cancelling', () => {
    /** Books, then does what the hand-off does for the cancel link (lib/access/handoff.ts): the token it mails. */
    async function booked(d: number, clock: string) {
      msgs.length = 0;
      const res = await json('/afspraak', resident({ start: at(d, clock) })).expect(201);
      return `/afspraak/annuleren/${await issueCancelToken(currentServices()!.store, res.body.id)}`;
    }

    it('GET shows the appointment and changes nothing; POST with CSRF cancels once and frees the slot', async () => {
      const path = await booked(15, '15:00');
      const agent = supertest.agent(app());
      const before = count();
      const page = await agent.get(path).expect(200);
      assert.match(page.text, /Wilt u deze afspraak annuleren\?/);
      assert.match(page.text, /om 15:00/);
      assert.equal(count(), before, 'GET cancels nothing');
      await agent.post(path).type('form').send({}).expect(403);
      await agent.post(path).type('form').send({ _csrf: 'forged' }).expect(403);
      assert.equal(count(), before);
      msgs.length = 0;
      const done = await agent.post(path).type('form').send({ _csrf: csrfFrom(page.text) }).expect(200);
      assert.match(done.text, /geannuleerd/);
      assert.equal(count(), before - 1);
      await delivered();
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0].event, 'cancelled');
      assert.equal(msgs[0].appointment.cancelledBy, null);
      assert.equal(msgs[0].links, undefined);
      const ev = sqliteDb(currentServices()).prepare('SELECT kind, source, state FROM appointment_events WHERE id = ?').get(msgs[0].eventId);
      assert.deepEqual(ev, { kind: 'cancelled', source: 'b1', state: 'pending' });
      const used = await agent.post(path).type('form').send({ _csrf: csrfFrom(page.text) }).expect(404);
      assert.match(used.text, /ongeldig of verlopen/, 'a used cancel link says so');
      assert.match((await agent.get(path).expect(404)).text, /ongeldig of verlopen/);
    });

    it('answers unknown and malformed tokens with the same 404', async () => {
      const a = await supertest(app()).get(`/afspraak/annuleren/${'A'.repeat(43)}`).expect(404);
      const b = await supertest(app()).get('/afspraak/annuleren/%3Cscript%3E').expect(404);
      assert.match(a.text, /ongeldig of verlopen/);
      const main = (t: string) => t.slice(t.indexOf('<main'), t.indexOf('</main>'));
      assert.equal(main(a.text), main(b.text));
      // The change link ("Afspraak wijzigen") carries the same token: the same answer, also with a day asked for.
      for (const path of [`/afspraak/wijzigen/${'A'.repeat(43)}`, '/afspraak/wijzigen/%3Cscript%3E', `/afspraak/wijzigen/${'A'.repeat(43)}?day=2026-12-01`]) {
        const c = await supertest(app()).get(path).expect(404);
        assert.equal(main(c.text), main(a.text), path);
        assert.doesNotMatch(c.text, /<script>/);
      }
    });
  });

  async function signedIn(username: string) {
    const agent = supertest.agent(app());
    const login = await agent.get('/login').expect(200);
    await agent.post('/login').type('form').send({ _csrf: csrfFrom(login.text), username, password: PASSWORD, next: '/kcc/afspraak' }).expect(303);
    return agent;
  }

  describe('KCC mode', () => {
    it('refuses anonymous visitors (303 to /login, 401 for posts) and staff without the kcc role (403)', async () => {
      const res = await supertest(app()).get('/kcc/afspraak').expect(303);
      assert.match(res.headers.location, /^\/login\?next=%2Fkcc%2Fafspraak/);
      await supertest(app()).get('/kcc/afspraak/afspraken').expect(303);
      await json('/kcc/afspraak', resident({ start: at(16, '10:00') })).expect(401);
      const agent = await signedIn('agent1');
      await agent.get('/kcc/afspraak').expect(403);
      await agent.post('/kcc/afspraak').set('accept', 'application/json').send(resident({ start: at(16, '10:00') })).expect(403);
      assert.equal(msgs.length, 0);
    });

    it('books by phone for a caller, records the employee, and records the resident path for the cancel link', async () => {
      const kcc = await signedIn('kcc1');
      const page = await kcc.get(`/kcc/afspraak?day=${day(16)}`).expect(200);
      assert.match(page.text, /Gegevens van de inwoner/);
      assert.match(page.text, /Karin KCC/);
      const review = await kcc.post('/kcc/afspraak').type('form').send({ _csrf: csrfFrom(page.text), topic: topics[1], date: day(16), time: '10:00', name: 'Beller', email: 'beller@example.nl', phone: '+31 20 1234567' }).expect(200);
      assert.match(review.text, /Controleer de afspraak/);
      const res = await kcc.post('/kcc/afspraak').type('form').send({ ...reviewFields(review.text), step: 'confirm' }).expect(303);
      await delivered();
      assert.equal(msgs[0].appointment.channel, 'phone');
      assert.equal(msgs[0].appointment.bookedBy, 'kcc1');
      assert.equal(msgs[0].links, undefined);
      const ev = sqliteDb(currentServices()).prepare('SELECT source, facts FROM appointment_events WHERE id = ?').get(msgs[0].eventId);
      assert.deepEqual(ev, { source: 'b4', facts: '{"lang":"nl","cancelPath":"/afspraak"}' });
      const status = (helper.getNode('b4') as unknown as { status: { lastCall: { args: [{ fill: string }] } } }).status.lastCall.args[0];
      assert.equal(status.fill, 'green', 'the resident node serves /afspraak');
      const confirmation = await kcc.get(res.headers.location).expect(200);
      assert.match(confirmation.text, /Beller/, 'staff see whom they booked for');
    });

    it('lists upcoming appointments and cancels one by id with CSRF', async () => {
      msgs.length = 0;
      const created = await json('/afspraak', resident({ start: at(17, '10:00') })).expect(201);
      const kcc = await signedIn('kcc1');
      const list = await kcc.get('/kcc/afspraak/afspraken').expect(200);
      const action = `/kcc/afspraak/afspraken/${created.body.id}/annuleren`;
      assert.ok(list.text.includes(`action="${action}"`));
      await kcc.post(action).type('form').send({}).expect(403);
      msgs.length = 0;
      const res = await kcc.post(action).type('form').send({ _csrf: csrfFrom(list.text) }).expect(303);
      assert.equal(res.headers.location, '/kcc/afspraak/afspraken?geannuleerd=1');
      await delivered();
      assert.equal(msgs[0].event, 'cancelled');
      assert.equal(msgs[0].appointment.cancelledBy, 'kcc1');
      const again = await kcc.post(action).type('form').send({ _csrf: csrfFrom(list.text) }).expect(409);
      assert.match(again.text, /<h1[^>]*>[^<]+<\/h1>/, 'a page that says what happened');
      const nonsense = await kcc.post('/kcc/afspraak/afspraken/nonsense/annuleren').type('form').send({ _csrf: csrfFrom(list.text) }).expect(404);
      assert.match(nonsense.text, /<h1[^>]*>[^<]+<\/h1>/, 'a page that says it was not found');
    });
  });

  describe('configuration', () => {
    it('refuses reserved paths, bad origins, bad topics and CORS in KCC mode', () => {
      const r = validateBookingPageConfig({ mode: 'kcc', path: '/admin/x', corsOrigins: 'https://a.example', topics: ['<b>'], phone: 'maybe', frameAncestors: '*' });
      assert.equal(r.ok, false);
      const errors = (r as { errors: string[] }).errors.join('\n');
      for (const key of ['path', 'corsOrigins', 'topics[0]', 'phone', 'frameAncestors']) assert.ok(errors.includes(`${key}:`), errors);
      const ok = validateBookingPageConfig({ mode: 'kcc' });
      assert.ok(ok.ok && ok.config.path === '/kcc/afspraak' && ok.config.residentPath === '/afspraak' && ok.config.frameAncestors === "'none'");
    });
  });
});

describe('idv-book-appointment node lifecycle', () => {
  before(() => {
    fixToday();
    startServices();
  });
  after(async () => {
    await helper.unload();
    await stopServices();
  });

  type StatusCall = { thisValue: unknown; args: [{ fill?: string; text?: string }] };
  const statusesOf = (id: string): { fill?: string; text?: string }[] => {
    const n = helper.getNode(id) as unknown as { status: { getCalls(): StatusCall[] } };
    return n.status.getCalls().filter((c) => c.thisValue === n).map((c) => c.args[0]);
  };
  const errorsOf = (id: string) => {
    const n = helper.getNode(id) as unknown as { error: { getCalls(): { args: unknown[] }[] } };
    return n.error.getCalls().map((c) => String(c.args[0]));
  };

  it('a second node on a path another node serves goes red and names that node; the first keeps serving', async () => {
    await helper.load([scheduleNode, bookNode], [
      schedule(),
      { id: 'first', type: 'idv-book-appointment', name: 'Boeken via website', schedule: 's1', mode: 'resident', path: '/afspraak', topics, wires: [[]] },
      { id: 'same', type: 'idv-book-appointment', schedule: 's1', mode: 'resident', path: '/afspraak', topics, wires: [[]] },
      { id: 'under', type: 'idv-book-appointment', schedule: 's1', mode: 'kcc', path: '/afspraak/kcc', topics, wires: [[]] },
      { id: 'own', type: 'idv-book-appointment', schedule: 's1', mode: 'resident', path: '/voorbeeld/afspraak', topics, wires: [[]] },
    ]);
    assert.equal(statusesOf('first').at(-1)?.text, 'idv-book-appointment.status.ready');
    assert.equal(statusesOf('own').at(-1)?.text, 'idv-book-appointment.status.ready');
    for (const id of ['same', 'under']) {
      assert.deepEqual(statusesOf(id).at(-1), { fill: 'red', shape: 'ring', text: 'idv-book-appointment.status.routeTaken' });
      assert.match(String(errorsOf(id)), /already served by the node "Boeken via website" \(idv-book-appointment first\)/);
    }
    await supertest(app()).get('/afspraak').expect(200);
    await supertest(app()).get('/voorbeeld/afspraak').expect(200);
    // A redeploy without the first node frees the path.
    await helper.unload();
    await helper.load([scheduleNode, bookNode], [schedule(), { id: 'same', type: 'idv-book-appointment', schedule: 's1', mode: 'resident', path: '/afspraak', topics, wires: [[]] }]);
    assert.equal(statusesOf('same').at(-1)?.text, 'idv-book-appointment.status.ready');
    await helper.unload();
  });

  it('shows a red status and serves nothing when misconfigured; removes its routes on close', async () => {
    await helper.load([scheduleNode, bookNode], [
      schedule(),
      { id: 'good', type: 'idv-book-appointment', schedule: 's1', mode: 'resident', path: '/afspraak', topics, wires: [[]] },
      { id: 'bad', type: 'idv-book-appointment', schedule: 's1', mode: 'resident', path: '/admin/afspraak', topics, wires: [[]] },
      { id: 'orphan', type: 'idv-book-appointment', schedule: 'missing', mode: 'resident', path: '/zonder-rooster', wires: [[]] },
    ]);
    assert.deepEqual(statusesOf('good').at(-1), { fill: 'green', shape: 'dot', text: 'idv-book-appointment.status.ready' });
    // Statuses are message keys (the editor shows them in its user's language); the log names the problem.
    assert.deepEqual(statusesOf('bad').at(-1), { fill: 'red', shape: 'ring', text: 'idv-book-appointment.status.invalid' });
    assert.match(String(errorsOf('bad')), /path/);
    assert.equal(statusesOf('orphan').at(-1)?.text, 'idv-book-appointment.status.invalid');
    assert.match(String(errorsOf('orphan')), /no idv-schedule/);
    await supertest(app()).get('/afspraak').expect(200);
    await supertest(app()).get('/zonder-rooster').expect(404);
    await helper.unload();
    await supertest(app()).get('/afspraak').expect(404);
  });
});
