/**
 * The resident's side of the agent's short messages: shown in the page's polite live region `#agent-message` with the
 * time it was sent (Amsterdam time), as text only. Pushed over the call's signaling (`agentMessage`); fetched once
 * from /call/message.json when the page joins, for a message sent before it connected.
 */
import { amsterdamClock } from '../../lib/zone';
import type { Texts } from '../call-client';

interface Message {
  text: string;
  at: string;
}

let lastAt = '';

function isMessage(v: unknown): v is Message {
  const m = v as Partial<Message> | null;
  return !!m && typeof m.text === 'string' && typeof m.at === 'string' && m.text.length <= 1000;
}

/** Shows a message (newer than the one shown); anything malformed is ignored. */
export function showAgentMessage(data: unknown, t: Texts): void {
  if (!isMessage(data) || data.at <= lastAt) return;
  lastAt = data.at;
  const region = document.getElementById('agent-message');
  if (!region) return;
  const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
  const heading = document.createElement('p');
  heading.className = 'utrecht-paragraph idv-agent-message-heading';
  const strong = document.createElement('strong');
  strong.textContent = `${t.messageHeading ?? ''} (${t.messageAt ?? ''} ${amsterdamClock(data.at, lang)})`;
  heading.append(strong);
  const text = document.createElement('p');
  text.className = 'utrecht-paragraph idv-agent-message-text';
  text.textContent = data.text;
  region.replaceChildren(heading, text);
}

/** Asks for a message sent before this page connected. */
export async function fetchAgentMessage(t: Texts): Promise<void> {
  try {
    const res = await fetch('call/message.json', { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return;
    const body = (await res.json()) as { message?: unknown };
    if (body.message) showAgentMessage(body.message, t);
  } catch {
    /* offline for a moment: the push still arrives */
  }
}
