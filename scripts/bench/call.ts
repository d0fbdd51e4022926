/**
 * Call benchmark in Debian's Chromium (fake camera and microphone): join to first remote frame, p50 and p95 over
 * BENCH_JOINS joins (default 12), of
 *   - the product: the resident's /call page (after its device check) joining an agent who waits in the dashboard,
 *     through the real access link, cookie, /ws authentication and room;
 *   - a bare mediasoup call: a minimal page with mediasoup-client only (no UI, no device check), on the same server,
 *     the same worker and the same signaling, same fake camera, same agent on the other end.
 * Both are timed in the page from the click (resp. script start, with the camera already open) until the remote
 * <video> has presented a frame. Then the product's join through TURN over TLS (a real coturn on loopback started
 * from deploy/coturn/turnserver.conf with a test CA; the browser may use relay candidates over TLS only), and memory
 * per call: media worker and runtime RSS with 0 and with BENCH_CALLS (default 3) concurrent browser calls.
 *
 * Both pages set User Timing marks per step of the join (web/parts/join-marks.ts; the bare page its own), and the
 * per-step medians are printed side by side (product, bare, difference, TURN/TLS): where the product spends its time.
 * Options: BENCH_JOINS, BENCH_CALLS; BENCH_TRACE=1 prints the signaling timeline of each join; BENCH_PROFILE=1
 * prints the renderers' main-thread time per event kind from a Chromium trace of each join and what the product page
 * loads (and what fails), BENCH_PROFILE_DIR=<dir> keeps those traces (open them in Chromium's Performance panel).
 *
 * Run: node scripts/build.js && node dist/scripts/bench/call.js
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { callRoutes } from '../../lib/call/routes';
import { getCallService, type CallService } from '../../lib/call/service';
import { loadConfig } from '../../lib/config';
import { initServices, type Services } from '../../lib/services';
import { hashPassword } from '../../lib/staff/password';
import { probeTurn } from '../../media-server';
import { launchBrowser } from '../../test/support/browser';
import { coturnConfig, makeTestCa, startCoturn, type Coturn, type TestCa } from '../../test/support/coturn';
import { TEST_RTC_ENV } from '../../test/support/ports';
import { tempDir } from '../../test/support/runtime';

const PASSWORD = 'bench-agent-password';
const passwordHash = hashPassword(PASSWORD);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function intEnv(name: string, fallback: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
  return n;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]);
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The bare client: mediasoup-client and the signaling envelope, nothing else. Bundled by esbuild at start. */
const BARE_CLIENT = `
import { Device } from 'mediasoup-client';
const mark = (step) => performance.mark('join:' + step);
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
  mark('gum');
  await new Promise((r) => document.getElementById('go').addEventListener('click', r, { once: true }));
  const t0 = performance.now();
  mark('click');
  const ws = new WebSocket('ws://' + location.host + '/ws');
  let n = 0; const pending = new Map();
  const req = (method, data = {}) => new Promise((resolve, reject) => { const id = ++n; pending.set(id, { resolve, reject }); ws.send(JSON.stringify({ request: true, id, method, data })); });
  const video = document.getElementById('remote-video');
  const remote = new MediaStream();
  let recv;
  ws.onmessage = async (ev) => {
    const m = JSON.parse(ev.data);
    if (m.response) { const p = pending.get(m.id); pending.delete(m.id); m.ok ? p.resolve(m.data) : p.reject(new Error(m.error.code)); return; }
    if (m.method === 'newConsumer') {
      const c = await recv.consume({ id: m.data.id, producerId: m.data.producerId, kind: m.data.kind, rtpParameters: m.data.rtpParameters });
      mark('consume:' + c.kind);
      remote.addTrack(c.track); video.srcObject = remote; await req('resumeConsumer', { consumerId: c.id });
      mark('resume:' + c.kind);
    }
  };
  await new Promise((r) => (ws.onopen = r));
  mark('ws-open');
  const device = new Device();
  const caps = await req('getRouterRtpCapabilities');
  mark('caps');
  await device.load({ routerRtpCapabilities: caps });
  mark('device');
  const s = await req('createWebRtcTransport', { direction: 'send' });
  const r = await req('createWebRtcTransport', { direction: 'recv' });
  const send = device.createSendTransport(s); mark('send-transport');
  recv = device.createRecvTransport(r); mark('recv-transport');
  for (const t of [send, recv]) t.on('connect', ({ dtlsParameters }, ok, fail) => req('connectWebRtcTransport', { transportId: t.id, dtlsParameters }).then(ok, fail));
  recv.on('connectionstatechange', (st) => st === 'connected' && mark('recv-connected'));
  send.on('connectionstatechange', (st) => st === 'connected' && mark('send-connected'));
  send.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => req('produce', { transportId: send.id, kind, rtpParameters, appData }).then(ok, fail));
  await req('join', { rtpCapabilities: device.rtpCapabilities });
  mark('join-answer');
  for (const track of stream.getTracks()) { await send.produce({ track }); mark('produce:' + track.kind); }
  const poll = () => (video.getVideoPlaybackQuality().totalVideoFrames > 0 ? (mark('first-frame'), (document.body.dataset.firstFrameMs = String(performance.now() - t0))) : setTimeout(poll, 5));
  poll();
})();
`;

