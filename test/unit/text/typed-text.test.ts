import assert from 'node:assert/strict';
import { linkify } from '../../../lib/access/dev-mail';
import { parseBookingInput } from '../../../lib/appointments/booking-input';
import { confirmationMain, upcomingMain } from '../../../lib/booking-pages/other-pages';
import { html } from '../../../lib/http/html';
import { renderPage } from '../../../lib/http/layout';
import { buildIcs } from '../../../lib/mail/ics';
import { headerSafe, multilineSafe } from '../../../lib/mail/sanitize';
import { renderMail } from '../../../lib/mail/templates';
import { cleanTypedChars, cutGraphemes, typedLine, typedLines } from '../../../lib/text/typed-text';

/** Every character the rule removes or turns into a space or line break, one per kind. */
const HIDDEN: [string, string][] = [
  ['LINE SEPARATOR', '\u2028'],
  ['PARAGRAPH SEPARATOR', '\u2029'],
  ['NEXT LINE', '\u0085'],
  ['ZERO WIDTH SPACE', '\u200b'],
  ['LEFT-TO-RIGHT MARK', '\u200e'],
  ['RIGHT-TO-LEFT MARK', '\u200f'],
  ['ARABIC LETTER MARK', '\u061c'],
  ['RIGHT-TO-LEFT OVERRIDE', '\u202e'],
  ['FIRST STRONG ISOLATE', '\u2068'],
  ['WORD JOINER', '\u2060'],
  ['BYTE ORDER MARK', '\ufeff'],
  ['tab', '\t'],
  ['BELL', '\u0007'],
];
const HIDDEN_RE = /[\u2028\u2029\u0085\u200b\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2060\ufeff\u0007]/;
/** An emoji sequence with ZWJ and a skin tone, and Persian with ZWNJ: joiners the rule keeps. */
const KEEP = '👩🏽‍💻 می‌خواهم';

describe('the typed-text rule (lib/text/typed-text.ts)', () => {
  it('one line: breaks and controls become one space, invisible marks go, joiners and other spaces stay', () => {
    assert.equal(typedLine('Jan\u2028de\u2029Vries'), 'Jan de Vries');
    assert.equal(typedLine('Jan\r\nBcc: x@y.nl'), 'Jan Bcc: x@y.nl');
    assert.equal(typedLine('\u202eJan\u202c \u2066de\u2069 Vr\u200bies\ufeff\u200e'), 'Jan de Vries');
    assert.equal(typedLine(`  ${KEEP}  `), KEEP);
    assert.equal(typedLine('山田\u3000太郎'), '山田\u3000太郎', 'an ideographic space is a real space in a name');
    assert.equal(typedLine('Zoe\u0308'), 'Zoë', 'NFC');
    assert.equal(typedLine('a\ud800b'), 'a\ufffdb', 'a lone surrogate');
  });

  it('cuts on whole graphemes: never half a surrogate pair, an emoji sequence or a letter and its accent', () => {
    assert.equal(cutGraphemes('𠮷𠮷𠮷', 2), '𠮷𠮷');
    assert.equal(typedLine('ab👨‍👩‍👧‍👦cd', 3), 'ab👨‍👩‍👧‍👦');
    assert.equal(typedLine('Ame\u0301lie', 3), 'Amé');
  });

  it('several lines: line separators are line breaks, at most one empty line in a row', () => {
    assert.equal(typedLines('regel 1\u2028regel 2\r\n\n\n\n\tregel 3\u200b'), 'regel 1\nregel 2\n\nregel 3');
  });

  for (const [label, ch] of HIDDEN) {
    it(`${label} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is handled the same wherever typed text is shown`, () => {
      const name = `Jan${ch}de Vries ${KEEP}`;
      const expected = typedLine(name);
      assert.doesNotMatch(expected, HIDDEN_RE);
      assert.ok(expected.includes(KEEP));
      const shown: Record<string, string> = {
        'page text (html tag)': html`<p>${name}</p>`.value,
        'page title and header': renderPage({ lang: 'nl', title: name, main: html``, branding: { municipality: name } }),
        'KCC list': upcomingMain('nl', [{ id: 'a1', when: 'morgen', topic: name, agent: name, resident: name, channel: 'phone' }], '/kcc/afspraak', 'csrf').value,
        'KCC confirmation': confirmationMain('nl', 'kcc', { when: 'morgen', topic: name }, '/kcc/afspraak', { name, email: 'jan@example.org', phone: null, remarks: name }).value,
        'mail header value': headerSafe(name),
        'mail remarks': multilineSafe(name),
        'demo mail catcher': linkify(name).value,
        'invite (ICS)': buildIcs({
          method: 'REQUEST',
          appointmentId: 'a1',
          host: 'video.example.nl',
          start: '2026-12-01T09:30:00.000Z',
          end: '2026-12-01T10:00:00.000Z',
          summary: name,
          description: name,
          organizer: { name, email: 'noreply@example.nl' },
          attendee: { name, email: 'jan@example.org' },
        }).replace(/\r\n /g, ''),
      };
      const mail = renderMail({
        kind: 'resident-confirmation',
        lang: 'nl',
        data: { name, topic: name, municipality: name, start: '2026-12-01T09:30:00.000Z', end: '2026-12-01T10:00:00.000Z', link: 'https://video.example.nl/v/A', remarks: name },
        template: { subject: 'Afspraak {{name}} {{topic}}', text: 'Beste {{name}},\n\n{{topic}}\n{{remarks}}' },
      });
      Object.assign(shown, { 'mail subject': mail.subject, 'mail text': mail.text, 'mail html': mail.html });
      for (const [where, out] of Object.entries(shown)) {
        assert.doesNotMatch(out, HIDDEN_RE, `${where} shows the hidden character`);
        assert.ok(out.normalize('NFC').includes(KEEP), `${where} keeps the joiners`);
      }
      // At input: stored cleaned (control characters and bidi overrides are refused with a message instead).
      if (!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(ch)) {
        const parsed = parseBookingInput({ start: '2026-12-01T10:30:00+01:00', name, email: 'jan@example.org' }, { topics: [] });
        assert.equal(parsed.name, expected);
      }
    });
  }

  it('the character rule alone keeps line breaks for pages that show several lines', () => {
    assert.equal(cleanTypedChars('a\u2028b\r\nc'), 'a\nb\nc');
  });
});
