/**
 * Calls over real networks: the resident's Chromium runs inside a network namespace behind a masquerading router
 * (test/support/netns.ts); the media server and web server run in this process on the "internet" side, beside a real
 * coturn (started from deploy/coturn/turnserver.conf, TLS with a test CA) in its own namespace. The agent's Chromium
 * runs on the server side. Each case changes the router's filters or link and proves the path from getStats and the
 * media from inbound statistics on both sides:
 *   (a) UDP allowed: direct; (b) UDP dropped: ICE over TCP to the media server; (c) only TCP 443 to the TURN host:
 *   TURNS, and a rejoin after the credentials expired gets new ones; (d) 5 % loss and 150 ms each way: media keeps
 *   flowing and the indicator says so; (e) the link down for 10 s, then an address change: recovery without reload,
 *   bounds measured; (f) TURN down: a direct call still works, a blocked one is told in words.
 * Needs root (namespaces); scripts/ensure-test-deps.js installs iproute2, nftables, coturn.
 */
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { probeTurn } from '../../media-server';
import { CHROMIUM_ARGS, chromiumPath, launchBrowser } from '../support/browser';
import { AGENT_PASSWORD, startCallServer, type CallServer } from '../support/call-server';
import { assertMediaFlows, mediaFlow, RECORD_PEER_CONNECTIONS, selectedPaths, waitFor, type SelectedPath } from '../support/call-media';
import { coturnConfig, makeTestCa, startCoturn, type Coturn, type TestCa } from '../support/coturn';
import { createTestNetwork, netnsProblem, onlyAllow, type TestNetwork } from '../support/netns';
import { skipBecause } from '../support/skip';

const SECRET = 'network-test-turn-secret-0123456789';
/** Short-lived TURN credentials, so case (c) can rejoin after they ran out within the test. */
const TURN_TTL_S = 10;

/** Also records the ICE servers each peer connection was given (TURN usernames carry their expiry). */
const RECORD_ICE_SERVERS = `(() => {
  const Native = window.RTCPeerConnection;
  const seen = [];
  Object.defineProperty(window, '__idvTestIce', { value: seen });
  window.RTCPeerConnection = class extends Native {
    constructor(config, ...rest) { super(config, ...rest); for (const s of (config && config.iceServers) || []) if (s.username) seen.push(s.username); }
  };
})();`;

