/**
 * Issue 13 end to end, from the default flows, in Debian's Chromium: chat both ways (in the waiting room and in the
 * call), a photo shared from the resident's page and shown to the agent without its EXIF (checked in the bytes),
 * refused files, the agent's screen seen by the resident, a third participant invited by mail, let in, in a call of
 * three with media on all six paths, who never sees the identification or documents, and is removed. Afterwards the
 * runtime's log (every Debug node of the flows writes to it here), the data dir and the processing log are searched
 * for the chat text, the document's bytes and the EXIF. One runtime and one browser for the whole file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, describeViolations, launchBrowser } from '../support/browser';
import { assertMediaFromTwo, inboundStreams, RECORD_PEER_CONNECTIONS, waitFor } from '../support/call-media';
import { defaultFlowsOpenNow } from '../support/flows';
import { layoutProblems, smallTargets, VIEWPORTS } from '../support/layout';
import { linkFromMail, signIn } from '../support/pages';
import { ROOT, startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { keepOrder } from '../support/test-order';

const SHOTS = process.env.IDV_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : tempDir('idv-shots-');
const CHAT_SECRET = 'Mijn klantnummer is KN-4471-ZZ';
const EXIF_MARK = 'TestCam-GEHEIM-7731';

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

async function noViolations(page: Page, what: string): Promise<void> {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `${what}:\n${describeViolations(v)}`);
}

/**
 * The controls of issue 13 as people see them at a small phone, a phone and a laptop: nothing runs off the side and
 * every button, field and disclosure inside `parts` is at least 44 px (WCAG 2.5.5). The page's own size comes back.
 */
async function controlsFit(page: Page, parts: string[], what: string): Promise<void> {
  const own = page.viewportSize();
  try {
    for (const size of [VIEWPORTS.phoneSmall, VIEWPORTS.phone, VIEWPORTS.laptop]) {
      await page.setViewportSize(size);
      const at = `${what} at ${size.width}×${size.height}`;
      assert.deepEqual(await layoutProblems(page), [], at);
      for (const part of parts) {
        assert.equal(await page.locator(part).count() > 0, true, `${at}: ${part} is on the page`);
        assert.deepEqual(await smallTargets(page, 44, part), [], `${at}: touch targets in ${part}`);
      }
    }
  } finally {
    if (own) await page.setViewportSize(own);
  }
}