/** Times the product's page: from the click on "Naar het gesprek" until the remote video presented a frame. */
const TIME_PRODUCT_JOIN = `new Promise((resolve) => {
  const video = document.getElementById('remote-video');
  const t0 = performance.now();
  const poll = () => (video.getVideoPlaybackQuality().totalVideoFrames > 0 ? (performance.mark('join:first-frame'), resolve(performance.now() - t0)) : setTimeout(poll, 5));
  document.getElementById('start-call').click();
  poll();
})`;

/**
 * The steps of a join, in the order printed. Both pages set User Timing marks 'join:<step>' (the product in
 * web/parts/join-marks.ts, the bare page above); page-load (DOMContentLoaded) and gum (camera open) count from the
 * page's navigation, every other step from the click.
 */
const STEPS_BEFORE = ['page-load', 'gum'];
const STEPS = ['ws-open', 'caps', 'device', 'send-transport', 'recv-transport', 'join-answer', 'consume:audio', 'consume:video', 'resume:audio', 'resume:video', 'recv-connected', 'produce:audio', 'produce:video', 'send-connected', 'first-frame'];
type Marks = Record<string, number>;

/** Reads the first mark of each step (a step repeats after a rejoin or a device change). */
const READ_MARKS = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const out = { 'page-load': nav ? nav.domContentLoadedEventEnd : NaN };
  const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('join:'));
  const click = marks.find((m) => m.name === 'join:click');
  for (const m of marks) {
    const step = m.name.slice(5);
    if (step in out || step === 'click') continue;
    out[step] = step === 'gum' || !click ? m.startTime : m.startTime - click.startTime;
  }
  return out;
})()`;

/** Per-step samples of one kind of join. */
class StepTimes {
  private readonly samples = new Map<string, number[]>();
  add(marks: Marks): void {
    for (const [step, t] of Object.entries(marks)) {
      if (!Number.isFinite(t)) continue;
      let list = this.samples.get(step);
      if (!list) this.samples.set(step, (list = []));
      list.push(t);
    }
  }
  median(step: string): number | undefined {
    const list = this.samples.get(step);
    return list?.length ? percentile(list, 50) : undefined;
  }
  medians(): Record<string, number | undefined> {
    return Object.fromEntries([...STEPS_BEFORE, ...STEPS].map((step) => [step, this.median(step)]));
  }
}

/** The per-step medians side by side: where the product's join differs from the bare one. */
function printSteps(product: StepTimes, bare: StepTimes, relay: StepTimes): void {
  const cell = (v: number | undefined) => (v === undefined ? '-' : String(v)).padStart(8);
  console.log('per-step median (ms from the click; page-load and gum: ms from navigation start):');
  console.log(`  ${'step'.padEnd(16)}${'product'.padStart(8)}${'bare'.padStart(8)}${'diff'.padStart(8)}${'TURN/TLS'.padStart(10)}`);
  for (const step of [...STEPS_BEFORE, ...STEPS]) {
    const p = product.median(step);
    const b = bare.median(step);
    const d = p !== undefined && b !== undefined ? p - b : undefined;
    console.log(`  ${step.padEnd(16)}${cell(p)}${cell(b)}${cell(d)}${cell(relay.median(step)).padStart(10)}`);
  }
}

interface Setup {
  services: Services;
  call: CallService;
  server: http.Server;
  base: string;
  close(): Promise<void>;
}

const TURN_SECRET = 'bench-turn-secret-0123456789abcdef';

/** A coturn on loopback for the TURN/TLS join (relaying to the loopback media server). */
async function startTurn(): Promise<{ coturn: Coturn; ca: TestCa; url: string }> {
  const ca = makeTestCa('127.0.0.1');
  const [plain, tls] = [34000 + Math.floor(Math.random() * 500), 34600 + Math.floor(Math.random() * 500)];
  const url = `turns:127.0.0.1:${tls}?transport=tcp`;
  const coturn = await startCoturn(
    coturnConfig(
      { 'listening-ip': '127.0.0.1', 'listening-port': String(plain), 'tls-listening-port': String(tls), 'static-auth-secret': TURN_SECRET, realm: 'idv.test', cert: ca.cert, pkey: ca.key, 'allowed-peer-ip': '127.0.0.1', syslog: null },
      ['allow-loopback-peers'],
    ),
    async () => (await probeTurn({ url, secret: TURN_SECRET, ca: ca.caPem, timeoutMs: 500 })).outcome === 'ok',
  );
  return { coturn, ca, url };
}

/**
 * BENCH_TRACE=1: records when each signaling message leaves and arrives (ms since page start) and prints the trace of
 * one product and one bare join, to see where a join spends its time.
 */
const TRACE = `(() => {
  const t = []; Object.defineProperty(window, '__trace', { value: t });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) { try { const m = JSON.parse(d); t.push(Math.round(performance.now()) + ' > ' + m.method); } catch {} return send.call(this, d); };
  const add = WebSocket.prototype.addEventListener;
  const tap = (ev) => { try { const m = JSON.parse(ev.data); t.push(Math.round(performance.now()) + ' < ' + (m.method || ('#' + m.id))); } catch {} };
  Object.defineProperty(WebSocket.prototype, 'onmessage', { set(fn) { add.call(this, 'message', (ev) => { tap(ev); fn.call(this, ev); }); } });
  document.addEventListener('click', () => t.push(Math.round(performance.now()) + ' click'), true);
})();`;
const tracing = process.env.BENCH_TRACE === '1';
/** BENCH_PROFILE=1: a Chromium performance trace of one product and one bare join (main-thread time by kind). */
const profiling = process.env.BENCH_PROFILE === '1';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  args?: { name?: string };
}

/**
 * Main-thread time of the browser's renderers during one join, from a Chromium trace taken from just before the
 * click to just after the first frame: per renderer process, the time of the event kinds that took longest
 * (nested kinds count inside their parents, e.g. FunctionCall inside RunTask), and in total.
 */
function printProfile(label: string, trace: Buffer): void {
  if (process.env.BENCH_PROFILE_DIR) fs.writeFileSync(path.join(process.env.BENCH_PROFILE_DIR, `${label.split(" ")[0]}-${Date.now()}.json`), trace);
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byPid = new Map<number, Map<string, number>>();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur || !mains.has(`${e.pid}:${e.tid}`)) continue;
    let m = byPid.get(e.pid);
    if (!m) byPid.set(e.pid, (m = new Map()));
    m.set(e.name, (m.get(e.name) ?? 0) + e.dur / 1000);
  }
  for (const [pid, m] of byPid) {
    const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([n, ms]) => `${n} ${ms.toFixed(1)}`);
    console.log(`${label} renderer ${pid} main thread (ms): ${top.join(', ')}`);
  }
}
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing'];

/** Makes the page's peer connections use relay candidates only (as behind a firewall that allows nothing else). */
const RELAY_ONLY = `(() => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) { super({ ...config, iceTransportPolicy: 'relay' }, ...rest); }
    setConfiguration(config = {}) { return super.setConfiguration({ ...config, iceTransportPolicy: 'relay' }); }
  };
})();`;

async function startServer(bareScript: string, turnUrl: string): Promise<Setup> {
  const dataDir = tempDir('idv-bench-call-');
  const config = loadConfig({
    IDV_MODE: 'demo',
    IDV_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    IDV_MEDIA_WORKERS: '1',
    IDV_MEDIA_LISTEN_IP: '127.0.0.1',
    IDV_TURN_URLS: turnUrl,
    IDV_TURN_SECRET: TURN_SECRET,
    ...TEST_RTC_ENV,
  });
  const app = express();
  const server = http.createServer(app);
  const services = initServices({ config, app, log: { info: () => undefined, warn: () => undefined, error: (m) => console.error(m) } });
  const call = await getCallService(services);
  call.attach(server);
  // The bare page exists only in this benchmark process.
  app.get('/bench/bare', (_req, res) => {
    res.type('html').send('<!DOCTYPE html><html lang="en"><body><button id="go">go</button><video id="remote-video" autoplay playsinline muted></video><script src="/bench/bare.js"></script></body></html>');
  });
  app.get('/bench/bare.js', (_req, res) => res.type('js').send(bareScript));
  const unmount = services.mount(callRoutes(services, { presence: () => (id) => call.presence.get(id), log: () => undefined }));
  const release = acquireAccessRoutes(services);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    services,
    call,
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      release();
      unmount();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An appointment running now, for its own agent (one agent cannot hold two overlapping appointments). */
async function book(s: Setup, agent: string): Promise<{ id: string; residentLink: string }> {
  const now = Date.now();
  await s.services.staffStore.upsertUser({ username: agent, displayName: agent, roles: ['agent'], passwordHash: await passwordHash });
  const { appointment } = await appointmentStoreOf(s.services).create(
    {
      startUtc: new Date(now + 60_000).toISOString(),
      endUtc: new Date(now + 30 * 60_000).toISOString(),
      topic: 'Benchmark',
      channel: 'website',
      bookedBy: null,
      resident: { name: 'Bench', email: `${agent}@example.test`, phone: null, remarks: null },
      cancelTokenHash: `bench-${agent}`,
      idempotencyKey: `bench-${agent}`,
      createdAt: new Date(now).toISOString(),
    },
    { candidates: [agent], dayStartUtc: new Date(now - 86_400_000).toISOString(), dayEndUtc: new Date(now + 86_400_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(now).toISOString() },
  );
  const token = await linkServiceOf(s.services).issue({
    appointmentId: appointment.id,
    role: 'resident',
    validFrom: new Date(now - 3_600_000).toISOString(),
    validUntil: new Date(now + 3_600_000).toISOString(),
  });
  return { id: appointment.id, residentLink: `${s.base}/v/${token}` };
}

async function context(browser: Browser, initScript?: string): Promise<BrowserContext> {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
  if (initScript) await ctx.addInitScript(initScript);
  return ctx;
}

/** The agent, signed in, in the call of the appointment from the dashboard (waits there for every resident). */
async function agentInCall(browser: Browser, s: Setup, agent: string, appointmentId: string): Promise<BrowserContext> {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await page.goto(`${s.base}/login?next=${encodeURIComponent(`/agent/call/${appointmentId}`)}`);
  await page.fill('#username', agent);
  await page.fill('#password', PASSWORD);
  await page.click('main form button[type="submit"]');
  await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
  const deadline = Date.now() + 20_000;
  while (!s.call.presence.get(appointmentId).agent && Date.now() < deadline) await sleep(50);
  if (!s.call.presence.get(appointmentId).agent) throw new Error('agent did not join');
  return ctx;
}

async function residentJoin(browser: Browser, s: Setup, link: string, keep = false, initScript?: string): Promise<{ ms: number; marks: Marks; ctx: BrowserContext; page: Page }> {
  const ctx = await context(browser, initScript ?? (tracing ? TRACE : undefined));
  const page = await ctx.newPage();
  const loads: string[] = [];
  if (profiling) {
    // What the page loads and what fails (a blocked request or font is time spent for nothing).
    page.on('requestfinished', (r) => void r.sizes().then((z) => loads.push(`${new URL(r.url()).pathname} ${z.responseBodySize} B`), () => undefined));
    page.on('requestfailed', (r) => loads.push(`FAILED ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => r.status() >= 400 && loads.push(`${r.status()} ${new URL(r.url()).pathname}`));
    page.on('console', (m) => m.type() === 'error' && loads.push(`console error: ${m.text()}`));
  }
  await page.goto(link);
  await page.locator('#start-call:enabled').waitFor({ timeout: 15_000 });
  if (profiling && !initScript) console.log(`product page loads: ${loads.join(', ')}`);
  if (profiling && !initScript) await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  const ms = await page.evaluate<number>(TIME_PRODUCT_JOIN);
  if (profiling && !initScript) printProfile(`product join (${Math.round(ms)} ms)`, await browser.stopTracing());
  if (tracing && !initScript) console.log(`product trace (first frame after ${Math.round(ms)} ms): ${(await page.evaluate<string[]>('window.__trace')).join(', ')}`);
  const marks = await page.evaluate<Marks>(READ_MARKS);
  if (!keep) await ctx.close();
  return { ms, marks, ctx, page };
}

