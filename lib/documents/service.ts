import { EventEmitter } from 'node:events';
import { UserError } from '../errors';
import { ExactCache } from '../memory/exact-cache';
import { hashToken, looksLikeToken, newToken } from '../security/tokens';
import { reencodeImage, isCleanImage } from './image';
import { checkPdf, type PdfProblem } from './pdf-check';
import { declaredKind, MIME, sniffKind, type DocumentKind } from './sniff';

/**
 * Documents and photos a resident shares in a call (issue 13.2): checked, cleaned and kept in memory only, for the
 * assigned agent's eyes (and a flow's one-time fetch), gone at "Verwijder nu", at the end of the call and after
 * TTL_MINUTES — the discipline of lib/attributes/cache.ts (lib/memory/exact-cache.ts: exact expiry, bytes zeroed on
 * every way out). Never on disk, in a log line or in a Node-RED message: messages carry `documentId`, kind and size.
 */

/** Largest file taken, in bytes: a scanned letter or a phone photo fits; more is not a conversation's document. */
export const MAX_BYTES = 10 * 1024 * 1024;
/** Minutes a document lives: as long as verified attributes by default (a few minutes to look at it and hand it on). */
export const TTL_MINUTES = 15;
/** Live documents per appointment at once. */
export const MAX_PER_APPOINTMENT = 5;
/** Bytes all live documents together may take in memory (of the runtime process). */
export const MAX_TOTAL_BYTES = 200 * 1024 * 1024;
/** Seconds a flow's one-time fetch link lives. */
export const FETCH_SECONDS = 120;

export interface SharedDocument {
  documentId: string;
  appointmentId: string;
  kind: DocumentKind;
  /** Bytes after cleaning (what the agent gets). */
  size: number;
  bytes: Buffer;
  sharedAt: string;
  expiresAt: string;
  width?: number;
  height?: number;
}

/** What pages and messages may carry: references and sizes, never bytes. */
export interface DocumentInfo {
  documentId: string;
  appointmentId: string;
  kind: DocumentKind;
  size: number;
  sharedAt: string;
  expiresAt: string;
}

export type RefusalCode = 'too_large' | 'empty' | 'type_not_allowed' | 'type_mismatch' | 'too_many_pixels' | 'unreadable' | PdfProblem | 'too_many' | 'memory_full';

/** Events: 'shared' / 'deleted' / 'fetched', all DocumentInfo (+ reason for deleted). Never bytes. */
export interface DocumentEvents {
  shared: [DocumentInfo];
  deleted: [DocumentInfo & { reason: 'agent_deleted' | 'call_ended' | 'ttl' | 'resident_deleted' }];
  viewed: [DocumentInfo & { by: string }];
  fetched: [DocumentInfo];
}

const REFUSAL_TEXT: Record<RefusalCode, string> = {
  too_large: `Dit bestand is te groot: hoogstens ${MAX_BYTES / 1024 / 1024} MB. / This file is too large: at most ${MAX_BYTES / 1024 / 1024} MB.`,
  empty: 'Dit bestand is leeg. / This file is empty.',
  type_not_allowed: 'U kunt alleen een foto (JPEG of PNG) of een PDF delen. / You can only share a photo (JPEG or PNG) or a PDF.',
  type_mismatch: 'Dit bestand is niet wat de naam zegt (bijvoorbeeld een ander bestand met .jpg erachter). Deel een echte foto of PDF. / This file is not what its name says. Please share a real photo or PDF.',
  too_many_pixels: 'Deze afbeelding heeft te veel beeldpunten (hoogstens 40 megapixel). Maak een kleinere foto. / This image has too many pixels (at most 40 megapixels).',
  unreadable: 'Dit bestand is beschadigd of kan niet worden gelezen. / This file is damaged or cannot be read.',
  active_content: 'Deze PDF bevat scripts of bijgevoegde bestanden en wordt daarom niet gedeeld. Deel een foto of een afdruk naar PDF van het document. / This PDF contains scripts or attached files and is not shared.',
  encrypted: 'Deze PDF is beveiligd met een wachtwoord of versleuteld en kan niet worden gecontroleerd. / This PDF is encrypted and cannot be checked.',
  too_complex: 'Deze PDF kan niet veilig worden gecontroleerd (te groot uitgepakt of onbekende compressie). Deel een foto van het document. / This PDF cannot be checked safely.',
  too_many: `U kunt hoogstens ${MAX_PER_APPOINTMENT} documenten tegelijk delen. / You can share at most ${MAX_PER_APPOINTMENT} documents at a time.`,
  memory_full: 'Delen lukt nu even niet. Probeer het over een paar minuten opnieuw. / Sharing is not possible right now; try again in a few minutes.',
};

