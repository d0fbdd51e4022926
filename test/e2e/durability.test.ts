import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { ReceivedMail } from '../support/smtp';
import { startRuntime, tempDir, type RuntimeHandle } from '../support/runtime';
import { testTypes } from '../support/engines';
import { freshDatabase } from '../support/postgres';
import { startTestSmtp, type TestSmtpServer } from '../support/smtp';

const AGENTS = Array.from({ length: 4 }, (_, i) => `agent${i + 1}`);
const AGENT_MAIL = (agent: string) => `${agent}@testdorp.example`;
const BURST = 200;
const PARALLEL = 16;

type Node = Record<string, unknown>;

/** Settings, a schedule with room for every booking, and the given nodes. */
function writeFlows(dataDir: string, nodes: Node[]): void {
  const day = [{ from: '08:00', to: '18:00' }];
  const flows = [
    { id: 't1', type: 'tab', label: 'durability' },
    { id: 'set1', type: 'idv-settings', municipality: 'Gemeente Test', fromAddress: 'video@test.example', attributeTtlMinutes: 15 },
    {
      id: 'sch1',
      type: 'idv-schedule',
      openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
      slotMinutes: 10,
      minNoticeMinutes: 0,
      horizonDays: 60,
      dutchHolidays: false,
      agents: AGENTS.map((username, i) => ({ username, displayName: `Agent ${i + 1}` })),
    },
    ...nodes.map((n) => ({ z: 't1', ...n })),
  ];
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
}

const book = (id: string, p: string, wires: string[]): Node => ({
  id,
  type: 'idv-book-appointment',
  schedule: 'sch1',
  settings: 'set1',
  mode: 'resident',
  path: p,
  topics: ['Paspoort aanvragen'],
  phone: 'off',
  limitPerIp: 100000,
  limitPerEmail: 100000,
  wires: [wires],
});

const sessionLink = (id: string, extra: Node = {}): Node => ({
  id,
  type: 'idv-session-link',
  settings: 'set1',
  agentEmails: AGENTS.map((a) => `${a} = ${AGENT_MAIL(a)}`).join('\n'),
  // Links open a week ahead, so opening one proves it works (303) whatever the time of day.
  openBeforeMinutes: 10080,
  wires: [[], []],
  ...extra,
});

/** Free places (one start per place) in the next days: their links are open (openBeforeMinutes is a week). */
async function freePlaces(url: string, p = '/afspraak'): Promise<string[]> {
  const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const to = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  const res = await fetch(`${url}${p}/slots?from=${from}&to=${to}`);
  assert.equal(res.status, 200);
  const slots = (await res.json()) as { start: string; available: number }[];
  return slots.flatMap((s) => Array.from({ length: s.available }, () => s.start));
}

/**
 * `count` JSON bookings, `parallel` at a time, as long as the runtime answers. `watch` runs after each answer and
 * may stop the runtime. Returns the ids answered 201.
 */