describe('chat, documents, screen sharing and a third participant (default flows, Chromium)', function () {
  keepOrder(this, "one call's story: the first step books and starts the call the next steps chat, share and invite in, and the last checks that the call's end deleted what they made");
  this.timeout(300_000);
  let rt: RuntimeHandle;
  let browser: Browser;
  let base: string;
  const pages: Page[] = [];
  let appointmentId = '';
  let resident: Page;
  let agent: Page;
  let mailReader: Page;
  let photo: Buffer;

  before(async () => {
    const dataDir = tempDir('idv-extras-');
    const flows = defaultFlowsOpenNow(ROOT);
    // Every message that reaches a Debug node goes to the runtime's log too, so the log search covers the flows.
    for (const n of flows) if (n.type === 'debug') Object.assign(n, { console: true, complete: 'true' });
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
    rt = await startRuntime({ dataDir, timeoutMs: 60_000 });
    base = rt.url;
    browser = await launchBrowser(['--auto-select-desktop-capture-source=Entire screen', '--enable-usermedia-screen-capturing']);
    photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 30, g: 120, b: 200 } } })
      .jpeg()
      .withExif({ IFD0: { Make: EXIF_MARK, Model: 'X1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 5/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 18/1 0/1' } })
      .toBuffer();
  });

  after(async () => {
    for (const p of pages) await p.context().close().catch(() => undefined);
    await browser?.close();
    await rt?.stop();
    if (rt) fs.rmSync(rt.dataDir, { recursive: true, force: true });
  });

  async function newPage(viewport = { width: 1366, height: 768 }): Promise<Page> {
    const ctx = await browser.newContext({ permissions: ['camera', 'microphone'], viewport });
    await ctx.addInitScript(RECORD_PEER_CONNECTIONS);
    const p = await ctx.newPage();
    pages.push(p);
    return p;
  }

  it('chat both ways while the resident waits, then in the call', async () => {
    const booking = await newPage();
    await booking.goto(`${base}/afspraak`);
    await Promise.all([booking.waitForNavigation(), booking.click('main button[type="submit"]')]);
    await booking.check('input[name="time"] >> nth=0');
    await booking.fill('#name', 'Fatima el Amrani');
    await booking.fill('#email', 'fatima@example.nl');
    await Promise.all([booking.waitForNavigation(), booking.click('main button[type="submit"]')]);
    await Promise.all([booking.waitForNavigation(), booking.click('button[value="confirm"]')]);
    mailReader = await newPage();
    await signIn(mailReader, base, 'agent1', '/dev/mail');
    const link = await linkFromMail(mailReader, base, 'fatima@example.nl');

    resident = await newPage({ width: 390, height: 844 });
    await resident.goto(link);
    await resident.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await resident.click('#start-call');
    await resident.locator('#waiting').waitFor({ state: 'visible' });
    await resident.locator('#chat-log').waitFor({ state: 'visible' });

    agent = await newPage();
    await signIn(agent, base, 'agent1', '/agent');
    const row = agent.locator('li[data-appointment-id][data-waiting="true"]').first();
    await row.waitFor({ timeout: 30_000 });
    appointmentId = (await row.getAttribute('data-appointment-id')) ?? '';
    await row.locator('.idv-row-chat > summary').click();
    await row.locator('.idv-chat input').fill('Ik kom over 5 minuten bij u.');
    await row.locator('.idv-chat input').press('Enter');
    await waitFor('the waiting resident reads the agent', async () => /Ik kom over 5 minuten/.test(await resident.locator('#chat-log').innerText()));
    // Keyboard only on the resident's side: focus the box, type, Enter.
    await resident.focus('#chat-text');
    await resident.keyboard.type(`${CHAT_SECRET} <b>vet</b>`);
    await resident.keyboard.press('Enter');
    await waitFor('the agent reads the resident in the row', async () => (await row.locator('.idv-chat-log').innerText()).includes(CHAT_SECRET));
    assert.equal(await resident.locator('#chat-log b').count(), 0, 'markup stays text');
    assert.equal(await resident.locator('#chat-log').getAttribute('role'), 'log');
    assert.equal(await resident.locator('#chat-log ol > li.idv-chat-message').count(), 2);
    await noViolations(resident, 'resident waiting with the chat');
    await noViolations(agent, 'dashboard with the row chat');
    await shot(resident, 'extras-1-chat-waiting-resident');

    await row.locator('button.idv-join').click();
    await agent.locator('#call').waitFor({ state: 'visible' });
    await resident.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('the workspace chat shows the history', async () => (await agent.locator('#workspace-chat').innerText()).includes(CHAT_SECRET));
    await agent.fill('#workspace-chat-log-text', 'Kunt u de brief laten zien?');
    await agent.press('#workspace-chat-log-text', 'Enter');
    await waitFor('the resident reads it in the call', async () => /brief laten zien/.test(await resident.locator('#chat-log').innerText()));
    await controlsFit(resident, ['#chat'], 'resident chat in the call');
    await controlsFit(agent, ['#workspace-chat'], 'agent chat in the call');
  });

  it('a photo from the resident reaches the agent without EXIF; other files are refused with a reason', async () => {
    await resident.setInputFiles('#doc-file', { name: 'brief.png', mimeType: 'image/png', buffer: photo });
    await waitFor('a JPEG named .png is refused', async () => (await resident.locator('#doc-result').getAttribute('data-state')) === 'refused');
    assert.match(await resident.locator('#doc-result').innerText(), /niet wat de naam zegt/);
    await resident.setInputFiles('#doc-file', { name: 'script.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF') });
    await waitFor('a PDF with JavaScript is refused', async () => /scripts/.test(await resident.locator('#doc-result').innerText()));
    await resident.setInputFiles('#doc-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await waitFor('a text file is refused', async () => /alleen een foto/.test(await resident.locator('#doc-result').innerText()));
    await noViolations(resident, 'resident with a refused file');

    await resident.setInputFiles('#doc-file', { name: 'brief.jpg', mimeType: 'image/jpeg', buffer: photo });
    await waitFor('the photo is shared', async () => (await resident.locator('#doc-result').getAttribute('data-state')) === 'shared');
    const item = agent.locator('#documents-list li.idv-document').first();
    await item.waitFor({ timeout: 15_000 });
    await agent.locator('#documents-list img.idv-document-image').waitFor();
    const src = (await agent.locator('#documents-list img.idv-document-image').getAttribute('src')) ?? '';
    const got = (await agent.evaluate(`fetch(${JSON.stringify(src)}, { credentials: 'same-origin' }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), csp: r.headers.get('content-security-policy'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) }))`)) as { status: number; type: string; csp: string; bytes: number[] };
    assert.equal(got.status, 200);
    assert.equal(got.type, 'image/jpeg');
    assert.match(got.csp, /sandbox/);
    const bytes = Buffer.from(got.bytes);
    assert.ok(photo.includes(Buffer.from(EXIF_MARK)), 'the original carries the EXIF mark');
    assert.ok(!bytes.includes(Buffer.from(EXIF_MARK)) && !bytes.includes(Buffer.from('Exif\0\0')), 'EXIF gone from the bytes the agent gets');
    assert.equal((await sharp(bytes).metadata()).width, 320);
    await noViolations(agent, 'workspace with a shared photo');
    await shot(agent, 'extras-2-document-agent');
    await shot(resident, 'extras-2-document-resident');
    await resident.locator('#doc-list .idv-doc-withdraw').first().waitFor();
    await controlsFit(resident, ['#documents'], 'resident documents with a shared photo');
    await controlsFit(agent, ['#documents-panel'], 'agent documents panel');

    // The resident takes it back: gone from memory and from the agent's list at once; the old address answers 404.
    const junk = (await resident.evaluate(`fetch('call/documents/AAAAAAAAAAAAAAAAAAAAAA/delete', { method: 'POST' }).then((r) => r.status)`)) as number;
    assert.equal(junk, 404, 'an unknown (or another appointment\'s) document is not hers to withdraw');
    await resident.click('#doc-list .idv-doc-withdraw');
    await waitFor('withdrawn on her page', async () => (await resident.locator('#doc-result').getAttribute('data-state')) === 'withdrawn');
    assert.equal(await resident.locator('#doc-list li').count(), 0);
    await waitFor("gone from the agent's list", async () => (await agent.locator('#documents-list li.idv-document').count()) === 0, 15_000);
    const after = (await agent.evaluate(`fetch(${JSON.stringify(src)}, { credentials: 'same-origin' }).then((r) => r.status)`)) as number;
    assert.equal(after, 404, 'the bytes are gone');
    await noViolations(resident, 'resident after withdrawing');
  });

  it("the agent's screen reaches the resident beside the agent's camera", async () => {
    await agent.click('#share-screen');
    await waitFor('the agent shares', async () => (await agent.locator('#share-screen').getAttribute('aria-pressed')) === 'true', 15_000);
    await waitFor('the resident sees the screen as the main picture', async () => (await resident.locator('#remote-video.idv-remote-screen').count()) === 1, 20_000);
    await waitFor('and the camera in a tile, both decoding', async () => {
      const tiles = await resident.locator('#remote-extra video[data-key="agent"]').count();
      const s = await inboundStreams(resident);
      return tiles === 1 && s.video.filter((f) => f > 0).length >= 2;
    }, 30_000);
    const fits = await resident.evaluate(`(() => { const v = document.getElementById('remote-video').getBoundingClientRect(); return v.right <= window.innerWidth + 1 && v.width > 300 && document.getElementById('remote-video').videoWidth > 0; })()`);
    assert.equal(fits, true, 'the screen is fitted to the phone');
    await noViolations(resident, 'resident seeing a shared screen');
    await controlsFit(resident, ['#call'], 'resident seeing a shared screen');
    await controlsFit(agent, ['.idv-controls'], 'agent sharing the screen');
    await shot(resident, 'extras-3-screen-resident');
  });

  it('a third participant: invited by mail, waits, let in, three-way media, no identification or documents, removed', async () => {
    await controlsFit(agent, ['#guest-panel'], 'agent guest panel with the invitation form');
    await agent.selectOption('#guest-kind', 'interpreter');
    await agent.fill('#guest-email', 'tolk@example.nl');
    await agent.click('.idv-guest-form button[type="submit"]');
    await waitFor('invited', async () => /Uitgenodigd/.test(await agent.locator('#guest-body').innerText()));
    const guestLink = await linkFromMail(mailReader, base, 'tolk@example.nl');
    const guest = await newPage({ width: 390, height: 844 });
    await guest.goto(guestLink);
    assert.equal(await guest.locator('#identification-status').count(), 0, 'no identification line');
    assert.equal(await guest.locator('#documents').count(), 0, 'no document sharing');
    assert.equal(await guest.locator('script[src*="identify"]').count(), 0, 'no identification script');
    await guest.locator('#start-call:enabled').waitFor({ timeout: 20_000 });
    await guest.click('#start-call');
    await waitFor('the guest waits to be let in', async () => /toelaat/.test(await guest.locator('#waiting-heading').innerText()), 20_000);
    await noViolations(guest, 'guest in the lobby');
    await shot(guest, 'extras-4-guest-lobby');
    await agent.locator('.idv-guest-admit').waitFor({ timeout: 20_000 });
    await noViolations(agent, 'workspace with a waiting guest');
    await agent.click('.idv-guest-admit');
    await guest.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    // Stop the screen first: the six paths are camera and microphone of each of the three.
    await agent.click('#share-screen');
    await assertMediaFromTwo(guest, 'guest');
    await assertMediaFromTwo(resident, 'resident');
    await assertMediaFromTwo(agent, 'agent');
    const guestText = await guest.locator('body').innerText();
    assert.doesNotMatch(guestText, /brief\.jpg|Gedeelde documenten|Identificatie/);
    assert.ok(!guestText.includes(CHAT_SECRET), 'the chat before the guest came is not theirs');
    await noViolations(guest, 'guest in a call of three');
    await controlsFit(guest, ['#call', '#chat'], 'guest in a call of three');
    await controlsFit(agent, ['#guest-panel'], 'agent guest panel with the guest in the call');
    await noViolations(resident, 'resident in a call of three');
    await shot(guest, 'extras-5-three-guest');
    await shot(agent, 'extras-5-three-agent');

    await agent.click('.idv-guest-remove');
    await waitFor('the guest is out', async () => /uit het gesprek gehaald/.test(await guest.locator('#ended-heading').innerText()), 15_000);
    assert.equal((await guest.request.get(guestLink, { maxRedirects: 0 })).status() >= 300, true);
    await noViolations(guest, 'guest removed');
  });

  it('the end of the call deletes chat and documents; nothing of them is in the log, the data dir or a flow message', async () => {
    await agent.click('#hang-up');
    await resident.locator('#ended').waitFor({ state: 'visible', timeout: 15_000 });
    const admin = await newPage();
    await signIn(admin, base, 'admin', `/admin-log?appointment=${appointmentId}`);
    const log = (await admin.textContent('main')) ?? '';
    for (const action of ['chat_message', 'document_shared', 'document_viewed', 'document_deleted', 'screen_shared', 'guest_invited', 'guest_admitted', 'guest_removed', 'participant_joined']) {
      assert.match(log, new RegExp(action), `the processing log records ${action}`);
    }
    assert.match(log, /interpreter/);
    assert.ok(!log.includes(CHAT_SECRET) && !log.includes('tolk@example.nl'), 'no content, no address in the processing log');

    const out = rt.output();
    assert.match(out, /documentShared/, 'the flow got the documentShared message (Debug node to the log)');
    for (const secret of [CHAT_SECRET, 'brief laten zien', EXIF_MARK, 'KN-4471']) assert.ok(!out.includes(secret), `the runtime log never holds "${secret}"`);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(rt.dataDir);
    const photoHead = photo.subarray(photo.length - 200);
    for (const f of files) {
      const b = fs.readFileSync(f);
      assert.ok(!b.includes(Buffer.from(CHAT_SECRET)) && !b.includes(Buffer.from('brief laten zien')), `${path.basename(f)} holds no chat text`);
      assert.ok(!b.includes(Buffer.from(EXIF_MARK)) && !b.includes(photoHead), `${path.basename(f)} holds no document bytes`);
    }
  });
});
