/**
 * The identification pop-up on the resident's call page (/call). The agent's request arrives as a push on the call's
 * signaling connection (the page re-dispatches it as `idv:call-notification`) and, as a fallback that also covers a
 * reload or a push sent while the resident was away, by polling GET /auth/pending with the call cookie.
 *
 * Choosing a method is a plain link (GET /auth/start): a top-level navigation, so the page's CSP form-action never
 * blocks the way to the provider. Coming back, /auth/callback redirects to /call?idv-auth=<code>: this script shows
 * "U bent weer terug in het gesprek" and lets the call page rejoin by itself.
 */

interface PopupMethod {
  id: string;
  displayName: string;
  logoUrl: string;
}
interface Popup {
  requestId: string;
  purpose: string;
  methods: PopupMethod[];
  attributes: { key: string; labelNl: string; labelEn: string }[];
  startPath: string;
}
type Texts = Record<string, string>;
interface Pending {
  request: Popup | null;
  /** Whether the agent can see verified data of this call now (no values, a yes/no). */
  shared?: boolean;
  texts: Texts;
  outcome?: { ok: boolean; text: string };
}

const POLL_MS = 3000;
const lang = document.documentElement.lang === 'en' ? 'en' : 'nl';
let texts: Texts = {};
let shownFor: string | undefined;
const dismissed = new Set<string>();
let dialog: HTMLDialogElement | undefined;
let opener: Element | null = null;
let lastShared: boolean | undefined;

/** Tells the call page (web/call.ts, its state machine) whether the agent sees verified data now. */
function reportShared(p: Pending | undefined): void {
  if (typeof p?.shared !== 'boolean' || p.shared === lastShared) return;
  lastShared = p.shared;
  document.dispatchEvent(new CustomEvent('idv:identification', { detail: { shared: p.shared } }));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One polite live region for everything this script says. */
function live(): HTMLElement {
  let region = document.getElementById('idv-identify-live');
  if (!region) {
    region = el('div', { id: 'idv-identify-live', role: 'status', 'aria-live': 'polite', class: 'idv-visually-hidden' });
    document.body.append(region);
  }
  return region;
}

function say(text: string): void {
  const region = live();
  region.textContent = '';
  // A fresh text node after a tick makes screen readers announce a repeated message too.
  setTimeout(() => (region.textContent = text), 50);
}

async function fetchPending(outcome?: string): Promise<Pending | undefined> {
  const q = outcome ? `?outcome=${encodeURIComponent(outcome)}` : '';
  const res = await fetch(`/auth/pending${q}`, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) return undefined;
  const body = (await res.json()) as Pending;
  texts = body.texts ?? texts;
  return body;
}

function close(): void {
  if (!dialog) return;
  dialog.close();
  dialog.remove();
  dialog = undefined;
  if (opener instanceof HTMLElement) opener.focus();
}

async function decline(requestId: string): Promise<void> {
  dismissed.add(requestId);
  close();
  say(texts.cancelled ?? '');
  await fetch('/auth/decline', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ requestId }),
  }).catch(() => undefined);
}

