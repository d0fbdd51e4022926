import assert from 'node:assert/strict';
import { buildIcs, foldLine, type IcsOptions } from '../../../lib/mail/ics';

/** A small RFC 5545 reader for the tests: checks the physical lines, unfolds, splits name;params:value. */
function parseIcs(text: string): { name: string; params: Record<string, string>; value: string }[] {
  assert.ok(text.endsWith('\r\n'), 'ends with CRLF');
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/, 'no bare CR or LF');
  // Work on the octets: each physical line must be at most 75 octets and valid UTF-8 on its own (folding never
  // splits a character).
  const bytes = Buffer.from(text, 'utf8');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const physical: string[] = [];
  let from = 0;
  for (let i = 0; i < bytes.length - 1; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
      const line = bytes.subarray(from, i);
      assert.ok(line.length <= 75, `line within 75 octets: ${line.toString('utf8')}`);
      physical.push(decoder.decode(line));
      from = i + 2;
    }
  }
  const logical: string[] = [];
  for (const line of physical) {
    if (line.startsWith(' ')) logical[logical.length - 1] += line.slice(1);
    else logical.push(line);
  }
  return logical.map((l) => {
    // The value starts at the first colon outside a quoted parameter value.
    let inQuote = false;
    let i = 0;
    for (; i < l.length; i++) {
      if (l[i] === '"') inQuote = !inQuote;
      else if (l[i] === ':' && !inQuote) break;
    }
    const head = l.slice(0, i);
    const [name, ...rawParams] = head.match(/(?:[^;"]|"[^"]*")+/g) ?? [];
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      params[p.slice(0, eq)] = p.slice(eq + 1);
    }
    return { name: name ?? '', params, value: l.slice(i + 1) };
  });
}

