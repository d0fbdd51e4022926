import assert from 'node:assert/strict';
import { escapeHtml, headerSafe, isEmailAddress, isHttpUrl, multilineSafe, normalizeEmail } from '../../../lib/mail/sanitize';

describe('mail sanitize', () => {
  it('headerSafe flattens CR/LF, controls and bidi overrides to one line', () => {
    assert.equal(headerSafe('Jan\r\nBcc: x@y.nl'), 'Jan Bcc: x@y.nl');
    assert.equal(headerSafe('a\u0000b\u0007c\u007fd\u0085e'), 'a b c d e');
    assert.equal(headerSafe('\u202eevil\u202c \u2066x\u2069\u200b'), 'evil x');
    assert.equal(headerSafe('  many    spaces\t\there '), 'many spaces here');
    assert.equal(headerSafe(undefined), '');
    assert.equal(headerSafe(null), '');
    assert.equal(headerSafe(12), '12');
    assert.equal(headerSafe('x'.repeat(300), 10), 'x'.repeat(10));
    assert.equal(Array.from(headerSafe('😀'.repeat(5), 3)).length, 3, 'cut on code points');
    assert.equal(headerSafe('a\u2028b'), 'a b', 'a line separator is a line break: a space in one line');
  });

  it('multilineSafe keeps line breaks but nothing else invisible', () => {
    assert.equal(multilineSafe('a\r\nb\rc\n\n\n\nd\u202e\u0000'), 'a\nb\nc\n\nd');
  });

  it('isEmailAddress accepts ordinary addresses and refuses anything that could carry more', () => {
    for (const ok of ['jan@example.nl', 'j.de.vries+test@sub.gemeente.nl', "o'brien@example.com", 'x@xn--bcher-kva.example']) {
      assert.ok(isEmailAddress(ok), ok);
    }
    for (const bad of [
      'jan@example',
      'jan@@example.nl',
      'jan@exa mple.nl',
      'jan@example.nl\r\nBcc: x@y.nl',
      'jan@example.nl, other@example.nl',
      '"jan"@example.nl',
      '<jan@example.nl>',
      'Jan <jan@example.nl>',
      '.jan@example.nl',
      'jan.@example.nl',
      'jan@-example.nl',
      'jan@example.123',
      'a'.repeat(65) + '@example.nl',
      'a@' + 'b'.repeat(250) + '.nl',
      '',
      undefined,
      42,
    ]) {
      assert.ok(!isEmailAddress(bad), String(bad));
    }
  });

  it('normalizeEmail trims and lower-cases the domain, and never echoes the value in errors', () => {
    assert.equal(normalizeEmail(' Jan@Example.NL '), 'Jan@example.nl');
    assert.throws(() => normalizeEmail('secret-person@', 'recipient'), (e: Error) => e.message === 'recipient is not a valid e-mail address');
  });

  it('escapeHtml and isHttpUrl', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.ok(isHttpUrl('https://video.example.nl/v/abc'));
    assert.ok(isHttpUrl('http://127.0.0.1:1880/v/abc'));
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'https://x.nl/a b', 'https://x.nl/"', '/relative', '', 'ftp://x.nl/']) {
      assert.ok(!isHttpUrl(bad), bad);
    }
  });
});
