/**
 * Calls with less than a camera and a microphone, Safari's codec and autoplay rules, in Debian's Chromium:
 * - no camera (Chromium's fake devices with device-count=0: a microphone, no camera): sound only, "Camera uit" on the
 *   agent's side, and the camera switch of the other side shows and hides that placeholder;
 * - the camera refused, the microphone allowed (permissions set through the DevTools protocol);
 * - no microphone (emulated: Chromium cannot be started with a fake camera but without a fake microphone);
 * - Safari's path: a resident whose browser offers only H.264 (its offers stripped to H.264, as older iPhones send);
 *   the agent must send H.264 too, and both decode video;
 * - autoplay refused (as Safari and Firefox may; emulated, see REFUSE_AUDIBLE_AUTOPLAY): the "Klik om geluid aan te zetten"
 *   button.
 */
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath, launchBrowser } from '../support/browser';
import { AGENT_PASSWORD, startCallServer, type CallServer } from '../support/call-server';
import { assertMediaFlows, mediaFlow, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';

/** Makes the page's browser offer video in H.264 only (what a Safari that lacks VP8 does). */
const H264_ONLY = `(() => {
  const strip = (sdp) => {
    const sections = sdp.split(/\\r\\n(?=m=)/);
    return sections.map((sec) => {
      if (!sec.startsWith('m=video')) return sec;
      const lines = sec.split('\\r\\n');
      const h264 = new Set();
      for (const l of lines) { const m = /^a=rtpmap:(\\d+) H264\\//.exec(l); if (m) h264.add(m[1]); }
      const keep = new Set(h264);
      for (const l of lines) { const m = /^a=fmtp:(\\d+) apt=(\\d+)/.exec(l); if (m && h264.has(m[2])) keep.add(m[1]); }
      return lines.filter((l) => {
        const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\\d+)/.exec(l);
        return !m || keep.has(m[1]);
      }).map((l) => l.startsWith('m=video') ? l.split(' ').slice(0, 3).concat(l.split(' ').slice(3).filter((pt) => keep.has(pt))).join(' ') : l).join('\\r\\n');
    }).join('\\r\\n');
  };
  const createOffer = RTCPeerConnection.prototype.createOffer;
  RTCPeerConnection.prototype.createOffer = async function (...args) {
    const offer = await createOffer.apply(this, args);
    return { type: offer.type, sdp: strip(offer.sdp) };
  };
})();`;

/** The inbound video codecs of the page's peer connections. */
const INBOUND_VIDEO_CODECS = `(async () => {
  const out = [];
  for (const pc of (window.__idvTestPcs || []).filter((p) => p.connectionState === 'connected')) {
    const stats = new Map();
    (await pc.getStats()).forEach((s) => stats.set(s.id, s));
    for (const s of stats.values()) if (s.type === 'inbound-rtp' && s.kind === 'video' && s.codecId) out.push(stats.get(s.codecId).mimeType);
  }
  return out;
})()`;

/** A browser without a microphone: getUserMedia refuses audio as Chromium does when none is connected. */
const NO_MICROPHONE = `(() => {
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => c && c.audio ? Promise.reject(new DOMException('Requested device not found', 'NotFoundError')) : gum(c);
})();`;

/**
 * Chromium lets a page that captures camera and microphone autoplay a WebRTC stream with sound, whatever its
 * --autoplay-policy (seen here with document-user-activation-required); Safari and Firefox may refuse. This makes
 * play() refuse audible playback without a click in the page, as they do (NotAllowedError).
 */
const REFUSE_AUDIBLE_AUTOPLAY = `(() => {
  let clicked = false;
  addEventListener('click', () => (clicked = true), true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    if (!this.muted && !clicked) return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
    return play.call(this);
  };
})();`;

describe('calls without camera or microphone, H.264 only, blocked autoplay (e2e, Chromium)', function () {
  this.timeout(120_000);
  let s: CallServer;
  let browser: Browser;
  const extra: Browser[] = [];
  let n = 0;

  before(async () => {
    s = await startCallServer();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const b of extra) await b.close().catch(() => undefined);
    await browser?.close();
    await s?.close();
  });

  async function pageIn(b: Browser, ...initScripts: string[]): Promise<Page> {
    const ctx = await b.newContext({ permissions: ['camera', 'microphone'] });
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    for (const script of initScripts) await ctx.addInitScript(script);
    return ctx.newPage();
  }

  async function agentJoins(b: Browser, appointmentId: string, agent: string, ...initScripts: string[]): Promise<Page> {
    const page = await pageIn(b, ...initScripts);
    await page.goto(`${s.base}/login?next=${encodeURIComponent(`/agent/call/${appointmentId}`)}`);
    await page.fill('#username', agent);
    await page.fill('#password', AGENT_PASSWORD);
    await page.click('main form button[type="submit"]');
    await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    return page;
  }

  async function residentReady(page: Page, link: string): Promise<void> {
    await page.goto(link);
    await page.locator('#start-call').waitFor();
    await waitFor('the device check finished', async () => (await page.locator('#device-problem').isVisible()) || (await page.locator('#start-call').isEnabled()));
  }

  it('without a camera: the device check says so, the resident joins with sound, the agent sees "Camera uit" and hears them', async () => {
    const noCamera = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS.filter((a) => a !== '--use-fake-device-for-media-stream'), '--use-fake-device-for-media-stream=device-count=0'] });
    extra.push(noCamera);
    const agentName = `agent${++n}`;
    const { id, residentLink } = await s.book(agentName);
    const resident = await pageIn(noCamera);
    await residentReady(resident, residentLink);
    assert.match(await resident.locator('#device-problem-text').innerText(), /geen camera.*alleen geluid/);
    assert.equal(await resident.locator('#start-call').isEnabled(), true, 'sound only is allowed');
    await resident.click('#start-call');
    const agent = await agentJoins(browser, id, agentName);
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await assertMediaFlows(resident, 'resident (no camera) sees the agent');
    const placeholder = agent.locator('.idv-camera-off');
    await placeholder.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await placeholder.innerText(), 'Camera uit');
    const a0 = (await mediaFlow(agent)).audioBytes;
    await waitFor('the agent hears the resident', async () => (await mediaFlow(agent)).audioBytes > a0 + 1000);
    // The agent switches the camera off and on: the resident's page follows with the placeholder.
    await resident.locator('.idv-camera-off').waitFor({ state: 'hidden' });
    await agent.click('#toggle-camera');
    await resident.locator('.idv-camera-off').waitFor({ state: 'visible', timeout: 10_000 });
    await agent.click('#toggle-camera');
    await resident.locator('.idv-camera-off').waitFor({ state: 'hidden', timeout: 10_000 });
    await agent.context().close();
    await resident.context().close();
  });

  it('camera refused but microphone allowed: sound only, and the device check says what works', async () => {
    const strict = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream') });
    extra.push(strict);
    const { residentLink } = await s.book(`agent${++n}`);
    const ctx = await strict.newContext();
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId?: string } };
    await cdp.send('Browser.setPermission', { permission: { name: 'camera' }, setting: 'denied', browserContextId: targetInfo.browserContextId });
    await cdp.send('Browser.setPermission', { permission: { name: 'microphone' }, setting: 'granted', browserContextId: targetInfo.browserContextId });
    await residentReady(page, residentLink);
    assert.match(await page.locator('#device-problem-text').innerText(), /microfoon werkt.*camera niet toegestaan.*alleen geluid/);
    assert.equal(await page.locator('#start-call').isEnabled(), true);
    await ctx.close();
  });

  it('without a microphone: told what to do, and no call nobody can hear', async () => {
    const { residentLink } = await s.book(`agent${++n}`);
    const page = await pageIn(browser, NO_MICROPHONE);
    await residentReady(page, residentLink);
    assert.match(await page.locator('#device-problem-text').innerText(), /geen microfoon.*Sluit een microfoon of headset aan/);
    assert.equal(await page.locator('#start-call').isDisabled(), true);
    await page.context().close();
  });

  it('Safari\'s path: a resident whose browser sends and takes only H.264 sees and is seen', async () => {
    const agentName = `agent${++n}`;
    const { id, residentLink } = await s.book(agentName);
    // The agent is there first and sends VP8; when the H.264-only resident joins it must switch to H.264.
    const agent = await agentJoins(browser, id, agentName);
    const resident = await pageIn(browser, H264_ONLY);
    await residentReady(resident, residentLink);
    assert.equal(await resident.locator('#remote-video').getAttribute('playsinline'), '', 'playsinline: iOS plays in the page');
    await resident.click('#start-call');
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    await assertMediaFlows(resident, 'H.264-only resident');
    await assertMediaFlows(agent, 'agent of an H.264-only resident');
    assert.deepEqual([...new Set((await resident.evaluate(INBOUND_VIDEO_CODECS)) as string[])], ['video/H264'], 'the resident receives H.264');
    assert.deepEqual([...new Set((await agent.evaluate(INBOUND_VIDEO_CODECS)) as string[])], ['video/H264'], 'the resident sends H.264');
    await agent.context().close();
    await resident.context().close();
  });

  it('autoplay blocked: the picture runs muted and "Klik om geluid aan te zetten" brings the sound', async () => {
    const agentName = `agent${++n}`;
    const { id, residentLink } = await s.book(agentName);
    const resident = await pageIn(browser);
    await residentReady(resident, residentLink);
    await resident.click('#start-call');
    const agent = await agentJoins(browser, id, agentName, REFUSE_AUDIBLE_AUTOPLAY);
    const unmute = agent.locator('.idv-unmute');
    await unmute.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await unmute.innerText(), 'Klik om geluid aan te zetten');
    assert.equal(await agent.evaluate(`document.getElementById('remote-video').muted`), true);
    await assertMediaFlows(agent, 'agent with autoplay blocked (the muted picture runs)');
    await unmute.click();
    await unmute.waitFor({ state: 'hidden' });
    assert.equal(await agent.evaluate(`document.getElementById('remote-video').muted`), false);
    await waitFor('the video plays with sound', async () => (await agent.evaluate(`!document.getElementById('remote-video').paused`)) === true);
    assert.deepEqual(s.log.lines, [], 'no server warnings or errors');
  });
});
