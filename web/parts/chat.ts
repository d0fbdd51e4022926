/**
 * The call's chat on both sides (lib/call/chat.ts): a log in a live region (role="log": screen readers read new
 * messages without moving focus), a one-line form that works with the keyboard alone (Enter sends), and the sender
 * and time (Amsterdam) before each message. Text is always set with textContent, never as HTML. Messages arrive by
 * push and are fetched once when the page (re)connects; `seq` keeps each one once and in order.
 */
import { amsterdamClock } from '../../lib/zone';
import type { Texts } from '../call-client';

export interface ChatMessage {
  seq: number;
  from: string;
  text: string;
  at: string;
}

export interface ChatView {
  /** The section to put into the page. */
  root: HTMLElement;
  /** Adds messages (pushed or fetched); ignores ones already shown and malformed ones. */
  add(messages: unknown[]): void;
  /** Empties the log (the agent's "Verwijder nu", or the end of the call). */
  clear(note?: string): void;
  /** The highest seq shown, for asking what is new. */
  readonly lastSeq: number;
  focus(): void;
}

export interface ChatOptions {
  /** Unique per page: the element ids start with it. */
  id: string;
  t: Texts;
  /** Heading level of the section's title (2 on the resident's page, 3 or 4 in the agent's workspace). */
  level: 2 | 3 | 4;
  /** Sends one message; resolves with the stored message or throws an Error whose message the page shows. */
  send(text: string): Promise<unknown>;
  /** Extra controls after the form (the agent's "Verwijder chat nu"). */
  actions?: HTMLElement[];
  intro?: string;
  /** Called for a new message from someone else (e.g. to announce it where the chat is not on screen). */
  onIncoming?(m: ChatMessage): void;
  own: string;
}

function isMessage(v: unknown): v is ChatMessage {
  const m = v as Partial<ChatMessage> | null;
  return !!m && typeof m.seq === 'number' && typeof m.from === 'string' && typeof m.text === 'string' && typeof m.at === 'string' && m.text.length <= 4000;
}

export function createChat(o: ChatOptions): ChatView {
  const { t } = o;
  const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
  const root = document.createElement('section');
  root.className = 'idv-chat';
  root.id = o.id;
  root.setAttribute('aria-labelledby', `${o.id}-heading`);
  const heading = document.createElement(`h${o.level}`);
  heading.className = `utrecht-heading-${o.level} idv-chat-heading`;
  heading.id = `${o.id}-heading`;
  heading.textContent = t.chatHeading ?? 'Chat';
  root.append(heading);
  if (o.intro) {
    const intro = document.createElement('p');
    intro.className = 'utrecht-paragraph idv-chat-intro';
    intro.textContent = o.intro;
    root.append(intro);
  }
  // The live region wraps the list (role="log" on the list itself would take its list semantics away).
  const region = document.createElement('div');
  region.className = 'idv-chat-log';
  region.id = `${o.id}-log`;
  region.setAttribute('role', 'log');
  region.setAttribute('aria-live', 'polite');
  region.setAttribute('aria-labelledby', `${o.id}-heading`);
  // Scrollable region: reachable and scrollable by keyboard (WCAG 2.1.1).
  region.tabIndex = 0;
  const log = document.createElement('ol');
  log.className = 'idv-chat-list';
  region.append(log);
  const empty = document.createElement('li');
  empty.className = 'idv-chat-empty';
  empty.textContent = t.chatEmpty ?? '';
  log.append(empty);

  const form = document.createElement('form');
  form.className = 'idv-chat-form';
  form.noValidate = true;
  const label = document.createElement('label');
  label.className = 'utrecht-form-label';
  label.htmlFor = `${o.id}-text`;
  label.textContent = t.chatLabel ?? t.messageLabel ?? '';
  const row = document.createElement('div');
  row.className = 'idv-message-row';
  const input = document.createElement('input');
  input.className = 'utrecht-textbox utrecht-textbox--html-input';
  input.id = `${o.id}-text`;
  input.name = 'text';
  input.type = 'text';
  input.maxLength = 500;
  input.autocomplete = 'off';
  input.setAttribute('aria-describedby', `${o.id}-result`);
  const send = document.createElement('button');
  send.type = 'submit';
  send.className = 'utrecht-button utrecht-button--secondary-action idv-chat-send';
  send.textContent = t.chatSend ?? t.messageSend ?? '';
  row.append(input, send);
  const result = document.createElement('p');
  result.className = 'utrecht-paragraph idv-chat-result';
  result.id = `${o.id}-result`;
  result.setAttribute('role', 'status');
  form.append(label, row, result);
  root.append(region, form);
  if (o.actions?.length) {
    const actions = document.createElement('p');
    actions.className = 'idv-actions';
    actions.append(...o.actions);
    root.append(actions);
  }

  const shown = new Set<number>();
  let lastSeq = 0;
  const add = (list: unknown[]) => {
    const fresh = list.filter(isMessage).filter((m) => !shown.has(m.seq)).sort((a, b) => a.seq - b.seq);
    for (const m of fresh) {
      shown.add(m.seq);
      lastSeq = Math.max(lastSeq, m.seq);
      empty.remove();
      const li = document.createElement('li');
      li.className = `idv-chat-message idv-chat-from-${m.from === o.own ? 'self' : 'other'}`;
      li.dataset.seq = String(m.seq);
      const who = document.createElement('span');
      who.className = 'idv-chat-who';
      who.textContent = `${t[`chatFrom_${m.from}`] ?? m.from} (${amsterdamClock(m.at, lang)}): `;
      const text = document.createElement('span');
      text.className = 'idv-chat-text';
      text.textContent = m.text;
      li.append(who, text);
      log.append(li);
      if (m.from !== o.own) o.onIncoming?.(m);
    }
    if (fresh.length) region.scrollTop = region.scrollHeight;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim()) {
      result.textContent = t.chatEmptyInput ?? t.chatFailed ?? '';
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    send.disabled = true;
    void o
      .send(text)
      .then((m) => {
        add([m]);
        input.value = '';
        input.removeAttribute('aria-invalid');
        result.textContent = '';
      })
      .catch((err: Error) => {
        result.textContent = err.message || t.chatFailed || '';
        input.setAttribute('aria-invalid', 'true');
      })
      .finally(() => {
        send.disabled = false;
        input.focus();
      });
  });

  return {
    root,
    add,
    clear(note) {
      shown.clear();
      log.replaceChildren(empty);
      if (note) result.textContent = note;
    },
    get lastSeq() {
      return lastSeq;
    },
    focus: () => input.focus(),
  };
}

/** POSTs JSON and returns the answer's body, or throws an Error with the server's message (a sentence for people). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(typeof data.message === 'string' ? data.message : `${res.status}`);
  return data;
}
