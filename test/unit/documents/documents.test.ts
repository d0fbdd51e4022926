import { strict as assert } from 'node:assert';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { isUserError } from '../../../lib/errors';
import { checkPdf } from '../../../lib/documents/pdf-check';
import { DocumentService } from '../../../lib/documents/service';
import { declaredKind, sniffKind } from '../../../lib/documents/sniff';

/** A real JPEG with EXIF (camera make and a GPS position), made with sharp itself. */
export async function jpegWithExif(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withExif({ IFD0: { Make: 'TestCam-GEHEIM', Model: 'X1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 5/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 18/1 0/1' } })
    .toBuffer();
}

/** A minimal PDF 1.7 whose catalog carries `extra` (e.g. an OpenAction); `objStm` puts it in a compressed object stream. */
export function pdf(extra = '', objStm = false): Buffer {
  if (!objStm) {
    return Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${extra} >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`, 'latin1');
  }
  const inner = deflateSync(Buffer.from(`1 0 << /Type /Catalog ${extra} >>`, 'latin1'));
  return Buffer.concat([
    Buffer.from(`%PDF-1.7\n3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${inner.length} >>\nstream\n`, 'latin1'),
    inner,
    Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
  ]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (isUserError(e)) return `${e.status} ${e.code}`;
    throw e;
  }
}

describe('documents: what a resident shares is sniffed, cleaned and kept in memory only', () => {
  let docs: DocumentService;
  beforeEach(() => {
    docs = new DocumentService();
  });
  afterEach(() => docs.close());

  it('sniffs the kind from the bytes, never from the name or the claimed type', async () => {
    assert.equal(sniffKind(await jpegWithExif()), 'jpeg');
    assert.equal(sniffKind(await sharp({ create: { width: 2, height: 2, channels: 3, background: 'white' } }).png().toBuffer()), 'png');
    assert.equal(sniffKind(pdf()), 'pdf');
    assert.equal(sniffKind(Buffer.from('GIF89a....')), undefined);
    assert.equal(sniffKind(Buffer.from('<html><script>')), undefined);
    assert.equal(declaredKind('image/jpeg; charset=x'), 'jpeg');
    assert.equal(declaredKind(''), 'none');
    assert.equal(declaredKind('text/html'), 'other');
  });

  it('re-encodes a photo: EXIF, camera make and GPS are gone from the bytes the agent and a flow get', async () => {
    const raw = await jpegWithExif();
    assert.ok(raw.includes(Buffer.from('TestCam-GEHEIM')), 'the test photo carries EXIF');
    const info = await docs.share('A1', 'image/jpeg', raw);
    const view = docs.view(info.documentId, 'A1', 'agent1');
    assert.ok(view);
    assert.equal(view.mime, 'image/jpeg');
    assert.ok(!view.bytes.includes(Buffer.from('TestCam-GEHEIM')), 'no camera make');
    assert.ok(!view.bytes.includes(Buffer.from('Exif\0\0')), 'no EXIF block at all');
    const meta = await sharp(view.bytes).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.width, 64);
    assert.equal(docs.view(info.documentId, 'OTHER', 'agent2'), undefined, 'another appointment never gets it');
  });

  it('refuses other types, liars, oversized files, decompression bombs and PDFs with scripts or attachments', async () => {
    const jpeg = await jpegWithExif();
    assert.equal(await refusal(docs.share('A1', 'image/gif', Buffer.from('GIF89a'))), '415 type_not_allowed');
    assert.equal(await refusal(docs.share('A1', 'image/png', jpeg)), '415 type_mismatch', 'a JPEG named .png');
    assert.equal(await refusal(docs.share('A1', 'image/jpeg', Buffer.from('MZ\x90\x00 not a photo'))), '415 type_mismatch', 'a program named .jpg');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', Buffer.alloc(0))), '422 empty');
    const small = new DocumentService({ maxBytes: 1000 });
    assert.equal(await refusal(small.share('A1', 'image/jpeg', Buffer.concat([jpeg, Buffer.alloc(2000)]))), '413 too_large');
    small.close();
    // A small PNG whose header claims 50 000 × 50 000 pixels (7.5 GB once decoded): refused from the header.
    const bomb = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).png().toBuffer();
    bomb.writeUInt32BE(50_000, 16);
    bomb.writeUInt32BE(50_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    assert.equal(await refusal(docs.share('A1', 'image/png', bomb)), '422 too_many_pixels');
    assert.equal(await refusal(docs.share('A1', 'image/jpeg', Buffer.concat([jpeg.subarray(0, 40), Buffer.alloc(100)]))), '422 unreadable');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', pdf('/OpenAction << /S /JavaScript /JS (app.alert(1)) >>'))), '422 active_content');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', pdf('/Names << /EmbeddedFiles 5 0 R >>'))), '422 active_content');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', pdf('/OpenAction << /S /J#61vaScript >>'))), '422 active_content', 'a #-escaped name');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', pdf('/OpenAction << /S /JavaScript >>', true))), '422 active_content', 'inside a compressed object stream');
    assert.equal(await refusal(docs.share('A1', 'application/pdf', pdf('/Encrypt 9 0 R'))), '422 encrypted');
    assert.equal(docs.stats().documents, 0, 'nothing refused is kept');
    assert.equal((await docs.share('A1', 'application/pdf', pdf())).kind, 'pdf');
    assert.equal((await docs.share('A1', '', pdf('', true))).kind, 'pdf', 'no claimed type: the bytes decide');
  });

  it('refuses a PDF whose object stream inflates beyond the budget (a zip bomb), without filling memory', () => {
    const huge = deflateSync(Buffer.alloc(80 * 1024 * 1024, 0x20), { level: 9 });
    const bomb = Buffer.concat([
      Buffer.from(`%PDF-1.7\n3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${huge.length} >>\nstream\n`, 'latin1'),
      huge,
      Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
    ]);
    assert.ok(bomb.length < 200 * 1024);
    assert.equal(checkPdf(bomb), 'too_complex');
  });

  it('deletes on "Verwijder nu", at the end of the call and at the TTL, zeroing the bytes; a flow fetches once', async () => {
    const a = await docs.share('A1', 'application/pdf', pdf());
    const kept = docs.get(a.documentId)!.bytes;
    const fetch = docs.issueFetch(a.documentId);
    assert.ok(docs.redeemFetch(fetch.token));
    assert.equal(docs.redeemFetch(fetch.token), undefined, 'the fetch link works once');
    assert.equal(docs.delete(a.documentId, 'OTHER', 'agent_deleted'), false);
    assert.equal(docs.delete(a.documentId, 'A1', 'agent_deleted'), true);
    assert.ok(kept.every((b) => b === 0), 'the bytes are zeroed in memory');
    assert.throws(() => docs.issueFetch(a.documentId), /does not exist/);

    const b = await docs.share('A2', 'application/pdf', pdf());
    assert.equal(docs.callEnded('A2'), 1);
    assert.equal(docs.get(b.documentId), undefined);

    const short = new DocumentService({ ttlMinutes: 0.002 });
    const gone: string[] = [];
    short.on('deleted', (d) => gone.push(d.reason));
    const c = await short.share('A3', 'application/pdf', pdf());
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(short.get(c.documentId), undefined);
    assert.deepEqual(gone, ['ttl']);
    short.close();
  });
});
