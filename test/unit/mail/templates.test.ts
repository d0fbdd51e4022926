import assert from 'node:assert/strict';
import { renderMail, type MailData } from '../../../lib/mail/templates';
import { dateTimeInWords } from '../../../lib/mail/when';
import { DateTime } from 'luxon';

const base: MailData = {
  name: 'Jan de Vries',
  topic: 'Paspoort aanvragen',
  municipality: 'Gemeente Voorbeeld',
  start: '2026-12-01T09:30:00.000Z',
  end: '2026-12-01T10:00:00.000Z',
  opensAt: '2026-12-01T09:00:00.000Z',
  link: 'https://video.example.nl/v/AAAA',
  cancelLink: 'https://video.example.nl/afspraak/annuleren/BBBB?x=1&y=2',
};

describe('mail templates', () => {
  it('writes the date and time in words in Europe/Amsterdam (nl and en)', () => {
    assert.equal(dateTimeInWords(DateTime.fromISO('2026-12-01T09:30:00Z'), 'nl'), 'dinsdag 1 december 2026 om 10:30');
    assert.equal(dateTimeInWords(DateTime.fromISO('2026-12-01T09:30:00Z'), 'en'), 'Tuesday 1 December 2026 at 10:30');
  });

  it('gets the Amsterdam time right on both sides of the October 2026 DST change', () => {
    const after = renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, start: '2026-10-26T09:00:00Z', end: '2026-10-26T09:30:00Z', opensAt: undefined } });
    assert.match(after.subject, /maandag 26 oktober 2026 om 10:00/);
    assert.match(after.text, /Tijd: 10:00 tot 10:30/);
    const before = renderMail({ kind: 'resident-confirmation', lang: 'en', data: { ...base, start: '2026-10-23T08:00:00Z', end: '2026-10-23T08:30:00Z', opensAt: undefined } });
    assert.match(before.subject, /Friday 23 October 2026 at 10:00/);
    assert.match(before.text, /Time: 10:00 to 10:30/);
    // The same instant given with an offset renders the same.
    const offset = renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, start: '2026-10-26T10:00:00+01:00', end: '2026-10-26T10:30:00+01:00' } });
    assert.match(offset.subject, /maandag 26 oktober 2026 om 10:00/);
  });

  it('resident confirmation (nl) addresses the resident formally and says what to prepare', () => {
    const m = renderMail({ kind: 'resident-confirmation', lang: 'nl', data: base });
    assert.equal(m.subject, 'Bevestiging van uw video-afspraak op dinsdag 1 december 2026 om 10:30');
    assert.match(m.text, /^Beste Jan de Vries,/);
    for (const want of ['rustige plek', 'camera', 'DigiD app', 'Privacy', base.link as string, base.cancelLink as string, 'vanaf 10:00 uur', 'Onderwerp: Paspoort aanvragen']) {
      assert.ok(m.text.includes(want), `text has ${want}`);
    }
    assert.doesNotMatch(m.text, /\b(je|jij|jouw)\b/i, 'formal u, never je/jij');
    assert.match(m.text, /\bu\b/);
  });

  it('resident confirmation (en)', () => {
    const m = renderMail({ kind: 'resident-confirmation', lang: 'en', data: base });
    assert.equal(m.subject, 'Confirmation of your video appointment on Tuesday 1 December 2026 at 10:30');
    for (const want of ['Dear Jan de Vries', 'quiet place', 'camera', 'DigiD app', 'Privacy', 'from 10:00']) assert.ok(m.text.includes(want), want);
  });

  it('renders all four kinds in both languages', () => {
    for (const kind of ['resident-confirmation', 'resident-cancellation', 'agent-announcement', 'agent-cancellation'] as const) {
      for (const lang of ['nl', 'en'] as const) {
        const m = renderMail({ kind, lang, data: base });
        assert.ok(m.subject.length > 10);
        assert.doesNotMatch(m.text, /\{\{/, `${kind}/${lang} leaves no placeholder`);
        assert.match(m.html, new RegExp(`<html lang="${lang}">`));
      }
    }
    assert.match(renderMail({ kind: 'resident-cancellation', lang: 'nl', data: base }).subject, /is geannuleerd/);
    assert.match(renderMail({ kind: 'agent-cancellation', lang: 'en', data: base }).subject, /^Cancelled:/);
    assert.match(renderMail({ kind: 'agent-announcement', lang: 'nl', data: base }).text, /dashboard/);
  });

  it('HTML: escapes values, makes links clickable, keeps lists', () => {
    const m = renderMail({
      kind: 'resident-confirmation',
      lang: 'nl',
      data: { ...base, name: '<script>alert("x")</script> & Co', topic: '<img src=x onerror=alert(1)>' },
    });
    assert.ok(!m.html.includes('<script>'));
    assert.ok(!m.html.includes('<img'));
    assert.ok(m.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co'));
    assert.ok(m.html.includes('<a href="https://video.example.nl/afspraak/annuleren/BBBB?x=1&amp;y=2">'));
    assert.ok(m.html.includes('<a href="https://video.example.nl/v/AAAA">'));
    assert.match(m.html, /<ul><li>een rustige plek/);
    // The text part is plain text: no escaping there.
    assert.ok(m.text.includes('<script>alert("x")</script> & Co'));
  });

  it('CR/LF and bidi tricks in name and topic never reach the subject or add lines', () => {
    const m = renderMail({
      kind: 'resident-confirmation',
      lang: 'nl',
      template: { subject: 'Afspraak over {{topic}} voor {{name}}' },
      data: { ...base, name: 'Jan\r\nBcc: victim@example.org', topic: 'Paspoort\u202e\nX-Evil: 1\u0000' },
    });
    assert.doesNotMatch(m.subject, /[\r\n\u0000\u202e]/);
    assert.equal(m.subject, 'Afspraak over Paspoort X-Evil: 1 voor Jan Bcc: victim@example.org');
    assert.match(m.text, /^Beste Jan Bcc: victim@example\.org,$/m);
    assert.doesNotMatch(m.text, /^Bcc:/m);
    assert.doesNotMatch(m.text, /^X-Evil/m);
  });

  it('substitutes once: a value that looks like a placeholder stays literal; unknown placeholders stay', () => {
    const m = renderMail({
      kind: 'resident-confirmation',
      lang: 'nl',
      template: { subject: '{{name}} {{unknown}}', text: 'Hallo {{ name }}, {{foo}} {{link}}' },
      data: { ...base, name: '{{cancelLink}}' },
    });
    assert.equal(m.subject, '{{cancelLink}} {{unknown}}');
    assert.equal(m.text, `Hallo {{cancelLink}}, {{foo}} ${base.link}`);
    assert.ok(!m.html.includes('BBBB'), 'the cancel link was not smuggled in');
    assert.ok(m.html.includes('{{foo}}'));
  });

  it('custom text templates get a matching HTML part; custom HTML gets escaped values', () => {
    const t = renderMail({ kind: 'agent-announcement', lang: 'nl', template: { text: 'Gesprek: {{topic}}\n\n{{link}}' }, data: base });
    assert.equal(t.text, `Gesprek: Paspoort aanvragen\n\n${base.link}`);
    assert.match(t.html, /<p>Gesprek: Paspoort aanvragen<\/p>\n<p><a href=/);
    assert.ok(!t.html.includes('ingepland'), 'not the default wording');
    const h = renderMail({
      kind: 'agent-announcement',
      lang: 'nl',
      template: { html: '<p class="x">Voor {{name}}: <a href="{{link}}">start</a></p>' },
      data: { ...base, name: '"><b>x</b>', link: 'https://video.example.nl/v/Q' },
    });
    assert.ok(h.html.includes('<p class="x">Voor &quot;&gt;&lt;b&gt;x&lt;/b&gt;: <a href="https://video.example.nl/v/Q">start</a></p>'));
  });

  it('multi-line remarks keep their lines in text and become <br> in HTML', () => {
    const m = renderMail({
      kind: 'agent-announcement',
      lang: 'nl',
      template: { text: 'Opmerkingen:\n{{remarks}}' },
      data: { ...base, remarks: 'regel 1\r\nregel <2>\u202e\n\n\n\nregel 3' },
    });
    assert.equal(m.text, 'Opmerkingen:\nregel 1\nregel <2>\n\nregel 3');
    assert.ok(m.html.includes('regel 1<br>regel &lt;2&gt;<br><br>regel 3'));
  });

  it('refuses bad data with clear errors', () => {
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, link: 'javascript:alert(1)' } }), /link must be/);
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, cancelLink: 'https://x.nl/"><script>' } }), /cancelLink/);
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, end: base.start } }), /end must be after start/);
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'nl', data: { ...base, start: '2026-12-01 10:30' } }), /start/);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.throws(() => renderMail({ kind: 'spam' as any, lang: 'nl', data: base }), /kind/);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'de' as any, data: base }), /lang/);
    assert.throws(() => renderMail({ kind: 'resident-confirmation', lang: 'nl', template: { subject: '   ' }, data: base }), /subject is empty/);
  });
});
