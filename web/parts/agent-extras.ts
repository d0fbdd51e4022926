/**
 * The agent's side of issue 13 on the dashboard: the chat with each of today's residents (also while they wait), and
 * in the call workspace the chat, the documents the resident shared, the third participant (invite, let in, remove)
 * and sharing the screen. Everything the server pushes arrives on the dashboard's live channel (web/agent.ts hands
 * the messages here); texts are set with textContent only.
 */
import { amsterdamClock } from '../../lib/zone';
import { announce, byId, type CallClient, type Texts } from '../call-client';
import { createChat, postJson, type ChatView } from './chat';

type Csrf = () => string;

const chats = new Map<string, Set<ChatView>>();
let workspace: { id: string; chat: ChatView; client: CallClient } | undefined;
let lastTexts: Texts = {};

function lang(): 'nl' | 'en' {
  return document.documentElement.lang === 'en' ? 'en' : 'nl';
}

function fill(text: string | undefined, values: Record<string, string>): string {
  return (text ?? '').replace(/\{(\w+)\}/g, (_m, k: string) => values[k] ?? '');
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const base = (id: string) => `agent/appointments/${encodeURIComponent(id)}`;

function register(id: string, view: ChatView): void {
  let set = chats.get(id);
  if (!set) chats.set(id, (set = new Set()));
  set.add(view);
}

async function loadChat(id: string, view: ChatView): Promise<void> {
  const body = await getJson(`${base(id)}/chat.json`);
  view.add((body?.messages as unknown[]) ?? []);
}

function newChat(id: string, domId: string, level: 3 | 4, t: Texts, csrf: Csrf, actions?: HTMLElement[]): ChatView {
  const view = createChat({
    id: domId,
    t: { ...t, chatLabel: t.messageLabel ?? t.chatLabel ?? '' },
    level,
    own: 'agent',
    intro: t.messageHint,
    actions,
    send: async (text) => (await postJson(`${base(id)}/message`, { text }, { 'x-csrf-token': csrf() })).message,
  });
  register(id, view);
  return view;
}

/** The chat of a row (today's, or a waiting resident's), in a disclosure (loaded when opened, kept live afterwards). */
export function rowChat(id: string, t: Texts, csrf: Csrf): HTMLDetailsElement {
  const details = el('details', 'idv-row-chat');
  const summary = el('summary', 'idv-row-chat-summary', t.chatHeading ?? 'Chat');
  const view = newChat(id, `chat-${id}`, 3, t, csrf);
  details.append(summary, view.root);
  details.addEventListener('toggle', () => {
    if (details.open) void loadChat(id, view);
  });
  return details;
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

interface Doc {
  documentId: string;
  kind: string;
  size: number;
  expiresAt: string;
}

async function renderDocuments(id: string, t: Texts, csrf: Csrf): Promise<void> {
  const list = byId('documents-list');
  const body = await getJson(`${base(id)}/documents.json`);
  if (workspace?.id !== id) return;
  const docs = ((body?.documents as Doc[]) ?? []).filter((d) => typeof d.documentId === 'string');
  if (!docs.length) {
    list.replaceChildren(el('li', 'idv-documents-none', t.documentsNone ?? ''));
    return;
  }
  list.replaceChildren(
    ...docs.map((d) => {
      const li = el('li', 'idv-document');
      li.dataset.documentId = d.documentId;
      const url = `${base(id)}/documents/${encodeURIComponent(d.documentId)}`;
      const kind = t[`kind_${d.kind}`] ?? d.kind;
      li.append(el('p', 'utrecht-paragraph idv-document-meta', `${kind}, ${sizeText(d.size)}, ${t.documentUntil ?? ''} ${amsterdamClock(d.expiresAt, lang())}`));
      if (d.kind !== 'pdf') {
        const img = el('img', 'idv-document-image');
        img.src = url;
        img.alt = kind;
        li.append(img);
      }
      const actions = el('p', 'idv-actions');
      const open = el('a', 'utrecht-link idv-document-open', d.kind === 'pdf' ? t.documentDownload : t.documentOpen);
      open.href = url;
      if (d.kind === 'pdf') open.setAttribute('download', 'document.pdf');
      else {
        open.target = '_blank';
        open.rel = 'noopener noreferrer';
      }
      const del = el('button', 'utrecht-button utrecht-button--secondary-action idv-document-delete', t.documentDelete);
      del.type = 'button';
      del.setAttribute('aria-label', `${t.documentDelete ?? ''}: ${kind}`);
      del.addEventListener('click', () => {
        void postJson(`${url}/delete`, {}, { 'x-csrf-token': csrf() })
          .then(() => announce(t.documentDeleted ?? ''))
          .catch(() => undefined)
          .finally(() => void renderDocuments(id, t, csrf));
      });
      actions.append(open, del);
      li.append(actions);
      return li;
    }),
  );
}

interface GuestState {
  kind: string;
  waiting: boolean;
  present: boolean;
}

function guestForm(id: string, t: Texts, csrf: Csrf): HTMLFormElement {
  const form = el('form', 'idv-guest-form');
  form.noValidate = true;
  const field = (label: string, control: HTMLElement, forId: string) => {
    const wrap = el('div', 'utrecht-form-field');
    const l = el('label', 'utrecht-form-label', label);
    l.htmlFor = forId;
    wrap.append(l, control);
    return wrap;
  };
  const kind = el('select', 'utrecht-select utrecht-select--html-select');
  kind.id = 'guest-kind';
  kind.name = 'kind';
  for (const k of ['interpreter', 'sign_language_interpreter', 'family_member', 'other']) {
    const o = el('option', '', t[`guestKind_${k}`] ?? k);
    o.value = k;
    kind.append(o);
  }
  const email = el('input', 'utrecht-textbox utrecht-textbox--html-input');
  email.id = 'guest-email';
  email.type = 'email';
  email.name = 'email';
  email.autocomplete = 'off';
  email.setAttribute('aria-describedby', 'guest-result');
  const mailLang = el('select', 'utrecht-select utrecht-select--html-select');
  mailLang.id = 'guest-lang';
  for (const [v, label] of [['nl', t.langNl], ['en', t.langEn]] as const) {
    const o = el('option', '', label ?? v);
    o.value = v;
    mailLang.append(o);
  }
  const submit = el('button', 'utrecht-button utrecht-button--secondary-action', t.guestInvite);
  submit.type = 'submit';
  const result = el('p', 'utrecht-paragraph idv-guest-result');
  result.id = 'guest-result';
  result.setAttribute('role', 'status');
  form.append(field(t.guestKind ?? '', kind, 'guest-kind'), field(t.guestEmail ?? '', email, 'guest-email'), field(t.guestLang ?? '', mailLang, 'guest-lang'), el('p', 'idv-actions'), result);
  form.querySelector('.idv-actions')!.append(submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    void postJson(`${base(id)}/guest`, { kind: kind.value, email: email.value, lang: mailLang.value }, { 'x-csrf-token': csrf() })
      .then(() => {
        email.value = '';
        email.removeAttribute('aria-invalid');
        void renderGuest(id, t, csrf, fill(t.guestInvited, { kind: t[`guestKind_${kind.value}`] ?? '' }));
      })
      .catch((err: Error) => {
        result.textContent = err.message || t.guestFailed || '';
        email.setAttribute('aria-invalid', 'true');
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}

async function renderGuest(id: string, t: Texts, csrf: Csrf, note?: string): Promise<void> {
  const body = await getJson(`${base(id)}/guest.json`);
  if (workspace?.id !== id) return;
  const g = body?.guest as GuestState | null | undefined;
  const panel = byId('guest-body');
  const parts: HTMLElement[] = [];
  if (!g) parts.push(el('p', 'utrecht-paragraph idv-guest-intro', t.guestIntro));
  else {
    const who = t[`guestKind_${g.kind}`] ?? g.kind;
    const state = g.present ? t.guestPresent : g.waiting ? t.guestWaiting : t.guestInvited;
    const line = el('p', 'utrecht-paragraph idv-guest-state', fill(state, { kind: who }));
    line.dataset.state = g.present ? 'present' : g.waiting ? 'waiting' : 'invited';
    parts.push(line);
    const actions = el('p', 'idv-actions');
    if (g.waiting && !g.present) {
      const admit = el('button', 'utrecht-button utrecht-button--primary-action idv-guest-admit', t.guestAdmit);
      admit.type = 'button';
      admit.addEventListener('click', () => void postJson(`${base(id)}/guest/admit`, {}, { 'x-csrf-token': csrf() }).catch((e: Error) => announce(e.message)).finally(() => void renderGuest(id, t, csrf)));
      actions.append(admit);
    }
    const remove = el('button', 'utrecht-button utrecht-button--secondary-action idv-guest-remove', t.guestRemove);
    remove.type = 'button';
    remove.addEventListener('click', () => void postJson(`${base(id)}/guest/remove`, {}, { 'x-csrf-token': csrf() }).then(() => announce(t.guestRemoved ?? '')).catch((e: Error) => announce(e.message)).finally(() => void renderGuest(id, t, csrf)));
    actions.append(remove);
    parts.push(actions);
  }
  const details = el('details', 'idv-guest-invite');
  details.open = !g;
  details.append(el('summary', 'idv-guest-invite-summary', t.guestInvite), guestForm(id, t, csrf));
  parts.push(details);
  panel.replaceChildren(...parts);
  if (note) {
    panel.querySelector('.idv-guest-result')!.textContent = note;
    announce(note);
  }
  if (g?.waiting && !g.present) announce(fill(t.guestWaiting, { kind: t[`guestKind_${g.kind}`] ?? g.kind }));
}

function wireScreenShare(client: CallClient, t: Texts): void {
  const button = byId<HTMLButtonElement>('share-screen');
  screenChanged(false, t);
  button.onclick = () => {
    if (client.sharingScreen) {
      client.stopScreen();
      announce(t.screenStopped ?? '');
      return;
    }
    if (!navigator.mediaDevices?.getDisplayMedia) return announce(t.screenFailed ?? '');
    void navigator.mediaDevices
      .getDisplayMedia({ video: true, audio: false })
      .then((stream) => client.shareScreen(stream.getVideoTracks()[0]))
      .catch(() => announce(t.screenFailed ?? ''));
  };
}

/** Screen sharing started or stopped (also by the browser's own "stop sharing" bar). */
export function screenChanged(on: boolean, t: Texts): void {
  const button = document.getElementById('share-screen');
  const status = document.getElementById('screen-status');
  if (button) {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? (t.screenStop ?? '') : (t.screenShare ?? '');
  }
  if (status) status.textContent = on ? (t.screenSharing ?? '') : '';
}

/** The call workspace opened for appointment `id`. */
export function startWorkspace(id: string, client: CallClient, t: Texts, csrf: Csrf): void {
  lastTexts = t;
  const del = el('button', 'utrecht-button utrecht-button--secondary-action idv-chat-delete', t.chatDelete);
  del.type = 'button';
  const chat = newChat(id, 'workspace-chat-log', 3, t, csrf, [del]);
  del.addEventListener('click', () => {
    void postJson(`${base(id)}/chat/delete`, {}, { 'x-csrf-token': csrf() }).then(() => {
      for (const v of chats.get(id) ?? []) v.clear(t.chatDeleted);
      announce(t.chatDeleted ?? '');
    });
  });
  byId('workspace-chat').replaceChildren(chat.root);
  workspace = { id, chat, client };
  void loadChat(id, chat);
  void renderDocuments(id, t, csrf);
  void renderGuest(id, t, csrf);
  wireScreenShare(client, t);
}

export function stopWorkspace(): void {
  if (!workspace) return;
  chats.get(workspace.id)?.delete(workspace.chat);
  workspace.client.stopScreen();
  workspace = undefined;
  byId('workspace-chat').replaceChildren();
  byId('documents-list').replaceChildren();
  byId('guest-body').replaceChildren();
  screenChanged(false, lastTexts);
}

/** A live-channel message this module handles; false for anything else. */
export function handleHub(m: Record<string, unknown>, t: Texts, csrf: Csrf): boolean {
  const id = typeof m.appointmentId === 'string' ? m.appointmentId : '';
  if (m.type === 'chat') {
    for (const v of chats.get(id) ?? []) v.add([m.message]);
    const from = (m.message as { from?: string } | undefined)?.from;
    if (from && from !== 'agent' && workspace?.id !== id) announce(t.chatNew ?? '');
    return true;
  }
  if (m.type === 'document') {
    if (workspace?.id === id) {
      void renderDocuments(id, t, csrf);
      if (m.state === 'shared') announce(t.documentShared ?? '');
    }
    return true;
  }
  if (m.type === 'guest') {
    if (workspace?.id === id) void renderGuest(id, t, csrf);
    return true;
  }
  if (m.type === 'presence' && workspace?.id === id) void renderGuest(id, t, csrf);
  return false;
}