function unescapeText(v: string): string {
  return v.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

function props(text: string, name: string) {
  return parseIcs(text).filter((p) => p.name === name);
}

const opts: IcsOptions = {
  method: 'REQUEST',
  appointmentId: 'appt-123',
  host: 'video.example.nl',
  start: '2026-10-26T09:00:00.000Z',
  end: '2026-10-26T09:30:00.000Z',
  summary: 'Video-afspraak Gemeente Voorbeeld: Paspoort',
  description: 'Link: https://video.example.nl/v/AAAA\nTot dan',
  url: 'https://video.example.nl/v/AAAA',
  organizer: { name: 'Gemeente Voorbeeld', email: 'noreply@example.nl' },
  attendee: { name: 'Jan de Vries', email: 'jan@example.org' },
  stamp: '2026-10-01T12:00:00.000Z',
};

describe('ics invite', () => {
  it('writes a REQUEST with UTC times, stable UID, sequence and people', () => {
    const ics = buildIcs(opts);
    const all = parseIcs(ics);
    assert.deepEqual(all.map((p) => p.name).filter((n) => n === 'BEGIN' || n === 'END'), ['BEGIN', 'BEGIN', 'END', 'END']);
    const one = (n: string) => props(ics, n)[0]?.value;
    assert.equal(one('VERSION'), '2.0');
    assert.equal(one('METHOD'), 'REQUEST');
    assert.equal(one('UID'), 'appt-123@video.example.nl');
    assert.equal(one('DTSTAMP'), '20261001T120000Z');
    assert.equal(one('DTSTART'), '20261026T090000Z', '10:00 Amsterdam after the DST change is 09:00Z');
    assert.equal(one('DTEND'), '20261026T093000Z');
    assert.equal(one('SEQUENCE'), '0');
    assert.equal(one('STATUS'), 'CONFIRMED');
    assert.equal(unescapeText(one('DESCRIPTION')), 'Link: https://video.example.nl/v/AAAA\nTot dan');
    assert.equal(one('URL'), 'https://video.example.nl/v/AAAA');
    const organizer = props(ics, 'ORGANIZER')[0];
    assert.equal(organizer.params.CN, '"Gemeente Voorbeeld"');
    assert.equal(organizer.value, 'mailto:noreply@example.nl');
    const attendee = props(ics, 'ATTENDEE')[0];
    assert.equal(attendee.params.CN, '"Jan de Vries"');
    assert.equal(attendee.value, 'mailto:jan@example.org');
  });

  it('before the DST change 10:00 Amsterdam is 08:00Z', () => {
    const ics = buildIcs({ ...opts, start: '2026-10-23T10:00:00+02:00', end: '2026-10-23T10:30:00+02:00' });
    assert.equal(props(ics, 'DTSTART')[0].value, '20261023T080000Z');
  });

  it('CANCEL keeps the UID, raises SEQUENCE and says CANCELLED', () => {
    const request = buildIcs(opts);
    const cancel = buildIcs({ ...opts, method: 'CANCEL' });
    assert.equal(props(cancel, 'METHOD')[0].value, 'CANCEL');
    assert.equal(props(cancel, 'STATUS')[0].value, 'CANCELLED');
    assert.equal(props(cancel, 'UID')[0].value, props(request, 'UID')[0].value);
    assert.ok(Number(props(cancel, 'SEQUENCE')[0].value) > Number(props(request, 'SEQUENCE')[0].value));
    assert.equal(props(cancel, 'URL').length, 0, 'a cancellation carries no call link');
    const later = buildIcs({ ...opts, method: 'CANCEL', sequence: 5 });
    assert.equal(props(later, 'SEQUENCE')[0].value, '5');
  });

  it('escapes , ; \\ and newlines and keeps resident text from adding properties', () => {
    const ics = buildIcs({
      ...opts,
      summary: 'Paspoort; rijbewijs, en\r\nATTENDEE:mailto:evil@example.com',
      description: 'a\\b;c,d\r\nEND:VEVENT\nBEGIN:VEVENT',
      attendee: { name: 'Jan "the man"; de Vries:\r\nORGANIZER:mailto:evil@example.com', email: 'jan@example.org' },
    });
    assert.equal(props(ics, 'ATTENDEE').length, 1);
    assert.equal(props(ics, 'ORGANIZER').length, 1);
    assert.equal(props(ics, 'BEGIN').length, 2);
    assert.equal(props(ics, 'END').length, 2);
    assert.equal(unescapeText(props(ics, 'SUMMARY')[0].value), 'Paspoort; rijbewijs, en ATTENDEE:mailto:evil@example.com');
    assert.equal(unescapeText(props(ics, 'DESCRIPTION')[0].value), 'a\\b;c,d\nEND:VEVENT\nBEGIN:VEVENT');
    const cn = props(ics, 'ATTENDEE')[0].params.CN;
    assert.match(cn, /^"[^"]*"$/, 'CN is one quoted value without inner quotes');
    assert.equal(cn, `"Jan 'the man'; de Vries: ORGANIZER:mailto:evil@example.com"`);
  });

  it('folds long lines at 75 octets without splitting characters', () => {
    const long = 'Gemeente Súdwest-Fryslân 😀 '.repeat(20);
    const ics = buildIcs({ ...opts, description: long });
    const d = props(ics, 'DESCRIPTION')[0].value;
    assert.equal(unescapeText(d), long.trim().replace(/ +/g, ' '));
    const folded = foldLine('X'.repeat(200));
    const parts = folded.split('\r\n');
    assert.equal(parts[0].length, 75);
    assert.ok(parts.slice(1).every((p) => p.startsWith(' ') && p.length <= 75));
    assert.equal(parts.map((p, i) => (i ? p.slice(1) : p)).join(''), 'X'.repeat(200));
    assert.equal(foldLine('short'), 'short');
  });

  it('refuses bad input', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.throws(() => buildIcs({ ...opts, method: 'PUBLISH' as any }), /method/);
    assert.throws(() => buildIcs({ ...opts, host: 'evil.nl\r\nX:1' }), /host/);
    assert.throws(() => buildIcs({ ...opts, appointmentId: 'a@b' }), /appointmentId/);
    assert.throws(() => buildIcs({ ...opts, attendee: { name: 'x', email: 'jan@example.org\r\nBcc: a@b.nl' } }), /attendee/);
    assert.throws(() => buildIcs({ ...opts, organizer: { name: 'x', email: 'nope' } }), /organizer/);
    assert.throws(() => buildIcs({ ...opts, end: opts.start }), /end must be after start/);
    assert.throws(() => buildIcs({ ...opts, sequence: -1 }), /sequence/);
    assert.throws(() => buildIcs({ ...opts, url: 'javascript:alert(1)' }), /url/);
  });
});
