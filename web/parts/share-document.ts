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
    const body = (await res.json().catch(() => ({}))) as { message?: string; document?: { kind?: string; expiresAt?: string } };
    if (!res.ok) {
      result.textContent = body.message ?? t.docFailed ?? '';
      result.dataset.state = 'refused';
      return;
    }
    const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
    result.textContent = fill(t.docShared, { kind: t[`kind_${body.document?.kind ?? ''}`] ?? '', until: amsterdamClock(body.document?.expiresAt ?? '', lang) });
    result.dataset.state = 'shared';
  } catch {
    result.textContent = t.docFailed ?? '';
    result.dataset.state = 'refused';
  }
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

/** The agent deleted it, the time ran out or the call ended. */
export function documentDeleted(t: Texts): void {
  const result = document.getElementById('doc-result');
  if (result) {
    result.textContent = t.docDeleted ?? '';
    result.dataset.state = 'deleted';
  }
}
