/**
 * The one rule for text a person typed — a resident's name, e-mail remarks and phone, a topic or purpose an
 * administrator configured, an employee's display name — wherever it is shown: our pages (lib/http/html.ts escapes
 * through it), mail headers and bodies and invites (lib/mail/sanitize.ts), the KCC list, the agent dashboard, and at
 * input (lib/appointments/booking-input.ts stores it already cleaned).
 *
 * - Unicode NFC, so one name is one string however it was typed (e + U+0301 and é are the same name).
 * - Line breaks (CR, LF, CRLF, NEL U+0085, LINE SEPARATOR U+2028, PARAGRAPH SEPARATOR U+2029) are a line break where
 *   the field keeps lines (remarks) and a space everywhere else: a name or a header never spans lines.
 * - Other C0 and C1 controls (tab included) become a space.
 * - Invisible characters that hide, disguise or reorder text are removed: bidi embeddings, overrides and isolates
 *   (U+202A–202E, U+2066–2069), direction marks (U+200E, U+200F, U+061C), zero-width space U+200B, word joiner and
 *   invisible operators (U+2060–2064), deprecated format controls (U+206A–206F), U+FEFF, interlinear annotation
 *   (U+FFF9–FFFB). Unicode TR 36 (security considerations) and TR 9 (bidi) describe the spoofing these allow.
 * - Kept as typed: ZERO WIDTH NON-JOINER and JOINER (U+200C, U+200D) — they build emoji sequences (👩🏽‍💻) and are
 *   spelling in Persian and Indic scripts; non-ASCII spaces such as the ideographic space U+3000.
 * - A lone surrogate (half a character) becomes U+FFFD.
 */

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g;
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u0084\u0086-\u009f]/g;
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The character rule alone (no trimming, no length limit): what every renderer applies to any text it shows.
 * `multiline` keeps line breaks as "\n"; otherwise they become spaces.
 */
export function cleanTypedChars(value: unknown, multiline = true): string {
  if (value === undefined || value === null) return '';
  return String(value)
    .replace(LONE_SURROGATE, '\ufffd')
    .normalize('NFC')
    .replace(LINE_BREAK, multiline ? '\n' : ' ')
    .replace(CONTROL, ' ')
    .replace(INVISIBLE, '');
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** At most `max` user-perceived characters: never half a surrogate pair, an emoji sequence or a letter with its accent. */
export function cutGraphemes(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  let n = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (++n > max) break;
    out += segment;
  }
  return out;
}

/** A one-line field (name, topic, a mail header): the rule, runs of spaces as one, trimmed, at most `maxLength`. */
export function typedLine(value: unknown, maxLength = 200): string {
  const text = cleanTypedChars(value, false).replace(/ {2,}/g, ' ').trim();
  return cutGraphemes(text, maxLength).trimEnd();
}

/** A multi-line field (remarks): the rule, lines trimmed, at most one empty line in a row, at most `maxLength`. */
export function typedLines(value: unknown, maxLength = 2000): string {
  const text = cleanTypedChars(value, true)
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return cutGraphemes(text, maxLength);
}