async function bareJoin(browser: Browser, s: Setup, link: string): Promise<{ ms: number; marks: Marks }> {
  const ctx = await context(browser, tracing ? TRACE : undefined);
  const page = await ctx.newPage();
  await page.goto(link); // sets the call cookie
  await page.goto(`${s.base}/bench/bare`);
  await sleep(500); // camera open before the clock starts, as after the product's device check
  if (profiling) await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  await page.click('#go');
  // Polled from here: the page's CSP (as for every page of ours) forbids the eval behind waitForFunction(string).
  let ms = NaN;
  for (const end = Date.now() + 20_000; Number.isNaN(ms) && Date.now() < end; await sleep(20)) {
    ms = Number(await page.evaluate<string | undefined>('document.body.dataset.firstFrameMs') ?? NaN);
  }
  if (Number.isNaN(ms)) throw new Error('bare page: no remote frame within 20 s');
  if (profiling) printProfile(`bare join (${Math.round(ms)} ms)`, await browser.stopTracing());
  if (tracing) console.log(`bare trace (first frame after ${Math.round(ms)} ms): ${(await page.evaluate<string[]>('window.__trace')).join(', ')}`);
  const marks = await page.evaluate<Marks>(READ_MARKS);
  await ctx.close();
  return { ms, marks };
}