async function burst(
  url: string,
  starts: string[],
  o: { tag: string; count: number; parallel: number; path?: string; watch?: (confirmed: number) => void },
): Promise<string[]> {
  const confirmed: string[] = [];
  let next = 0;
  let down = false;
  const worker = async () => {
    while (next < o.count && !down) {
      const i = next++;
      let res: Response;
      try {
        res = await fetch(`${url}${o.path ?? '/afspraak'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ start: starts[i], name: `Inwoner ${o.tag} ${i}`, email: `inwoner${i}.${o.tag}@example.nl` }),
        });
      } catch {
        // Refused or reset: the runtime went away; this request was never confirmed.
        down = true;
        break;
      }
      if (res.status === 201) {
        // A 201 whose body was cut off by the stop never told anyone the booking exists: not counted as confirmed.
        const booked = (await res.json().catch(() => undefined)) as { id: string } | undefined;
        if (booked) confirmed.push(booked.id);
      } else {
        // Not confirmed, so nothing is owed for it: a stopping runtime may refuse (503) or have unmounted its routes
        // (404). An internal error is never an acceptable answer, stopping or not.
        const body = await res.text().catch(() => '(body cut off: the runtime stopped)');
        assert.ok(res.status < 500 || res.status === 503, `booking ${i} answered ${res.status}: ${body.slice(0, 200)}`);
      }
      o.watch?.(confirmed.length);
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, () => worker()));
  return confirmed;
}

/** Where a runtime under test keeps its data: its SQLite file, or its PostgreSQL database (IDV_DATABASE_URL). */
interface Store {
  env: Record<string, string>;
  rows<T>(sql: string): Promise<T[]>;
}

function sqliteOf(dataDir: string): Store {
  return {
    env: {},
    async rows<T>(sql: string) {
      const db = new Database(path.join(dataDir, 'idvideo.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all() as T[];
      } finally {
        db.close();
      }
    },
  };
}

async function postgresOf(): Promise<Store> {
  const url = await freshDatabase('durability');
  return {
    env: { IDV_DATABASE_URL: url },
    async rows<T>(sql: string) {
      const c = new Client({ connectionString: url, types: testTypes });
      await c.connect();
      try {
        return (await c.query(sql)).rows as T[];
      } finally {
        await c.end();
      }
    },
  };
}

/** Appointment id of a mail, from its invite's UID (`<id>@host`). */
function appointmentOf(m: ReceivedMail): string | undefined {
  const ics = m.parsed.attachments.find((a) => a.contentType === 'text/calendar')?.content.toString('utf8').replace(/\r\n[ \t]/g, '') ?? '';
  return /\r\nUID:([^@\r\n]+)@/.exec(ics)?.[1];
}

interface Delivered {
  resident: ReceivedMail[];
  agent: ReceivedMail[];
}

function deliveries(smtp: TestSmtpServer): Map<string, Delivered> {
  const map = new Map<string, Delivered>();
  for (const m of smtp.received) {
    const id = appointmentOf(m);
    if (!id) continue;
    const d = map.get(id) ?? { resident: [], agent: [] };
    if (AGENTS.map(AGENT_MAIL).includes(m.envelope.to[0])) d.agent.push(m);
    else d.resident.push(m);
    map.set(id, d);
  }
  return map;
}

/** The path of the cancel link in a confirmation (whichever booking page serves it). */
function cancelPath(text: string): string | undefined {
  const url = /https?:\/\/\S+\/annuleren\/[A-Za-z0-9_-]{43}/.exec(text)?.[0];
  return url ? new URL(url).pathname : undefined;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until every booked appointment has its mails and nothing more can be sent (no event pending, outbox
 * empty: every mail still to go would be a row there), then asserts exactly one confirmation and one announcement
 * each, and that each confirmation's access link and cancel link work on the running runtime.
 */
async function assertEachOnce(rt: RuntimeHandle, store: Store, smtp: TestSmtpServer, booked: string[], withinMs: number): Promise<void> {
  await until(
    'every booking has its confirmation and announcement',
    () => {
      const d = deliveries(smtp);
      return booked.every((id) => (d.get(id)?.resident.length ?? 0) >= 1 && (d.get(id)?.agent.length ?? 0) >= 1);
    },
    withinMs,
  );
  await until(
    // Reminders (not_after set) wait for their moment; every other mail must be gone.
    'no event pending and the outbox empty',
    async () =>
      (await store.rows<{ n: number }>(`SELECT (SELECT count(*) FROM appointment_events WHERE state = 'pending') + (SELECT count(*) FROM mail_outbox WHERE not_after IS NULL) AS n`))[0].n === 0,
    20_000,
  );
  const received = smtp.received.length;
  const d = deliveries(smtp);
  const twice = booked.filter((id) => d.get(id)!.resident.length !== 1 || d.get(id)!.agent.length !== 1);
  assert.deepEqual(twice, [], `bookings with more than one confirmation or announcement`);
  for (const id of booked) {
    const text = d.get(id)!.resident[0].parsed.text ?? '';
    const access = /\/v\/([A-Za-z0-9_-]{43})/.exec(text)?.[1];
    const cancel = cancelPath(text);
    assert.ok(access && cancel, `the confirmation of ${id} has an access link and a cancel link`);
    const res = await fetch(`${rt.url}/v/${access}`, { redirect: 'manual' });
    await res.arrayBuffer();
    assert.equal(res.status, 303, `the access link of ${id} works`);
  }
  // Cancel pages are GET-safe: opening a few proves the tokens were issued and stored with the mails.
  for (const id of booked.slice(0, 5)) {
    const cancel = cancelPath(d.get(id)!.resident[0].parsed.text ?? '') as string;
    const res = await fetch(`${rt.url}${cancel}`);
    assert.equal(res.status, 200, await res.text());
  }
  assert.equal(smtp.received.length, received, 'opening links sends nothing');
}

describe('durability: every confirmed booking gets its link and its mails', function () {
  this.timeout(240_000);
  let smtp: TestSmtpServer;
  const dirs: string[] = [];
  const runtimes: RuntimeHandle[] = [];

  before(async () => {
    smtp = await startTestSmtp();
  });
  after(async () => {
    for (const rt of runtimes) if (rt.proc.exitCode === null && rt.proc.signalCode === null) await rt.stop('SIGKILL');
    await smtp.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function runtime(dataDir: string, store: Store): Promise<RuntimeHandle> {
    const rt = await startRuntime({ dataDir, env: { SMTP_URL: smtp.url, ...store.env } });
    runtimes.push(rt);
    return rt;
  }

  async function bookedIn(store: Store): Promise<string[]> {
    return (await store.rows<{ id: string }>("SELECT id FROM appointments WHERE status = 'booked'")).map((r) => r.id);
  }

  // SIGTERM and SIGKILL on the embedded default; the worse of the two on PostgreSQL as well (IDV_DATABASE_URL).
  for (const [engine, signal] of [['sqlite', 'SIGTERM'], ['sqlite', 'SIGKILL'], ['postgres', 'SIGKILL']] as const) {
    it(`${engine}: ${BURST} bookings, ${PARALLEL} at a time, ${signal} mid-burst: after a restart each gets one confirmation with a working link, and the agent one announcement`, async () => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const store = engine === 'sqlite' ? sqliteOf(dataDir) : await postgresOf();
      writeFlows(dataDir, [book('book1', '/afspraak', ['sl1']), sessionLink('sl1')]);
      const rt = await runtime(dataDir, store);
      const starts = await freePlaces(rt.url);
      assert.ok(starts.length >= BURST, `enough free places (${starts.length})`);
      const exit = new Promise<void>((resolve) => rt.proc.once('exit', () => resolve()));
      const began = Date.now();
      let signalled = false;
      const stopMidway = async () => {
        if (signal === 'SIGTERM') {
          rt.proc.kill('SIGTERM');
          return;
        }
        // The dangerous moment on purpose: a mail handed to the server but not yet accepted (its lease held by the
        // process about to die), and bookings still arriving.
        smtp.hold = true;
        await until('a mail in flight', () => smtp.heldCount > 0, 15_000);
        rt.proc.kill('SIGKILL');
      };
      let stopping: Promise<void> | undefined;
      const confirmed = await burst(rt.url, starts, {
        tag: `${engine}${signal}`,
        count: BURST,
        parallel: PARALLEL,
        watch: (n) => {
          // After 1.5 s as in the report, or at half the burst on a machine fast enough to book 200 in 1.5 s: the stop
          // must always fall mid-burst, with bookings still arriving.
          if (!signalled && n >= 40 && (Date.now() - began >= 1500 || n >= BURST / 2)) {
            signalled = true;
            stopping = stopMidway();
          }
        },
      });
      assert.ok(signalled, `the runtime was stopped mid-burst (${confirmed.length} confirmed)`);
      await stopping;
      await exit;
      if (signal === 'SIGTERM') assert.equal(rt.proc.exitCode, 0, rt.output());
      else {
        // The mail in flight was never accepted: its client died before the server answered.
        await until('the held connections closed', () => smtp.heldSessionsClosed(), 10_000);
        smtp.hold = false;
        smtp.releaseHeld();
      }
      const booked = await bookedIn(store);
      const lost = confirmed.filter((id) => !booked.includes(id));
      assert.deepEqual(lost, [], `${lost.length} of ${confirmed.length} confirmed bookings lost`);
      const unfinished = (await store.rows<{ n: number }>("SELECT count(*) AS n FROM appointment_events WHERE state = 'pending'"))[0].n;
      const queued = await store.rows<{ status: string; n: number }>('SELECT status, count(*) AS n FROM mail_outbox GROUP BY status');
      const receivedBefore = smtp.received.length;

      const t0 = Date.now();
      const again = await runtime(dataDir, store);
      const t1 = Date.now();
      await assertEachOnce(again, store, smtp, booked, 60_000);
      // What the restart had to finish (figures for the closing note; not a timing assertion).
      console.log(
        `      ${engine} ${signal}: ${confirmed.length} confirmed of ${booked.length} booked; at the stop ${unfinished} hand-offs unfinished, ` +
          `outbox ${JSON.stringify(Object.fromEntries(queued.map((q) => [q.status, q.n])))}; restart ${t1 - t0} ms, then ` +
          `${smtp.received.length - receivedBefore} mails in ${Date.now() - t1} ms`,
      );
      await again.stop();
    });
  }

  it('a crash between nodes: messages sitting in a delay node are handed off at start, messages a function node drops by the sweep', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const store = sqliteOf(dataDir);
    writeFlows(dataDir, [
      // Journey 1 with a slow step in between (a CRM call, a rate limit): the messages sit in memory for a minute.
      book('book1', '/afspraak', ['slow']),
      { id: 'slow', type: 'delay', pauseType: 'delay', timeout: '60', timeoutUnits: 'seconds', wires: [['sl1']] },
      sessionLink('sl1', { graceSeconds: 3600 }),
      // Another form whose function node drops every second message (a bug in a customisation).
      book('book2', '/boeken', ['lossy']),
      { id: 'lossy', type: 'function', func: "context.n = (context.n || 0) + 1;\nreturn context.n % 2 ? null : msg;", outputs: 1, wires: [['sl2']] },
      sessionLink('sl2', { graceSeconds: 0.5, sweepSeconds: 0.2 }),
    ]);
    const rt = await runtime(dataDir, store);
    const dropped = await burst(rt.url, await freePlaces(rt.url, '/boeken'), { tag: 'lossy', count: 10, parallel: 2, path: '/boeken' });
    assert.equal(dropped.length, 10);
    // Half never reached idv-session-link; the sweep finishes them once their grace has passed, without a restart.
    await assertEachOnce(rt, store, smtp, dropped, 20_000);

    const delayed = await burst(rt.url, await freePlaces(rt.url), { tag: 'delayed', count: 10, parallel: 2 });
    assert.equal(delayed.length, 10);
    const pending = async () => (await store.rows<{ n: number }>("SELECT count(*) AS n FROM appointment_events WHERE state = 'pending'"))[0].n;
    assert.equal(await pending(), 10, 'the ten hand-offs wait in the delay node');
    await rt.stop('SIGKILL');
    const again = await runtime(dataDir, store);
    await assertEachOnce(again, store, smtp, delayed, 30_000);
    await again.stop();
  });
});
