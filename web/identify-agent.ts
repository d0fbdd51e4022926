/**
 * The identification panel in the agent dashboard (`<section id="identification">`, filled by this script). The
 * dashboard tells it which call runs (`idv:call`, `data-appointment-id`) and forwards live-channel messages of type
 * 'identification' (`idv:agent-message`); polling GET /auth/agent/appointments/<id> covers a missed push and a reload.
 * Values are fetched over the agent's own authenticated same-origin GET and live only in this panel's DOM until the set
 * is deleted or expires — never in a message, never in storage.
 */

import { amsterdamClock } from '../lib/zone';

interface Notice {
  type: 'identification';
  seq: number;
  appointmentId: string;
  state: string;
  text: { nl: string; en: string };
  attributeSetId?: string;
  methodName?: string;
}
interface SetRef {
  attributeSetId: string;
}
interface State {
  sets: SetRef[];
  notices: Notice[];
  purposes: string[];
  csrf: string;
}
interface Values {
  attributeSetId: string;
  methodName: string;
  acr: string | null;
  verifiedAt: string;
  expiresAt: string;
  attributes: { key: string; label: string; value: string }[];
}

const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
const T = {
  nl: {
    purpose: 'Doel van de identificatie',
    ask: 'Vraag identificatie',
    asked: 'De vraag is verstuurd.',
    verified: 'Geverifieerde gegevens',
    badge: 'Geverifieerd',
    unverifiedNote: 'Alleen deze gegevens zijn gecontroleerd. De naam uit de afspraak heeft de inwoner zelf ingetypt en is niet gecontroleerd.',
    method: 'Inlogmethode',
    level: 'Betrouwbaarheidsniveau',
    at: 'Geverifieerd om',
    countdown: 'Wordt verwijderd over',
    until: 'Uiterlijk verwijderd om',
    deleteNow: 'Verwijder nu',
    failed: 'Dat lukte niet. Probeer het opnieuw.',
  },
  en: {
    purpose: 'Purpose of the identification',
    ask: 'Ask for identification',
    asked: 'The request has been sent.',
    verified: 'Verified data',
    badge: 'Verified',
    unverifiedNote: 'Only this data has been verified. The name in the appointment was typed by the resident and is not verified.',
    method: 'Sign-in method',
    level: 'Level of assurance',
    at: 'Verified at',
    countdown: 'Deleted in',
    until: 'Deleted at the latest at',
    deleteNow: 'Delete now',
    failed: 'That did not work. Please try again.',
  },
}[lang];

/** DigiD's levels as brokers send them, in words the agent knows. */
const ACR_WORDS: Record<string, string> = {
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport': 'basis',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract': 'midden',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard': 'substantieel',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI': 'hoog',
};

const POLL_MS = 3000;
let appointmentId = '';
let lastSeq = 0;
let csrf = '';
let timer: number | undefined;
let countdownTimer: number | undefined;
const shownSets = new Map<string, HTMLElement>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function panel(): HTMLElement | null {
  return document.getElementById('identification');
}

/** The panel's own part, below the dashboard's heading and idle text. */
function body(): HTMLElement {
  let b = document.getElementById('idv-ident-body');
  if (!b) {
    b = el('div', { id: 'idv-ident-body' });
    const form = el('form', { id: 'idv-ident-form', class: 'idv-ident-form' });
    const label = el('label', { for: 'idv-ident-purpose', class: 'utrecht-form-label' }, T.purpose);
    const select = el('select', { id: 'idv-ident-purpose', class: 'utrecht-select utrecht-select--html-select', name: 'purpose' });
    const button = el('button', { type: 'submit', class: 'utrecht-button utrecht-button--primary-action', id: 'idv-ident-ask' }, T.ask);
    form.append(label, select, button);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void ask(select.value);
    });
    const status = el('p', { id: 'idv-ident-status', class: 'utrecht-paragraph idv-ident-status', role: 'status', 'aria-live': 'polite' });
    const sets = el('div', { id: 'idv-ident-sets' });
    b.append(form, status, sets);
    panel()?.append(b);
  }
  return b;
}

function status(text: string): void {
  body();
  const s = document.getElementById('idv-ident-status');
  if (s) s.textContent = text;
}

async function ask(purpose: string): Promise<void> {
  const res = await fetch(`/auth/agent/appointments/${encodeURIComponent(appointmentId)}/request`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify({ purpose }),
  }).catch(() => undefined);
  if (!res || !res.ok) {
    const message = res ? ((await res.json().catch(() => ({}))) as { message?: string }).message : undefined;
    return status(message ?? T.failed);
  }
  status(T.asked);
  void refresh();
}

/** Amsterdam time whatever the zone of the agent's computer: the same clock as the processing log and the mails. */
function time(iso: string): string {
  return amsterdamClock(iso, lang, true);
}

function remaining(iso: string): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function removeSet(id: string): void {
  const box = shownSets.get(id);
  if (!box) return;
  // Blank the values before the nodes go, so nothing of them stays reachable from a detached subtree.
  box.querySelectorAll('dd').forEach((dd) => (dd.textContent = ''));
  box.remove();
  shownSets.delete(id);
}

