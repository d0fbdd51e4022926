import { inflateSync, constants as zlib } from 'node:zlib';

/**
 * Refuses PDFs that can run or carry something (ISO 32000-1 §12.6 actions, §7.11.4 embedded files, §12.7.8 XFA):
 * JavaScript (/JavaScript, /JS), attached files (/EmbeddedFile(s)), launching programs (/Launch), rich media, XFA
 * forms, form submission and data import, go-to-embedded actions — and encrypted PDFs, whose insides cannot be
 * checked. Such a file is refused, not neutralised: the agent opens a PDF in their own viewer (a download), and a file
 * with a script stripped out is no longer the document the resident meant to share.
 *
 * Names are read from the file body and from the object streams (§7.5.7, where a PDF 1.5+ keeps most dictionaries,
 * compressed), with #xx escapes decoded (§7.3.5: /J#61vaScript is /JavaScript). Object streams are inflated with a
 * total output budget (zlib's maxOutputLength): a decompression bomb hits the budget and is refused instead of
 * filling memory. A false alarm (the word in a string) refuses a harmless file; the resident can send a photo of it.
 */
export type PdfProblem = 'active_content' | 'encrypted' | 'too_complex' | 'unreadable';

export interface PdfCheckOptions {
  /** Bytes all object streams may inflate to together. Default 64 MiB. */
  maxInflatedBytes?: number;
  /** Object streams looked into at most. Default 5000. */
  maxObjectStreams?: number;
}

const ACTIVE = new Set(['JavaScript', 'JS', 'EmbeddedFile', 'EmbeddedFiles', 'Launch', 'RichMedia', 'XFA', 'SubmitForm', 'ImportData', 'GoToE']);
const NAME = /\/([^\x00\x09\x0a\x0c\x0d\x20()<>[\]{}/%]{1,127})/g;

function decodeName(raw: string): string {
  return raw.includes('#') ? raw.replace(/#([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) : raw;
}

function namesIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(NAME)) out.add(decodeName(m[1]));
  return out;
}

function firstProblem(names: Set<string>): PdfProblem | undefined {
  if (names.has('Encrypt')) return 'encrypted';
  for (const n of names) if (ACTIVE.has(n)) return 'active_content';
  return undefined;
}

/** undefined when the PDF may be shown; otherwise why not. */
export function checkPdf(bytes: Buffer, o: PdfCheckOptions = {}): PdfProblem | undefined {
  let budget = o.maxInflatedBytes ?? 64 * 1024 * 1024;
  const maxStreams = o.maxObjectStreams ?? 5000;
  const text = bytes.toString('latin1');
  const direct = firstProblem(namesIn(text));
  if (direct) return direct;
  let streams = 0;
  const streamStart = /\bstream(\r\n|\n|\r)/g;
  for (let m = streamStart.exec(text); m; m = streamStart.exec(text)) {
    const dictEnd = m.index;
    const objAt = text.lastIndexOf(' obj', dictEnd);
    if (objAt < 0) continue;
    const dict = text.slice(objAt, dictEnd);
    const names = namesIn(dict);
    if (!names.has('ObjStm')) continue;
    if (++streams > maxStreams) return 'too_complex';
    const dataStart = m.index + m[0].length;
    const end = text.indexOf('endstream', dataStart);
    if (end < 0) return 'unreadable';
    streamStart.lastIndex = end;
    const data = bytes.subarray(dataStart, end);
    if (!names.has('Filter')) {
      // Uncompressed: its names were part of the body scanned above.
      continue;
    }
    // Another filter, or a predictor that scrambles the inflated bytes: we cannot look inside, so it is not shown.
    if (!names.has('FlateDecode') || names.has('Predictor')) return 'too_complex';
    let inflated: Buffer;
    try {
      inflated = inflateSync(data, { maxOutputLength: Math.max(1, budget), finishFlush: zlib.Z_SYNC_FLUSH });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return 'too_complex';
      return 'unreadable';
    }
    budget -= inflated.length;
    if (budget <= 0) return 'too_complex';
    const inner = firstProblem(namesIn(inflated.toString('latin1')));
    if (inner) return inner;
  }
  return undefined;
}