describe('calls over real networks: NAT, firewalls, TURN, loss, outages (e2e, network namespaces)', function () {
  this.timeout(240_000);
  const problem = netnsProblem();

  let net: TestNetwork;
  let ca: TestCa;
  let coturn: Coturn | undefined;
  let s: CallServer;
  let agentBrowser: Browser;
  let residentBrowser: Browser;
  let agent: Page;
  let appointment: { id: string; residentLink: string };
  let residentCtx: BrowserContext | undefined;
  let resident: Page;
  const figures: string[] = [];

  before(async function () {
    if (problem) skipBecause(this, problem);
    net = createTestNetwork();
    ca = makeTestCa(net.turnIp);
    await startTurn();
    s = await startCallServer({
      host: net.serverIp,
      env: { IDV_MEDIA_LISTEN_IP: net.serverIp, IDV_TURN_URLS: turnUrls().join(','), IDV_TURN_SECRET: SECRET },
      tweak: (c) => {
        if (c.media.turn) c.media.turn.maxTtlSeconds = TURN_TTL_S;
      },
    });
    // A page on http://198.18.x.y is no secure context: let both browsers treat this one origin as one (getUserMedia).
    const secureOrigin = `--unsafely-treat-insecure-origin-as-secure=${s.base}`;
    agentBrowser = await launchBrowser([secureOrigin]);
    residentBrowser = await chromium.launch({
      executablePath: net.wrapper(net.ns.resident, chromiumPath()),
      headless: true,
      // Trust exactly the test TURN server's key for TURNS, nothing else.
      args: [...CHROMIUM_ARGS, secureOrigin, `--ignore-certificate-errors-spki-list=${ca.spki}`],
    });
    appointment = await s.book('agent1');
    const ctx = await agentBrowser.newContext({ permissions: ['camera', 'microphone'] });
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    agent = await ctx.newPage();
    await agent.goto(`${s.base}/login?next=${encodeURIComponent(`/agent/call/${appointment.id}`)}`);
    await agent.fill('#username', 'agent1');
    await agent.fill('#password', AGENT_PASSWORD);
    await agent.click('main form button[type="submit"]');
    await agent.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
  });

  after(async () => {
    if (figures.length) console.log(`      measured: ${figures.join('; ')}`);
    await residentCtx?.close().catch(() => undefined);
    await residentBrowser?.close().catch(() => undefined);
    await agentBrowser?.close().catch(() => undefined);
    await s?.close();
    await coturn?.stop();
    net?.destroy();
  });

  // Every test starts on an open, unimpaired network with TURN running, whatever the test before it left (a failed
  // one included), so they pass in any order (IDV_TEST_ORDER).
  beforeEach(async () => {
    net.setRouterFilter([]);
    await net.clearImpairment();
    await startTurn();
  });

  /** As README recommends: TURN over UDP, and TURNS on 443 for networks that allow nothing else. */
  function turnUrls(): string[] {
    return [`turn:${net.turnIp}:3478`, `turns:${net.turnIp}:443?transport=tcp`];
  }

  /** Starts coturn in its namespace unless it runs (test (f) stops it; every test that needs it starts it again). */
  async function startTurn(): Promise<void> {
    if (coturn) return;
    coturn = await startCoturn(
      coturnConfig({
        'listening-ip': net.turnIp,
        'static-auth-secret': SECRET,
        realm: 'turn.idv.test',
        cert: ca.cert,
        pkey: ca.key,
        'allowed-peer-ip': net.serverIp,
        syslog: null,
      }),
      async () => (await probeTurn({ url: turnUrls()[1], secret: SECRET, ca: ca.caPem, timeoutMs: 500 })).outcome === 'ok',
      net.ns.turn,
    );
  }

  /** The resident joins afresh (new browser context: new ICE) under the network as it is now. */
  async function residentJoins(): Promise<void> {
    await residentCtx?.close().catch(() => undefined);
    residentCtx = await residentBrowser.newContext({ permissions: ['camera', 'microphone'] });
    await residentCtx.addInitScript(RECORD_PEER_CONNECTIONS);
    await residentCtx.addInitScript(RECORD_ICE_SERVERS);
    resident = await residentCtx.newPage();
    await resident.goto(appointment.residentLink);
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await resident.evaluate('window.__idvNoReload = true');
    await resident.click('#start-call');
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** The resident's selected pairs once both transports use a pair that `ok` accepts (bounded), else as they are. */
  async function settledPaths(ok: (p: SelectedPath) => boolean): Promise<SelectedPath[]> {
    let paths: SelectedPath[] = [];
    await waitFor('the selected candidate pairs settle', async () => {
      paths = await selectedPaths(resident);
      return paths.length >= 2 && paths.every(ok);
    }, 15_000).catch(() => undefined);
    assert.ok(paths.length >= 2, `both transports connected: ${JSON.stringify(paths)}`);
    return paths;
  }

  async function bothSeeAndHear(label: string, timeoutMs = 30_000): Promise<void> {
    await assertMediaFlows(resident, `resident ${label}`, 0, timeoutMs);
    await assertMediaFlows(agent, `agent ${label}`, 0, timeoutMs);
  }

  it('(a) UDP allowed: a direct UDP path through the NAT', async () => {
    net.setRouterFilter([]);
    await residentJoins();
    await bothSeeAndHear('(a)');
    // The browser may start on whichever pair answered first and then switch to the best one: wait for it to settle.
    const paths = await settledPaths((p) => p.localType !== 'relay' && p.protocol === 'udp');
    for (const p of paths) {
      assert.notEqual(p.localType, 'relay', JSON.stringify(p));
      assert.equal(p.protocol, 'udp', JSON.stringify(p));
      assert.equal(p.remoteAddress, net.serverIp);
    }
  });

  it('(b) all UDP dropped, TCP to the media server allowed: ICE over TCP', async () => {
    // The TURN host is out of reach too: with TURNS available, Chromium may keep the relay pair that answered first
    // rather than switch to ICE-TCP (seen on a quiet CI machine). The claim here is that ICE-TCP alone carries the call.
    net.setRouterFilter(['iifname "lan" meta l4proto udp drop', `iifname "lan" ip daddr ${net.turnIp} drop`]);
    await residentJoins();
    await bothSeeAndHear('(b)');
    const paths = await settledPaths((p) => p.localType !== 'relay' && p.protocol === 'tcp');
    for (const p of paths) {
      assert.notEqual(p.localType, 'relay', `no relay needed: ${JSON.stringify(p)}`);
      assert.equal(p.protocol, 'tcp', JSON.stringify(p));
      assert.equal(p.remoteAddress, net.serverIp);
    }
  });

  it('(c) only TCP 443 to the TURN host (and the web site): TURNS, and new credentials on a rejoin after they expired', async () => {
    net.setRouterFilter(onlyAllow([`ip daddr ${net.serverIp} tcp dport ${s.port}`, `ip daddr ${net.turnIp} tcp dport 443`]));
    await residentJoins();
    await bothSeeAndHear('(c)', 45_000);
    const paths = await selectedPaths(resident);
    assert.ok(paths.length >= 2, JSON.stringify(paths));
    for (const p of paths) {
      assert.equal(p.localType, 'relay', JSON.stringify(p));
      assert.equal(p.relayProtocol, 'tls', `the browser reaches TURN over TLS: ${JSON.stringify(p)}`);
    }
    const firstUsers = (await resident.evaluate('window.__idvTestIce.slice()')) as string[];
    const firstExpiry = Math.max(...firstUsers.map((u) => Number(u.split(':')[0])));
    // Let the credentials run out, then cut the signaling as a network change would: the rejoin must get new ones.
    await waitFor('the first TURN credentials expired', async () => Date.now() / 1000 > firstExpiry + 1, (TURN_TTL_S + 5) * 1000, 500);
    const before = (await mediaFlow(resident)).pcs;
    for (const sock of s.callSockets) sock.destroy();
    await assertMediaFlows(resident, 'resident (c) after rejoin', before + 1, 45_000);
    await assertMediaFlows(agent, 'agent (c) after rejoin', 0, 45_000);
    const users = (await resident.evaluate('window.__idvTestIce.slice()')) as string[];
    const newer = users.slice(firstUsers.length).map((u) => Number(u.split(':')[0]));
    assert.ok(newer.length > 0 && newer.every((e) => e > firstExpiry), `fresh credentials after the rejoin: ${firstUsers} -> ${users}`);
    for (const p of await selectedPaths(resident)) assert.equal(p.relayProtocol, 'tls', JSON.stringify(p));
    assert.equal(await resident.evaluate('window.__idvNoReload === true'), true, 'no reload');
  });

  it('(d) 5 % loss and 150 ms delay each way: video keeps decoding, audio keeps playing, the indicator says so', async () => {
    net.setRouterFilter([]);
    figures.push(`(d) impairment by ${await net.impairResidentLink(150, 5)}`);
    await residentJoins();
    await bothSeeAndHear('(d)', 45_000);
    // Over 8 s, sampled inside each page every 100 ms (no driver round trips in the measurement): frames keep coming,
    // the longest stall stays bounded, sound keeps arriving; and the browsers' own freeze statistics (webrtc-stats:
    // a frame gap longer than max(3 frame times, mean + 150 ms)) for the record. Both sides at once.
    const WATCH = `(async () => {
      const read = async () => {
        const r = { frames: 0, audio: 0, freezes: 0, frozen: 0 };
        for (const pc of (window.__idvTestPcs || []).filter((p) => p.connectionState !== 'closed')) {
          (await pc.getStats()).forEach((s) => {
            if (s.type !== 'inbound-rtp') return;
            if (s.kind === 'video') { r.frames += s.framesDecoded || 0; r.freezes += s.freezeCount || 0; r.frozen += s.totalFreezesDuration || 0; }
            else r.audio += s.bytesReceived || 0;
          });
        }
        return r;
      };
      const first = await read();
      let last = first, lastGrowth = performance.now(), longest = 0;
      const end = performance.now() + 8000;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        const now = await read();
        if (now.frames > last.frames) lastGrowth = performance.now();
        longest = Math.max(longest, performance.now() - lastGrowth);
        last = now;
      }
      return { frames: last.frames - first.frames, audio: last.audio - first.audio, freezes: last.freezes - first.freezes, frozen: last.frozen - first.frozen, longest: Math.round(longest) };
    })()`;
    type Watch = { frames: number; audio: number; freezes: number; frozen: number; longest: number };
    const watched = (await Promise.all([resident.evaluate(WATCH), agent.evaluate(WATCH)])) as Watch[];
    ['resident', 'agent'].forEach((who, i) => {
      const w = watched[i];
      figures.push(`(d) ${who}: ${w.frames} frames in 8 s, longest stall ${w.longest} ms, ${w.freezes} freezes (${w.frozen.toFixed(1)} s) by webrtc-stats`);
      // Bounds for a 2-core machine shared with other work (seen: 86-160 frames, stalls 0.3-2.6 s at load 9-15).
      assert.ok(w.frames >= 8 * 5, `${who}: video keeps decoding (${w.frames} frames in 8 s)`);
      assert.ok(w.longest < 4000, `${who}: video stalled ${w.longest} ms`);
      assert.ok(w.audio > 0, `${who}: sound keeps arriving`);
    });
    await waitFor('the indicator tells a degraded connection in words', async () => ['fair', 'poor'].includes((await resident.locator('#quality').getAttribute('data-quality')) ?? ''), 30_000);
    assert.match(await resident.locator('#quality').innerText(), /^(matig|slecht)$/);
    await net.clearImpairment();
    await bothSeeAndHear('(d) after the impairment');
  });

  it('(e) the link goes down for 10 s, then the address changes: the call recovers without a reload, within a measured bound', async () => {
    const recover = async (label: string): Promise<number> => {
      const t0 = Date.now();
      const a = await mediaFlow(resident);
      const b = await mediaFlow(agent);
      await waitFor(`${label}: media again on both sides`, async () => {
        const [ra, rb] = [await mediaFlow(resident), await mediaFlow(agent)];
        return ra.framesDecoded > a.framesDecoded + 5 && rb.framesDecoded > b.framesDecoded + 5 && ra.audioBytes > a.audioBytes && rb.audioBytes > b.audioBytes;
      }, 40_000, 200);
      return Date.now() - t0;
    };
    // Its own call, not the one the test before left (order independence).
    await residentJoins();
    await bothSeeAndHear('(e) before the outage');
    net.setRouterFilter(['drop']);
    await new Promise((r) => setTimeout(r, 10_000));
    net.setRouterFilter([]);
    const afterOutage = await recover('after a 10 s outage');
    figures.push(`(e) recovery after a 10 s outage: ${afterOutage} ms`);
    net.changeRouterAddress();
    const afterMove = await recover('after an address change');
    figures.push(`(e) recovery after an address change: ${afterMove} ms`);
    assert.equal(await resident.evaluate('window.__idvNoReload === true'), true, 'no reload');
    // The bound this test holds the product to (the measured figures above are typically far lower).
    assert.ok(afterOutage < 25_000 && afterMove < 25_000, `recovered in ${afterOutage} / ${afterMove} ms`);
    await resident.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 15_000 });
  });

  it('(f) TURN down: a direct call still works; a network that needs TURN is told in words within a bound', async () => {
    await coturn?.stop();
    coturn = undefined;
    await residentJoins();
    await bothSeeAndHear('(f) direct without TURN');
    net.setRouterFilter(onlyAllow([`ip daddr ${net.serverIp} tcp dport ${s.port}`, `ip daddr ${net.turnIp} tcp dport 443`]));
    const t0 = Date.now();
    await residentJoins();
    const alert = resident.locator('.idv-media-problem');
    await alert.waitFor({ state: 'visible', timeout: 40_000 });
    figures.push(`(f) message after ${Date.now() - t0} ms`);
    assert.match(await alert.innerText(), /netwerk/);
    assert.deepEqual(s.log.lines, [], 'no server warnings or errors');
  });
});