/** Keeps Tab inside the dialog (showModal makes the rest inert; this covers browsers that let focus reach the chrome first). */
function trapFocus(d: HTMLDialogElement, e: KeyboardEvent): void {
  if (e.key !== 'Tab') return;
  const items = [...d.querySelectorAll<HTMLElement>('a[href], button:not([disabled])')];
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

function open(p: Popup): void {
  if (dialog || dismissed.has(p.requestId)) return;
  shownFor = p.requestId;
  opener = document.activeElement;
  const d = el('dialog', { class: 'idv-identify-dialog', 'aria-labelledby': 'idv-identify-title', 'aria-describedby': 'idv-identify-intro' });
  const title = el('h2', { id: 'idv-identify-title', class: 'utrecht-heading-2' }, texts.title);
  const intro = el('p', { id: 'idv-identify-intro', class: 'utrecht-paragraph' }, texts.intro);
  const why = el('p', { class: 'utrecht-paragraph' });
  why.append(el('strong', {}, `${texts.purpose ?? ''} `), document.createTextNode(p.purpose));
  const dataHeading = el('p', { class: 'utrecht-paragraph', id: 'idv-identify-data' }, texts.data);
  const data = el('ul', { class: 'utrecht-unordered-list', 'aria-labelledby': 'idv-identify-data' });
  for (const a of p.attributes) data.append(el('li', {}, lang === 'en' ? a.labelEn : a.labelNl));
  const keep = el('p', { class: 'utrecht-paragraph' }, texts.keep);
  const methods = el('ul', { class: 'idv-identify-methods', role: 'list' });
  for (const m of p.methods) {
    const href = `${p.startPath}?request=${encodeURIComponent(p.requestId)}&method=${encodeURIComponent(m.id)}`;
    const a = el('a', { href, class: 'utrecht-button utrecht-button--primary-action idv-identify-method', 'data-method': m.id });
    const logo = el('img', { src: m.logoUrl, alt: '', width: '32', height: '32', class: 'idv-identify-logo' });
    logo.addEventListener('error', () => logo.remove());
    a.append(logo, el('span', {}, `${texts.choose ?? ''} ${m.displayName}`));
    const li = el('li');
    li.append(a);
    methods.append(li);
  }
  const away = el('p', { class: 'utrecht-paragraph idv-identify-away' }, texts.away);
  const cancel = el('button', { type: 'button', class: 'utrecht-button utrecht-button--secondary-action', id: 'idv-identify-cancel' }, texts.cancel);
  cancel.addEventListener('click', () => void decline(p.requestId));
  d.append(title, intro, why, dataHeading, data, keep, methods, away, cancel);
  // Escape means "Annuleren": the resident asked to close it, so the agent is told.
  d.addEventListener('cancel', (e) => {
    e.preventDefault();
    void decline(p.requestId);
  });
  d.addEventListener('keydown', (e) => trapFocus(d, e));
  document.body.append(d);
  dialog = d;
  d.showModal();
  title.setAttribute('tabindex', '-1');
  title.focus();
  say(texts.title ?? '');
}

function banner(text: string, ok: boolean, back = true): void {
  document.getElementById('idv-identify-banner')?.remove();
  const box = el('div', { class: `utrecht-alert ${ok ? 'utrecht-alert--ok' : 'utrecht-alert--warning'} idv-identify-banner`, role: 'status', id: 'idv-identify-banner' });
  if (back) box.append(el('p', { class: 'utrecht-paragraph' }, texts.back));
  box.append(el('p', { class: 'utrecht-paragraph' }, text));
  const main = document.getElementById('main') ?? document.body;
  main.prepend(box);
}

/**
 * Back from the provider: the page loaded afresh, so the call page starts with its device check. The resident already
 * passed it before leaving; press "Naar het gesprek" for them once it is ready, so the call resumes by itself.
 */
function rejoin(): void {
  const started = Date.now();
  const tick = () => {
    const start = document.getElementById('start-call') as HTMLButtonElement | null;
    if (start && !start.disabled && !start.closest('[hidden]')) return start.click();
    if (Date.now() - started < 30_000) setTimeout(tick, 250);
  };
  tick();
}

async function poll(): Promise<void> {
  try {
    const p = await fetchPending();
    reportShared(p);
    if (p?.request && p.request.requestId !== shownFor) open(p.request);
    if (!p?.request && dialog) close();
  } catch {
    /* offline for a moment: the next poll tries again */
  }
}

async function init(): Promise<void> {
  const url = new URL(location.href);
  const outcome = url.searchParams.get('idv-auth');
  if (outcome) {
    url.searchParams.delete('idv-auth');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    const p = await fetchPending(outcome).catch(() => undefined);
    reportShared(p);
    if (p?.outcome) {
      banner(p.outcome.text, p.outcome.ok);
      say(`${texts.back ?? ''} ${p.outcome.text}`);
    }
    rejoin();
  }
  document.addEventListener('idv:call-notification', (e) => {
    const detail = (e as CustomEvent<{ method?: string; data?: Popup }>).detail;
    if (detail?.method === 'identificationRequest' && detail.data) {
      void fetchPending().then(() => detail.data && open(detail.data));
    }
    // The agent asked, but no sign-in service could be reached: say so plainly instead of showing an empty choice.
    if (detail?.method === 'identificationUnavailable') {
      void fetchPending().then(() => {
        banner(texts.unavailable ?? '', false, false);
        say(texts.unavailable ?? '');
      });
    }
  });
  await poll();
  setInterval(() => void poll(), POLL_MS);
}

void init();

// A module, so its names stay its own (esbuild bundles it as an IIFE).
export {};