async function deleteNow(id: string): Promise<void> {
  const res = await fetch(`/auth/agent/sets/${encodeURIComponent(id)}/delete?appointment=${encodeURIComponent(appointmentId)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify({}),
  }).catch(() => undefined);
  if (res && (res.ok || res.status === 404)) {
    removeSet(id);
    return;
  }
  status(T.failed);
}

async function showSet(id: string): Promise<void> {
  if (shownSets.has(id)) return;
  const res = await fetch(`/auth/agent/sets/${encodeURIComponent(id)}?appointment=${encodeURIComponent(appointmentId)}`, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) return;
  const v = (await res.json()) as Values;
  if (shownSets.has(id)) return;
  const box = el('section', { class: 'idv-ident-verified', 'aria-labelledby': `idv-ident-h-${id}`, 'data-set': id, 'data-shown-at': String(Date.now()) });
  const h = el('h4', { id: `idv-ident-h-${id}`, class: 'utrecht-heading-4' }, T.verified);
  h.append(' ', el('span', { class: 'utrecht-status-badge utrecht-status-badge--valid idv-ident-badge' }, `✓ ${T.badge}`));
  const dl = el('dl', { class: 'utrecht-data-list idv-ident-values' });
  for (const a of v.attributes) {
    const item = el('div', { class: 'utrecht-data-list__item' });
    item.append(el('dt', { class: 'utrecht-data-list__item-key' }, a.label), el('dd', { class: 'utrecht-data-list__item-value utrecht-data-list__item-value--html-dd', 'data-key': a.key }, a.value));
    dl.append(item);
  }
  const meta = el('dl', { class: 'idv-ident-meta' });
  const countdown = el('dd', { class: 'idv-ident-countdown', 'data-expires': v.expiresAt }, remaining(v.expiresAt));
  const until = el('dd', { class: 'idv-ident-until' }, time(v.expiresAt));
  meta.append(
    el('dt', {}, T.method), el('dd', {}, v.methodName),
    el('dt', {}, T.level), el('dd', {}, v.acr ? (ACR_WORDS[v.acr] ?? v.acr) : '–'),
    el('dt', {}, T.at), el('dd', {}, time(v.verifiedAt)),
    el('dt', {}, T.countdown), countdown,
    el('dt', {}, T.until), until,
  );
  const note = el('p', { class: 'utrecht-paragraph idv-ident-note' }, T.unverifiedNote);
  const del = el('button', { type: 'button', class: 'utrecht-button utrecht-button--primary-action utrecht-button--danger idv-ident-delete' }, T.deleteNow);
  del.addEventListener('click', () => void deleteNow(id));
  box.append(h, dl, meta, note, del);
  body();
  document.getElementById('idv-ident-sets')?.append(box);
  shownSets.set(id, box);
  // The side panel scrolls on its own: bring the verified data into view rather than leave it below the fold.
  box.scrollIntoView({ block: 'nearest' });
}

function tickCountdowns(): void {
  for (const [id, box] of shownSets) {
    const c = box.querySelector<HTMLElement>('.idv-ident-countdown');
    const exp = c?.dataset.expires;
    if (!c || !exp) continue;
    c.textContent = remaining(exp);
    // The server deletes at expiry; the screen does not wait for the notice to let the values go.
    if (Date.parse(exp) <= Date.now()) removeSet(id);
  }
}

function onNotice(n: Notice): void {
  if (n.appointmentId !== appointmentId || n.seq <= lastSeq) return;
  lastSeq = n.seq;
  status(n.text[lang]);
  if (n.state === 'verified' && n.attributeSetId) void showSet(n.attributeSetId);
  if ((n.state === 'deleted' || n.state === 'expired' || n.state === 'call_ended') && n.attributeSetId) removeSet(n.attributeSetId);
}

async function refresh(): Promise<void> {
  if (!appointmentId) return;
  const askedAt = Date.now();
  const res = await fetch(`/auth/agent/appointments/${encodeURIComponent(appointmentId)}?after=${lastSeq}`, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' }).catch(() => undefined);
  if (!res || !res.ok) return;
  const s = (await res.json()) as State;
  csrf = s.csrf;
  const select = document.getElementById('idv-ident-purpose') as HTMLSelectElement | null;
  if (select && select.options.length !== s.purposes.length) {
    select.replaceChildren(...s.purposes.map((p) => el('option', { value: p }, p)));
  }
  for (const n of s.notices) onNotice(n);
  const live = new Set(s.sets.map((x) => x.attributeSetId));
  // A set shown after this answer was asked for is newer than the answer: it stays.
  for (const [id, box] of [...shownSets]) if (!live.has(id) && Number(box.dataset.shownAt) < askedAt) removeSet(id);
  for (const id of live) void showSet(id);
}

function begin(id: string): void {
  appointmentId = id;
  lastSeq = 0;
  body().hidden = false;
  void refresh();
  window.clearInterval(timer);
  timer = window.setInterval(() => void refresh(), POLL_MS);
  window.clearInterval(countdownTimer);
  countdownTimer = window.setInterval(tickCountdowns, 1000);
}

function end(): void {
  appointmentId = '';
  window.clearInterval(timer);
  window.clearInterval(countdownTimer);
  for (const id of [...shownSets.keys()]) removeSet(id);
  const b = document.getElementById('idv-ident-body');
  if (b) b.hidden = true;
}

function init(): void {
  const p = panel();
  if (!p) return;
  p.addEventListener('idv:call', (e) => {
    const d = (e as CustomEvent<{ state: string; appointmentId: string }>).detail;
    if (d?.state === 'started' && d.appointmentId) begin(d.appointmentId);
    else end();
  });
  p.addEventListener('idv:agent-message', (e) => {
    const m = (e as CustomEvent<Notice>).detail;
    if (m?.type === 'identification') {
      onNotice(m);
      void refresh();
    }
  });
  if (p.dataset.appointmentId) begin(p.dataset.appointmentId);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();

// A module, so its names stay its own (esbuild bundles it as an IIFE).
export {};
