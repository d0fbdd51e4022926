import { Settings } from 'luxon';
import { strict as assert } from 'node:assert';
import { parseBookingInput, type BookingInputOptions } from '../../../lib/appointments/booking-input';
import { fieldMessages, hasMessage, messageFor } from '../../../lib/appointments/messages';
import { isUserError } from '../../../lib/errors';

const options: BookingInputOptions = { topics: ['paspoort', 'rijbewijs'], askPhone: true };
const valid = {
  start: '2026-12-01T09:30:00+01:00',
  name: 'Jan de Vries',
  email: 'Jan.de.Vries@Example.NL',
  topic: 'rijbewijs',
};

/** The field codes of the UserError parseBookingInput throws for this body. */
function fieldsOf(body: unknown, opts: BookingInputOptions = options): Record<string, string> {
  try {
    parseBookingInput(body, opts);
  } catch (e) {
    assert.ok(isUserError(e), String(e));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'invalid_input');
    assert.ok(e.fields);
    for (const code of Object.values(e.fields)) assert.ok(hasMessage(code), `no text for ${code}`);
    return e.fields;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

function expectField(patch: Record<string, unknown>, field: string, code: string, opts = options): void {
  const fields = fieldsOf({ ...valid, ...patch }, opts);
  assert.equal(fields[field], code, `${JSON.stringify(patch)} -> ${JSON.stringify(fields)}`);
}

describe('appointments/booking-input', () => {
  it('accepts a valid booking and converts the start to UTC', () => {
    const r = parseBookingInput({ ...valid, phone: ' 06 1234 5678 ', remarks: '  Graag\r\nmet tolk  ' }, options);
    assert.deepEqual(r, {
      start: '2026-12-01T08:30:00.000Z',
      name: 'Jan de Vries',
      email: 'Jan.de.Vries@example.nl',
      topic: 'rijbewijs',
      phone: '06 1234 5678',
      remarks: 'Graag\nmet tolk',
    });
  });

  it('accepts separate date and time fields (Amsterdam wall clock), in summer too', () => {
    const { start: _s, ...rest } = valid;
    assert.equal(parseBookingInput({ ...rest, date: '2026-07-01', time: '09:30' }, options).start, '2026-07-01T07:30:00.000Z');
    assert.equal(parseBookingInput({ ...valid, start: '2026-07-01T09:30:00.000+02:00' }, options).start, '2026-07-01T07:30:00.000Z');
  });

  it('uses the first topic when none is given, and refuses unknown topics', () => {
    const { topic: _t, ...rest } = valid;
    assert.equal(parseBookingInput(rest, options).topic, 'paspoort');
    assert.equal(parseBookingInput({ ...rest, topic: '' }, options).topic, 'paspoort');
    expectField({ topic: 'belastingen' }, 'topic', 'topic.unknown');
    expectField({ topic: 'PASPOORT' }, 'topic', 'topic.unknown');
  });

  it('refuses impossible dates and times', () => {
    expectField({ start: '2026-02-30T09:30:00+01:00' }, 'start', 'start.invalid');
    expectField({ start: '2026-13-01T09:30:00+01:00' }, 'start', 'start.invalid');
    expectField({ start: '2026-12-01T24:00:00+01:00' }, 'start', 'start.invalid');
    expectField({ start: '2026-12-01T09:60:00+01:00' }, 'start', 'start.invalid');
    expectField({ start: '2026-12-01T09:30:60+01:00' }, 'start', 'start.invalid');
    expectField({ start: '2026-12-01 09:30' }, 'start', 'start.invalid');
    expectField({ start: 'tomorrow' }, 'start', 'start.invalid');
    expectField({ start: '+02026-12-01T09:30:00+01:00' }, 'start', 'start.invalid');
    const { start: _s, ...rest } = valid;
    assert.equal(fieldsOf({ ...rest, date: '2026-02-30', time: '09:30' }).date, 'date.invalid');
    assert.equal(fieldsOf({ ...rest, date: '2026-13-01', time: '09:30' }).date, 'date.invalid');
    assert.equal(fieldsOf({ ...rest, date: '2026-12-01', time: '24:00' }).time, 'time.invalid');
    assert.equal(fieldsOf({ ...rest, date: '2026-12-01', time: '9:30' }).time, 'time.invalid');
    assert.equal(fieldsOf({ ...rest, date: '2026-12-01' }).time, 'time.required');
    assert.equal(fieldsOf({ ...rest, date: '2026-03-29', time: '02:30' }).time, 'start.nonexistent');
    assert.equal(fieldsOf(rest).start, 'start.required');
    assert.equal(fieldsOf({ ...valid, date: '2026-12-01', time: '09:30' }).start, 'start.ambiguous');
  });

  it('refuses a start with another offset than Amsterdam\'s at that instant', () => {
    expectField({ start: '2026-12-01T08:30:00Z' }, 'start', 'start.offset');
    expectField({ start: '2026-12-01T09:30:00+02:00' }, 'start', 'start.offset', options);
    expectField({ start: '2026-07-01T09:30:00+01:00' }, 'start', 'start.offset');
    expectField({ start: '2026-12-01T03:30:00-05:00' }, 'start', 'start.offset');
    // Both readings of the doubled hour on 2026-10-25 are real instants with Amsterdam's offset.
    assert.equal(parseBookingInput({ ...valid, start: '2026-10-25T02:30:00+02:00' }, options).start, '2026-10-25T00:30:00.000Z');
    assert.equal(parseBookingInput({ ...valid, start: '2026-10-25T02:30:00+01:00' }, options).start, '2026-10-25T01:30:00.000Z');
    // 02:30 on 2026-03-29 does not exist in Amsterdam under either offset.
    expectField({ start: '2026-03-29T02:30:00+01:00' }, 'start', 'start.offset');
    expectField({ start: '2026-03-29T02:30:00+02:00' }, 'start', 'start.offset');
  });

  it('passes an off-grid time on (the service checks it against the schedule)', () => {
    assert.equal(parseBookingInput({ ...valid, start: '2026-12-01T09:07:00+01:00' }, options).start, '2026-12-01T08:07:00.000Z');
  });

  it('refuses unknown fields, non-text values and non-object bodies', () => {
    expectField({ admin: 'true' }, 'admin', 'field.unknown');
    expectField({ name: ['a', 'b'] }, 'name', 'field.not_text');
    expectField({ email: { $ne: '' } }, 'email', 'field.not_text');
    expectField({ 'x<script>': '1' }, 'body', 'body.invalid');
    assert.equal(fieldsOf(JSON.parse(`{"__proto__": {"admin": true}, ${JSON.stringify(valid).slice(1)}`)).body, 'body.invalid');
    assert.equal(fieldsOf({ ...valid, constructor: 'x' }).body, 'body.invalid');
    assert.equal(fieldsOf(null).body, 'body.invalid');
    assert.equal(fieldsOf('name=x').body, 'body.invalid');
    assert.equal(fieldsOf([valid]).body, 'body.invalid');
    const many: Record<string, string> = { ...valid };
    for (let i = 0; i < 40; i++) many[`f${i}`] = 'x';
    assert.equal(fieldsOf(many).body, 'body.invalid');
    // A caller's own extra fields (e.g. a CSRF token) may be allowed explicitly.
    assert.ok(parseBookingInput({ ...valid, _csrf: 'abc' }, { ...options, extraFields: ['_csrf'] }));
  });

  it('refuses bad e-mail addresses', () => {
    expectField({ email: 'jan@example.nl\r\nBcc: all@example.nl' }, 'email', 'email.invalid');
    expectField({ email: 'jan@example.nl\n' }, 'email', 'email.invalid');
    expectField({ email: 'jan@example.nl, piet@example.nl' }, 'email', 'email.multiple');
    expectField({ email: 'jan@example.nl;piet@example.nl' }, 'email', 'email.multiple');
    expectField({ email: 'jan@example.nl piet@example.nl' }, 'email', 'email.multiple');
    expectField({ email: 'jan@piet@example.nl' }, 'email', 'email.multiple');
    expectField({ email: '"jan"@example.nl' }, 'email', 'email.invalid');
    expectField({ email: '"Jan" <jan@example.nl>' }, 'email', 'email.multiple');
    expectField({ email: 'Jan<jan@example.nl>' }, 'email', 'email.invalid');
    expectField({ email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.nl` }, 'email', 'email.too_long');
    expectField({ email: `${'a'.repeat(65)}@example.nl` }, 'email', 'email.invalid');
    expectField({ email: 'jan@localhost' }, 'email', 'email.invalid');
    expectField({ email: 'jan@-example.nl' }, 'email', 'email.invalid');
    expectField({ email: 'jan..de@example.nl' }, 'email', 'email.invalid');
    expectField({ email: '.jan@example.nl' }, 'email', 'email.invalid');
    expectField({ email: 'jan@example.123' }, 'email', 'email.invalid');
    expectField({ email: 'jän@example.nl' }, 'email', 'email.invalid');
    expectField({ email: '' }, 'email', 'email.required');
    assert.equal(parseBookingInput({ ...valid, email: "o'brien+tag@sub.example.org" }, options).email, "o'brien+tag@sub.example.org");
  });

  it('refuses names with control characters or bidi overrides, and long names', () => {
    expectField({ name: '' }, 'name', 'name.required');
    expectField({ name: '   ' }, 'name', 'name.required');
    expectField({ name: 'Jan\nde Vries' }, 'name', 'name.invalid_chars');
    expectField({ name: 'Jan\u0000' }, 'name', 'name.invalid_chars');
    expectField({ name: 'Jan\u0085' }, 'name', 'name.invalid_chars');
    for (const c of ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expectField({ name: `Jan${c}seirV ed` }, 'name', 'name.invalid_chars');
    }
    expectField({ name: 'x'.repeat(101) }, 'name', 'name.too_long');
    expectField({ name: 'x'.repeat(20_000) }, 'name', 'name.too_long');
    assert.equal(parseBookingInput({ ...valid, name: 'é'.repeat(100) }, options).name.length, 100);
    assert.equal(parseBookingInput({ ...valid, name: '😀'.repeat(100) }, options).name, '😀'.repeat(100), 'code points, not UTF-16 units');
    assert.equal(parseBookingInput({ ...valid, name: 'Zoë O\'Neill-Şahin' }, options).name, 'Zoë O\'Neill-Şahin');
  });

  it('refuses remarks with control characters, bidi overrides or over 1000 characters', () => {
    expectField({ remarks: 'x'.repeat(1001) }, 'remarks', 'remarks.too_long');
    expectField({ remarks: 'ok\u202Eko' }, 'remarks', 'remarks.invalid_chars');
    expectField({ remarks: 'bell\u0007' }, 'remarks', 'remarks.invalid_chars');
    // Stored as every page and mail shows it (lib/text/typed-text.ts): lines kept, a tab is a space, lines trimmed.
    assert.equal(parseBookingInput({ ...valid, remarks: 'regel 1\n\tregel 2' }, options).remarks, 'regel 1\nregel 2');
    assert.equal(parseBookingInput({ ...valid, remarks: '   ' }, options).remarks, undefined);
  });

  it('checks the phone number when asked, and refuses it when not asked', () => {
    expectField({ phone: '12345' }, 'phone', 'phone.invalid');
    expectField({ phone: '06-1234-567a' }, 'phone', 'phone.invalid');
    expectField({ phone: '06 1234 5678 ext 2' }, 'phone', 'phone.invalid');
    expectField({ phone: '+31 6 12+345678' }, 'phone', 'phone.invalid');
    expectField({ phone: '1'.repeat(16) }, 'phone', 'phone.invalid');
    expectField({ phone: '' }, 'phone', 'phone.required', { ...options, requirePhone: true });
    expectField({ phone: '0612345678' }, 'phone', 'field.unknown', { topics: ['x'] });
    assert.equal(parseBookingInput({ ...valid, phone: '+31 (0)6-12345678' }, options).phone, '+31 (0)6-12345678');
    assert.equal(parseBookingInput({ ...valid, phone: '' }, options).phone, undefined);
    assert.equal(parseBookingInput({ ...valid, topic: 'x', phone: '' }, { topics: ['x'] }).phone, undefined);
  });

  it('reports every bad field at once, with Dutch and English texts', () => {
    const fields = fieldsOf({ start: '2026-02-30T09:00:00+01:00', name: '', email: 'a,b', topic: 'nope' });
    assert.deepEqual(Object.keys(fields).sort(), ['email', 'name', 'start', 'topic']);
    const nl = fieldMessages(fields, 'nl');
    const en = fieldMessages(fields, 'en');
    assert.match(nl.email, /één e-mailadres/);
    assert.match(en.email, /single e-mail address/);
    assert.notEqual(messageFor('slot_taken', 'nl'), messageFor('slot_taken', 'en'));
    assert.equal(messageFor('no.such.code', 'en'), messageFor('invalid_input', 'en'));
  });

  it('reads a time in the doubled hour as its first occurrence (RFC 5545), whether it is summer or winter now', () => {
    const { start: _s, ...rest } = valid;
    const original = Settings.now;
    try {
      const seen = new Set<string>();
      for (const now of ['2026-07-01T12:00:00Z', '2026-12-01T12:00:00Z', '2026-10-25T00:45:00Z', '2026-10-25T01:45:00Z']) {
        Settings.now = () => Date.parse(now);
        seen.add(parseBookingInput({ ...rest, date: '2026-10-25', time: '02:30' }, options).start);
      }
      assert.deepEqual([...seen], ['2026-10-25T00:30:00.000Z']);
    } finally {
      Settings.now = original;
    }
  });

  it('gives the same UTC start whatever the machine time zone', () => {
    const original = process.env.TZ;
    const { start: _s, ...rest } = valid;
    try {
      const seen = new Set<string>();
      for (const tz of ['UTC', 'America/New_York', 'Australia/Lord_Howe']) {
        process.env.TZ = tz;
        seen.add(parseBookingInput({ ...rest, date: '2026-10-25', time: '02:30' }, options).start);
        seen.add(parseBookingInput({ ...valid, start: '2026-10-25T02:30:00+02:00' }, options).start);
      }
      assert.deepEqual([...seen], ['2026-10-25T00:30:00.000Z']);
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });
});
