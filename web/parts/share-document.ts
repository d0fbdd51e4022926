/**
 * The resident shares a document or photo (lib/documents): from the phone's camera or a file, sent as the raw body
 * with the type the browser claims; the server checks what the bytes really are, cleans photos and answers with a
 * sentence for the resident when it refuses. The outcome is said in a live region.
 */
import { amsterdamClock } from '../../lib/zone';
import { byId, type Texts } from '../call-client';

function fill(text: string | undefined, values: Record<string, string>): string {
  return (text ?? '').replace(/\{(\w+)\}/g, (_m, k: string) => values[k] ?? '');
}

async function upload(file: File, t: Texts): Promise<void> {
  const result = byId('doc-result');
  result.textContent = t.docSending ?? '';
  try {
    const res = await fetch('call/documents', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': file.type || 'application/octet-stream', accept: 'application/json' },
      body: file,
    });
    const body = (await res.json().catch(() => ({}))) as { message?: string; document?: { documentId?: string; kind?: string; sharedAt?: string; expiresAt?: string } };
    if (!res.ok) {
      result.textContent = body.message ?? t.docFailed ?? '';
      result.dataset.state = 'refused';
      return;
    }
    const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
    result.textContent = fill(t.docShared, { kind: t[`kind_${body.document?.kind ?? ''}`] ?? '', until: amsterdamClock(body.document?.expiresAt ?? '', lang) });
    result.dataset.state = 'shared';
    if (typeof body.document?.documentId === 'string') listShared(body.document as { documentId: string; kind?: string; sharedAt?: string }, t, lang);
  } catch {
    result.textContent = t.docFailed ?? '';
    result.dataset.state = 'refused';
  }
}

/** One line per live document with its "Intrekken" button, so the resident can take it back before its time is up. */
function listShared(d: { documentId: string; kind?: string; sharedAt?: string }, t: Texts, lang: 'nl' | 'en'): void {
  const list = byId('doc-list');
  const item = document.createElement('li');
  item.className = 'idv-doc-item';
  item.dataset.documentId = d.documentId;
  const label = document.createElement('span');
  const kind = t[`kind_${d.kind ?? ''}`] ?? '';
  label.textContent = fill(t.docItem, { kind: kind.charAt(0).toUpperCase() + kind.slice(1), at: amsterdamClock(d.sharedAt ?? new Date().toISOString(), lang) });
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'utrecht-button utrecht-button--secondary-action idv-doc-withdraw';
  button.textContent = t.docWithdraw ?? '';
  button.addEventListener('click', () => void withdraw(d.documentId, button, t));
  item.append(label, ' ', button);
  list.append(item);
  list.hidden = false;
}

async function withdraw(documentId: string, button: HTMLButtonElement, t: Texts): Promise<void> {
  const result = byId('doc-result');
  button.disabled = true;
  try {
    const res = await fetch(`call/documents/${encodeURIComponent(documentId)}/delete`, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json' } });
    // Already gone (time up, the agent deleted it): the same outcome for the resident.
    if (!res.ok && res.status !== 404) throw new Error(String(res.status));
    unlist(documentId);
    result.textContent = t.docWithdrawn ?? '';
    result.dataset.state = 'withdrawn';
  } catch {
    button.disabled = false;
    result.textContent = t.docWithdrawFailed ?? '';
    result.dataset.state = 'refused';
  }
}

function unlist(documentId: string | undefined): void {
  const list = document.getElementById('doc-list');
  if (!list) return;
  for (const item of Array.from(list.querySelectorAll<HTMLElement>('li'))) if (!documentId || item.dataset.documentId === documentId) item.remove();
  list.hidden = list.childElementCount === 0;
}

export function wireDocumentSharing(t: Texts): void {
  for (const [button, input] of [['doc-camera-button', 'doc-camera'], ['doc-file-button', 'doc-file']] as const) {
    const el = byId<HTMLInputElement>(input);
    byId(button).addEventListener('click', () => el.click());
    el.addEventListener('change', () => {
      const file = el.files?.[0];
      el.value = '';
      if (file) void upload(file, t);
    });
  }
}

/** The agent deleted it, the time ran out or the call ended (`data.documentId`; the resident's own withdrawal too). */
export function documentDeleted(t: Texts, data?: unknown): void {
  const d = (data ?? {}) as { documentId?: unknown; reason?: unknown };
  unlist(typeof d.documentId === 'string' ? d.documentId : undefined);
  // Her own withdrawal was already said by withdraw().
  if (d.reason === 'resident_deleted') return;
  const result = document.getElementById('doc-result');
  if (result) {
    result.textContent = t.docDeleted ?? '';
    result.dataset.state = 'deleted';
  }
}