async function main(): Promise<void> {
  const joins = intEnv('BENCH_JOINS', 12, 100);
  const concurrent = intEnv('BENCH_CALLS', 3, 10);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const bundle = await esbuild.build({ stdin: { contents: BARE_CLIENT, resolveDir: path.resolve(__dirname, '..', '..', '..'), loader: 'js' }, bundle: true, write: false, format: 'iife', minify: true });
  const turn = await startTurn();
  const s = await startServer(bundle.outputFiles[0].text, turn.url);
  const browser = await launchBrowser();
  // Trusts exactly the test TURN server's key for TURNS.
  const relayBrowser = await launchBrowser([`--ignore-certificate-errors-spki-list=${turn.ca.spki}`]);
  try {
    const main = await book(s, 'agent0');
    const agent = await agentInCall(browser, s, 'agent0', main.id);
    // One warm-up join of each kind (browser and worker caches), not counted.
    await residentJoin(browser, s, main.residentLink);
    await bareJoin(browser, s, main.residentLink);
    const product: number[] = [];
    const bare: number[] = [];
    const steps = { product: new StepTimes(), bare: new StepTimes(), relay: new StepTimes() };
    for (let i = 0; i < joins; i++) {
      // Alternating, so drift on the machine touches both the same way.
      const p = await residentJoin(browser, s, main.residentLink);
      product.push(p.ms);
      steps.product.add(p.marks);
      const b = await bareJoin(browser, s, main.residentLink);
      bare.push(b.ms);
      steps.bare.add(b.marks);
    }
    await residentJoin(relayBrowser, s, main.residentLink, false, RELAY_ONLY);
    const relay: number[] = [];
    for (let i = 0; i < Math.ceil(joins / 2); i++) {
      const r = await residentJoin(relayBrowser, s, main.residentLink, false, RELAY_ONLY);
      relay.push(r.ms);
      steps.relay.add(r.marks);
    }
    await agent.close();
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(`join -> first remote frame in Chromium over ${joins} joins each:`);
    console.log(`  product (/call page): p50 ${percentile(product, 50)} ms, p95 ${percentile(product, 95)} ms`);
    console.log(`  bare mediasoup page : p50 ${percentile(bare, 50)} ms, p95 ${percentile(bare, 95)} ms`);
    console.log(`  product / bare      : p50 ${ratio(percentile(product, 50), percentile(bare, 50))}x, p95 ${ratio(percentile(product, 95), percentile(bare, 95))}x`);
    console.log(`  product via TURN/TLS (relay only, ${relay.length} joins): p50 ${percentile(relay, 50)} ms, p95 ${percentile(relay, 95)} ms`);
    printSteps(steps.product, steps.bare, steps.relay);

    await sleep(2000);
    const workerPid = s.call.media.workerPids()[0];
    const before = { worker: rssMiB(workerPid), node: process.memoryUsage().rss / 2 ** 20 };
    const contexts: BrowserContext[] = [];
    for (let i = 1; i <= concurrent; i++) {
      const a = await book(s, `agent${i}`);
      contexts.push(await agentInCall(browser, s, `agent${i}`, a.id));
      contexts.push((await residentJoin(browser, s, a.residentLink, true)).ctx);
    }
    await sleep(5000);
    const during = { worker: rssMiB(workerPid), node: process.memoryUsage().rss / 2 ** 20 };
    const per = (a: number, b: number) => Math.round(((b - a) / concurrent) * 100) / 100;
    console.log(
      `memory with ${concurrent} concurrent browser calls: worker RSS ${before.worker.toFixed(1)} -> ${during.worker.toFixed(1)} MiB ` +
        `(+${per(before.worker, during.worker)} MiB/call), runtime RSS ${before.node.toFixed(1)} -> ${during.node.toFixed(1)} MiB (+${per(before.node, during.node)} MiB/call)`,
    );
    console.log(
      JSON.stringify({
        benchmark: 'call',
        joins,
        product: { p50: percentile(product, 50), p95: percentile(product, 95), samples: product.map(Math.round) },
        bare: { p50: percentile(bare, 50), p95: percentile(bare, 95), samples: bare.map(Math.round) },
        turnTls: { p50: percentile(relay, 50), p95: percentile(relay, 95), samples: relay.map(Math.round) },
        steps: { product: steps.product.medians(), bare: steps.bare.medians(), turnTls: steps.relay.medians() },
        memory: { calls: concurrent, workerMiBPerCall: per(before.worker, during.worker), runtimeMiBPerCall: per(before.node, during.node) },
      }),
    );
    for (const c of contexts) await c.close();
  } finally {
    await relayBrowser.close();
    await browser.close();
    await s.close();
    await turn.coturn.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`call benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
