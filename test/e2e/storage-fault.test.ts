import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { baseFlows } from '../support/flows';
import { startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { startTestSmtp, type ReceivedMail, type TestSmtpServer } from '../support/smtp';

/**
 * The database files become immutable while the runtime runs (what a full disk, a read-only remount or an
 * operator's mistake look like to SQLite): health must say so, bookings must answer a plain 503, the background
 * loops must not spin or flood the log, and a mail the server accepted during the fault must go out exactly once.
 */
describe('storage fault: the database cannot be written while running', function () {
  this.timeout(120_000);
  let smtp: TestSmtpServer;
  let rt: RuntimeHandle | undefined;
  let dataDir: string;
  let frozen: string[] = [];

  const immutable = (on: boolean, files: string[]) => execFileSync('chattr', [on ? '+i' : '-i', ...files]);

  before(async () => {
    smtp = await startTestSmtp();
    dataDir = tempDir();
    const flows = [
      ...baseFlows('storage fault'),
      { id: 'book', type: 'idv-book-appointment', z: 'tab', schedule: 'schedule', settings: 'settings', mode: 'resident', path: '/afspraak', topics: ['Paspoort'], phone: 'off', limitPerIp: 1000, limitPerEmail: 1000, wires: [['links']] },
      // Links open a week ahead, so opening one during the fault really tries to write a call session.
      { id: 'links', type: 'idv-session-link', z: 'tab', settings: 'settings', agentEmails: 'agent1 = anna@testdorp.example', openBeforeMinutes: 10080, wires: [[], []] },
    ];
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
    rt = await startRuntime({ dataDir, env: { SMTP_URL: smtp.url } });
    // The fault's own lines (one per loop, then summaries, then "working again") are what the test counts.
    rt.log.allow(/^\[idv\] .*(SQLITE_|store|cannot write|working again|outcome)/i);
  });
  after(async () => {
    // Whatever happened above: give the files back first, or neither the runtime nor rm can clean up.
    if (frozen.length) immutable(false, frozen);
    smtp.hold = false;
    smtp.releaseHeld();
    await rt?.stop();
    await smtp.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let slot = 0;
  async function freeStart(): Promise<string> {
    const from = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const res = await fetch(`${rt!.url}/afspraak/slots?from=${from}&to=${from}`);
    const slots = (await res.json()) as { start: string }[];
    return slots[slot++].start;
  }
  const bookJson = async (email: string) =>
    fetch(`${rt!.url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ start: await freeStart(), name: 'Jan de Vries', email }),
    });

  const mailsTo = (to: string): ReceivedMail[] => smtp.received.filter((m) => m.envelope.to.includes(to));
  async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`not in time: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const health = async () => {
    const res = await fetch(`${rt!.url}/healthz`);
    return { status: res.status, body: (await res.json()) as Record<string, { ok: boolean; detail?: string } | string> };
  };

  it('health says 503 naming the store, bookings answer 503 plainly, nothing spins; after recovery the held mail goes out once', async () => {
    await until('healthy', async () => (await health()).status === 200);
    const first = await bookJson('eerst@example.org');
    assert.equal(first.status, 201);
    await until('the first confirmation and announcement', () => mailsTo('eerst@example.org').length === 1 && mailsTo('anna@testdorp.example').length === 1);

    // A booking whose first mail is on the wire (the server has it, has not answered yet) when the store fails.
    smtp.hold = true;
    const second = await bookJson('midden@example.org');
    assert.equal(second.status, 201);
    const { id } = (await second.json()) as { id: string };
    await until('a mail in flight', () => smtp.heldCount === 1);
    frozen = [path.join(dataDir, 'idvideo.sqlite'), path.join(dataDir, 'idvideo.sqlite-wal')];
    immutable(true, frozen);
    const outputBefore = rt!.output().length;
    const receivedBefore = smtp.received.length;
    smtp.hold = false;
    smtp.releaseHeld();
    await until('accepted by the server', () => smtp.received.length === receivedBefore + 1);
    const accepted = smtp.received[receivedBefore];
    assert.ok(accepted.parsed.attachments.some((a) => a.content.toString().includes(`UID:${id}@`)), 'a mail of the second booking');

    const down = await health();
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'unavailable');
    const store = down.body.store as { ok: boolean; detail: string };
    assert.equal(store.ok, false);
    assert.match(store.detail, /^cannot write \(SQLITE_[A-Z_]+\)$/);
    assert.ok(!JSON.stringify(down.body).includes(dataDir), 'no path in the health answer');
    await until('the accepted mail held in memory', async () => /kept in memory/.test(String(((await health()).body.mail as { detail: string }).detail)));

    const refused = await bookJson('tijdens@example.org');
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const body = (await refused.json()) as Record<string, string>;
    assert.equal(body.error, 'store_unavailable');
    assert.match(body.message, /niet beschikbaar/);
    const text = JSON.stringify(body);
    assert.ok(!/sqlite|SQLITE|\/tmp|at .*\.js/.test(text), `no internals in ${text}`);
    // The same through the form without JavaScript: a page that says so, not a crash page.
    const start = await freeStart();
    const pageRes = await fetch(`${rt!.url}/afspraak?day=${start.slice(0, 10)}`);
    const cookie = (pageRes.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await pageRes.text())![1];
    const form = await fetch(`${rt!.url}/afspraak`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _csrf: csrf, step: 'confirm', topic: 'Paspoort', date: start.slice(0, 10), time: start.slice(11, 16), name: 'Jan', email: 'formulier@example.org' }).toString(),
    });
    const page = await form.text();
    assert.equal(form.status, 503);
    assert.match(page, /niet beschikbaar/);
    assert.ok(!/SQLITE|sqlite|node_modules|\.js:\d+/.test(page), 'no internals on the page');

    // An access link needs a call session (a write): a plain 503 too, and no log line per visitor.
    const token = /\/v\/([A-Za-z0-9_-]{43})/.exec(mailsTo('eerst@example.org')[0].parsed.text ?? '')![1];
    const visit = await fetch(`${rt!.url}/v/${token}`, { redirect: 'manual' });
    assert.equal(visit.status, 503);
    assert.ok(!/SQLITE|sqlite|node_modules/.test(await visit.text()));

    // The outbox retries the record with growing pauses; the issue saw 1840 log lines in 20 s here.
    await new Promise((r) => setTimeout(r, 3000));
    const faultLines = rt!.output().slice(outputBefore).split('\n').filter((l) => l.trim());
    assert.ok(faultLines.length <= 6, `log lines during the fault:\n${faultLines.join('\n')}`);
    console.log(`      log lines during the fault (${faultLines.length}):\n${faultLines.map((l) => `        ${l}`).join('\n')}`);
    assert.ok(!faultLines.join('\n').includes(dataDir), 'no path in the log');

    immutable(false, frozen);
    frozen = [];
    // The health check writes: it finds the store working and wakes the waiting loops.
    await until('healthy again', async () => (await health()).status === 200);
    const query = (sql: string) => {
      const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true });
      try {
        return (db.prepare(sql).get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await until('outbox empty, nothing pending', () => query(`SELECT (SELECT count(*) FROM mail_outbox WHERE not_after IS NULL) + (SELECT count(*) FROM appointment_events WHERE state = 'pending') AS n`) === 0);
    const ofSecond = (to: string) => mailsTo(to).filter((m) => m.parsed.attachments.some((a) => a.content.toString().includes(`UID:${id}@`)));
    // One was accepted during the fault (its outcome kept in memory), the other held back by it: each exactly once.
    assert.equal(ofSecond('midden@example.org').length, 1, 'the confirmation once');
    assert.equal(ofSecond('anna@testdorp.example').length, 1, 'the announcement once');
    assert.equal(query("SELECT count(*) AS n FROM appointments WHERE resident_email IN ('tijdens@example.org', 'formulier@example.org')"), 0, 'the refused bookings left nothing');
    const recoveredLog = rt!.output().slice(outputBefore);
    assert.match(recoveredLog, /mail outbox: working again/);

    const third = await bookJson('daarna@example.org');
    assert.equal(third.status, 201);
    await until('bookings work again, with their mail', () => mailsTo('daarna@example.org').length === 1);
  });
});