const STATUS: Partial<Record<RefusalCode, number>> = { too_large: 413, type_not_allowed: 415, type_mismatch: 415, too_many: 429, memory_full: 503 };

/** A refusal the resident reads: status, code and a sentence in Dutch and English. */
export function refusal(code: RefusalCode): UserError {
  return new UserError(STATUS[code] ?? 422, code, REFUSAL_TEXT[code]);
}

export interface DocumentServiceOptions {
  ttlMinutes?: number;
  maxBytes?: number;
  maxPixels?: number;
  fetchSeconds?: number;
  now?: () => number;
}

function info(d: SharedDocument): DocumentInfo {
  return { documentId: d.documentId, appointmentId: d.appointmentId, kind: d.kind, size: d.size, sharedAt: d.sharedAt, expiresAt: d.expiresAt };
}

export class DocumentService extends EventEmitter<DocumentEvents> {
  private readonly docs: ExactCache<SharedDocument>;
  /** One-time fetch links of flows: token hash -> document id (memory, FETCH_SECONDS). */
  private readonly fetches: ExactCache<{ documentId: string }>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private totalBytes = 0;

  constructor(private readonly o: DocumentServiceOptions = {}) {
    super();
    this.now = o.now ?? Date.now;
    this.ttlMs = (o.ttlMinutes ?? TTL_MINUTES) * 60_000;
    this.docs = new ExactCache<SharedDocument>({
      maxEntries: 2000,
      wipe: (d) => {
        this.totalBytes -= d.bytes.length;
        d.bytes.fill(0);
        d.bytes = Buffer.alloc(0);
      },
      onExpired: (_id, d) => this.emit('deleted', { ...info(d), reason: 'ttl' }),
    });
    this.fetches = new ExactCache<{ documentId: string }>({ maxEntries: 10_000, wipe: (f) => (f.documentId = '') });
  }

  /** Seconds a document lives (for the pages' countdown). */
  get ttlSeconds(): number {
    return this.ttlMs / 1000;
  }

