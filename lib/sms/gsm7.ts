/**
 * SMS text encoding and segment counting.
 *
 * Rules and numbers from 3GPP TS 23.038 (§6.2.1 the GSM 7-bit default alphabet, §6.2.1.1 its extension table reached
 * through ESC, §6.2.3 UCS-2) and 3GPP TS 23.040 (§9.2.3.24.1: a concatenated message carries a 6-octet user data
 * header, leaving 153 septets or 67 UCS-2 characters per part of the 140-octet user data; a single message has 160
 * septets or 70 UCS-2 characters).
 */

/** The GSM 7-bit default alphabet, in code order (0x1B, ESC, is left out: it only introduces the extension table). */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: each of these costs two septets (ESC + code). */
const EXTENSION = '\f^{}\\[~]|€';

const BASIC_SET = new Set(BASIC);
const EXTENSION_SET = new Set(EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text. */
  units: number;
  /** Parts the text is sent in (0 for an empty text). */
  segments: number;
  /** Units that fit in one part at this length: 160/70 for a single message, 153/67 per part of a longer one. */
  perSegment: number;
}

/** Septets a character costs in GSM-7 (1 or 2), or undefined when GSM-7 cannot carry it. */
function septets(ch: string): 1 | 2 | undefined {
  if (BASIC_SET.has(ch)) return 1;
  if (EXTENSION_SET.has(ch)) return 2;
  return undefined;
}

/** True when every character of the text is in the GSM-7 default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (septets(ch) === undefined) return false;
  return true;
}

/**
 * How a text is sent: GSM-7 when every character allows it, else UCS-2 (UTF-16; a character outside the BMP, such
 * as an emoji, takes two units). A part never splits an ESC pair or a surrogate pair, so a long text can need one
 * part more than units / perSegment suggests.
 */
export function countSegments(text: string): SegmentCount {
  const gsm = isGsm7(text);
  const costs: number[] = [];
  for (const ch of text) costs.push(gsm ? (septets(ch) as number) : ch.length);
  const units = costs.reduce((a, b) => a + b, 0);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  if (units === 0) return { encoding, units, segments: 0, perSegment: single };
  if (units <= single) return { encoding, units, segments: 1, perSegment: single };
  let segments = 1;
  let fill = 0;
  for (const cost of costs) {
    if (fill + cost > multi) {
      segments++;
      fill = 0;
    }
    fill += cost;
  }
  return { encoding, units, segments, perSegment: multi };
}

/** Look-alikes that keep a text in GSM-7: typographic punctuation and spaces people and editors produce. */
const LOOKALIKES: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u2032': "'",
  '`': "'",
  '\u00b4': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\u202f': ' ',
  '\u2009': ' ',
  '\u2007': ' ',
  '\t': ' ',
  '\u2022': '-',
  '\u00b7': '-',
};

/**
 * Replaces characters GSM-7 lacks by the nearest ones it has, so a text stays in the cheaper encoding: typographic
 * quotes, dashes and spaces by their plain forms, and letters with an accent GSM-7 does not carry (ë, ï, ô, ç…) by
 * the letter without it (é, è, ä, ö, ü… are in GSM-7 and stay). Characters with no near form (emoji, other scripts)
 * stay: the text is then sent as UCS-2.
 */
export function toGsm7(text: string): string {
  let out = '';
  for (const ch of text) {
    if (septets(ch) !== undefined) {
      out += ch;
      continue;
    }
    const lookalike = LOOKALIKES[ch];
    if (lookalike !== undefined) {
      out += lookalike;
      continue;
    }
    const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    out += base !== ch && base.length > 0 && isGsm7(base) ? base : ch;
  }
  return out;
}