  /**
   * Checks, cleans and keeps a file the resident of `appointmentId` shares. `contentType` is what the browser claims
   * (only compared with what the bytes say). Throws the refusal (UserError 413/415/422/429/503) with a text for the
   * resident; nothing is kept then. Images come back re-encoded (EXIF/GPS gone); PDFs as sent, after the check.
   */
  async share(appointmentId: string, contentType: string | undefined, raw: Buffer): Promise<DocumentInfo> {
    const maxBytes = this.o.maxBytes ?? MAX_BYTES;
    if (raw.length === 0) throw refusal('empty');
    if (raw.length > maxBytes) throw refusal('too_large');
    const declared = declaredKind(contentType);
    if (declared === 'other') throw refusal('type_not_allowed');
    const kind = sniffKind(raw);
    if (!kind) throw refusal(declared === 'none' ? 'type_not_allowed' : 'type_mismatch');
    if (declared !== 'none' && declared !== kind) throw refusal('type_mismatch');
    if (this.forAppointment(appointmentId).length >= MAX_PER_APPOINTMENT) throw refusal('too_many');
    if (this.totalBytes + raw.length > MAX_TOTAL_BYTES) throw refusal('memory_full');

    let bytes: Buffer;
    let size: { width?: number; height?: number } = {};
    if (kind === 'pdf') {
      const problem = checkPdf(raw);
      if (problem) throw refusal(problem);
      bytes = Buffer.from(raw);
    } else {
      const clean = await reencodeImage(raw, kind, this.o.maxPixels);
      if (!isCleanImage(clean)) throw refusal(clean);
      bytes = clean.bytes;
      size = { width: clean.width, height: clean.height };
    }
    const now = this.now();
    const doc: SharedDocument = {
      documentId: newToken(16),
      appointmentId,
      kind,
      size: bytes.length,
      bytes,
      sharedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttlMs).toISOString(),
      ...size,
    };
    if (!this.docs.put(doc.documentId, doc, this.ttlMs)) {
      bytes.fill(0);
      throw refusal('memory_full');
    }
    this.totalBytes += bytes.length;
    this.emit('shared', info(doc));
    return info(doc);
  }

  /** References of an appointment's live documents, oldest first. */
  forAppointment(appointmentId: string): DocumentInfo[] {
    return this.docs
      .keys()
      .map((k) => this.docs.get(k))
      .filter((d): d is SharedDocument => !!d && d.appointmentId === appointmentId)
      .map(info)
      .sort((a, b) => a.sharedAt.localeCompare(b.sharedAt));
  }

  /** The live document (the stored object: read, send, never keep), or undefined. */
  get(documentId: unknown): SharedDocument | undefined {
    return typeof documentId === 'string' && /^[A-Za-z0-9_-]{22}$/.test(documentId) ? this.docs.get(documentId) : undefined;
  }

  /** The bytes for the appointment's agent; `by` is logged as the viewer. */
  view(documentId: unknown, appointmentId: string, by: string): { bytes: Buffer; kind: DocumentKind; mime: string } | undefined {
    const d = this.get(documentId);
    if (!d || d.appointmentId !== appointmentId) return undefined;
    this.emit('viewed', { ...info(d), by });
    return { bytes: d.bytes, kind: d.kind, mime: MIME[d.kind] };
  }

  /** "Verwijder nu" (the agent) or "Intrekken" (the resident): gone at once. */
  delete(documentId: unknown, appointmentId: string, reason: 'agent_deleted' | 'resident_deleted'): boolean {
    const d = this.get(documentId);
    if (!d || d.appointmentId !== appointmentId) return false;
    const i = info(d);
    this.docs.delete(d.documentId);
    this.emit('deleted', { ...i, reason });
    return true;
  }

  /** The call ended: every document of it goes. Returns how many. */
  callEnded(appointmentId: string): number {
    const list = this.forAppointment(appointmentId);
    for (const i of list) {
      this.docs.delete(i.documentId);
      this.emit('deleted', { ...i, reason: 'call_ended' });
    }
    return list.length;
  }

  /**
   * A flow asks for a document by id (idv-fetch-document): a one-time link token, valid FETCH_SECONDS and no longer
   * than the document. Only the token's hash is kept. Throws 404 when the document is gone.
   */
  issueFetch(documentId: unknown): { token: string; expiresAt: string; kind: DocumentKind; size: number; appointmentId: string } {
    const d = this.get(documentId);
    if (!d) throw new UserError(404, 'document_gone', 'the document does not exist (any more): deleted, ended with the call or expired');
    const token = newToken();
    const ms = Math.min((this.o.fetchSeconds ?? FETCH_SECONDS) * 1000, Date.parse(d.expiresAt) - this.now());
    if (ms < 1 || !this.fetches.put(hashToken(token), { documentId: d.documentId }, ms)) {
      throw new UserError(503, 'fetch_unavailable', 'no fetch link can be issued right now');
    }
    return { token, expiresAt: new Date(this.now() + ms).toISOString(), kind: d.kind, size: d.size, appointmentId: d.appointmentId };
  }

  /** Redeems a fetch token once: the bytes, or undefined (unknown, used, expired, document gone). */
  redeemFetch(token: unknown): { bytes: Buffer; kind: DocumentKind; mime: string; documentId: string } | undefined {
    if (!looksLikeToken(token)) return undefined;
    const key = hashToken(token);
    const entry = this.fetches.get(key);
    const documentId = entry?.documentId;
    this.fetches.delete(key);
    const d = documentId ? this.docs.get(documentId) : undefined;
    if (!d) return undefined;
    this.emit('fetched', info(d));
    return { bytes: d.bytes, kind: d.kind, mime: MIME[d.kind], documentId: d.documentId };
  }

  stats(): { documents: number; bytes: number } {
    return { documents: this.docs.size, bytes: this.totalBytes };
  }

  close(): void {
    this.docs.close();
    this.fetches.close();
    this.removeAllListeners();
  }
}
