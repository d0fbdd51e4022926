import assert from 'node:assert/strict';
import { composeAppointmentMail } from '../../../lib/mail/compose';
import { backoffDelay, createOutbox, type FailedEvent, type Outbox, type OutboxOptions, type RetryingEvent, type SentEvent } from '../../../lib/mail/outbox';
import { createMailTransport, type SmtpSettings } from '../../../lib/mail/transport';
import { startTestSmtp, type TestSmtpServer } from '../../support/smtp';
import { forEachEngine, type TestStore } from '../../support/engines';
import type { Store } from '../../../lib/store/store';

const AUTH = { user: 'idvideo', pass: 's3cret pass' };
// Short enough for the silent-server test to wait out, long enough that the test SMTP server (in this very process)
// greets in time on a busy machine: a spurious timeout would turn an expected 'sent' into a retry.
const FAST = { connectionTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 4000 };

function sampleMail(to = 'jan@example.org', appointmentId = 'appt-1') {
  return composeAppointmentMail({
    kind: 'resident-confirmation',
    lang: 'nl',
    appointmentId,
    host: 'video.example.nl',
    recipient: { name: 'Jan de Vries', email: to },
    sender: { name: 'Gemeente Voorbeeld', email: 'noreply@example.nl' },
    data: {
      topic: 'Paspoort',
      municipality: 'Gemeente Voorbeeld',
      start: '2026-12-01T09:30:00.000Z',
      end: '2026-12-01T10:00:00.000Z',
      link: 'https://video.example.nl/v/AAAA',
      cancelLink: 'https://video.example.nl/afspraak/annuleren/BBBB',
    },
  });
}

/** Collects outbox events so tests can assert on them (and on what they must not contain). */
function record(outbox: Outbox) {
  const events: { type: string; e: SentEvent | RetryingEvent | FailedEvent }[] = [];
  outbox.on('sent', (e) => events.push({ type: 'sent', e }));
  outbox.on('retrying', (e) => events.push({ type: 'retrying', e }));
  outbox.on('failed', (e) => events.push({ type: 'failed', e }));
  return events;
}

function rows(t: TestStore): Promise<{ status: string; attempts: number; last_error: string | null; next_attempt_at: string }[]> {
  return t.rows('SELECT status, attempts, last_error, next_attempt_at FROM mail_outbox ORDER BY created_at, id');
}

forEachEngine('mail outbox (real SMTP server on loopback)', (engine) => {
  let t: TestStore;
  let smtp: TestSmtpServer;
  let clock: Date;
  const outboxes: Outbox[] = [];

  function settings(extra: Partial<SmtpSettings> = {}): SmtpSettings {
    return { host: '127.0.0.1', port: smtp.port, secure: false, user: AUTH.user, pass: AUTH.pass, ...extra };
  }

  function outbox(opts: Partial<OutboxOptions> = {}, store: Store = t.store): Outbox {
    const o = createOutbox({
      store: store.outbox,
      transport: createMailTransport(settings(), { env: {}, timeouts: FAST }),
      now: () => clock,
      messageIdHost: 'video.example.nl',
      backoff: { initialMs: 30_000, maxMs: 30 * 60_000, maxAttempts: 5 },
      ...opts,
    });
    outboxes.push(o);
    return o;
  }

  beforeEach(async () => {
    t = await engine.open();
    smtp = await startTestSmtp({ auth: AUTH });
    clock = new Date('2026-11-28T12:00:00.000Z');
  });
  afterEach(async () => {
    for (const o of outboxes.splice(0)) await o.stop();
    await smtp.stop();
    await t.close();
  });

  it('backoff grows exponentially and is capped', () => {
    const b = { initialMs: 30_000, factor: 2, maxMs: 30 * 60_000 };
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffDelay(n, b)), [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000, 1_800_000]);
  });

  it('delivers a mail with its invite and stable Message-ID, then forgets it', async () => {
    const o = outbox();
    const events = record(o);
    const { id, messageId } = await o.enqueue(sampleMail());
    assert.match(messageId, /^<[0-9a-f-]{36}@video\.example\.nl>$/);
    await o.kick();
    assert.equal(smtp.received.length, 1);
    const m = smtp.received[0];
    assert.deepEqual(m.envelope, { from: 'noreply@example.nl', to: ['jan@example.org'] });
    assert.equal(m.user, AUTH.user);
    assert.equal(m.parsed.messageId, messageId);
    assert.match(m.parsed.subject ?? '', /^Bevestiging van uw video-afspraak op dinsdag 1 december 2026 om 10:30$/);
    assert.match(m.parsed.text ?? '', /rustige plek/);
    assert.match(String(m.parsed.html), /<a href="https:\/\/video\.example\.nl\/v\/AAAA">/);
    assert.match(m.raw.toString('utf8'), /Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    assert.match(m.raw.toString('utf8'), /^Auto-Submitted: auto-generated/m);
    assert.equal((await rows(t)).length, 0, 'sent mail (personal data) is deleted');
    assert.deepEqual(events, [{ type: 'sent', e: { id, kind: 'resident-confirmation', appointmentId: 'appt-1', attempt: 1 } }]);
  });

  it('auth refused: retries later with EAUTH, never shows the address', async () => {
    smtp.mode = 'refuse-auth';
    const o = outbox();
    const events = record(o);
    await o.enqueue(sampleMail());
    await o.kick();
    assert.equal(smtp.received.length, 0);
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'retrying');
    const e = events[0].e as RetryingEvent;
    assert.equal(e.errorCode, 'EAUTH:535');
    assert.equal(e.attempt, 1);
    assert.equal(e.nextAttemptAt, '2026-11-28T12:00:30.000Z');
    assert.deepEqual((await rows(t)).map((r) => [r.status, r.attempts, r.last_error]), [['pending', 1, 'EAUTH:535']]);
    assert.ok(!JSON.stringify(events).includes('@example'), 'events carry no address');
    // Not yet due: a kick does nothing.
    await o.kick();
    assert.equal((await rows(t))[0].attempts, 1);
    smtp.mode = 'accept';
    clock = new Date('2026-11-28T12:00:30.000Z');
    await o.kick();
    assert.equal(smtp.received.length, 1);
    assert.equal(events[1].type, 'sent');
    assert.equal(events[1].e.attempt, 2);
  });

  it('recipient rejected (550): fails at once, not retried', async () => {
    smtp.mode = 'reject-recipient';
    const o = outbox();
    const events = record(o);
    await o.enqueue(sampleMail());
    await o.kick();
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'failed');
    assert.deepEqual({ ...(events[0].e as FailedEvent), id: 'x' }, {
      id: 'x',
      kind: 'resident-confirmation',
      appointmentId: 'appt-1',
      attempt: 1,
      errorCode: 'EENVELOPE:550',
      permanent: true,
    });
    assert.deepEqual((await rows(t)).map((r) => [r.status, r.last_error]), [['failed', 'EENVELOPE:550']]);
    smtp.mode = 'accept';
    clock = new Date('2026-11-29T12:00:00.000Z');
    await o.kick();
    assert.equal(smtp.received.length, 0, 'a failed mail is not retried by itself');
    assert.deepEqual(await o.counts(), { pending: 0, scheduled: 0, sending: 0, failed: 1 });
  });

  it('one rejected recipient does not hold up the others', async () => {
    await smtp.stop();
    smtp = await startTestSmtp({ auth: AUTH, rejectRecipients: ['gone@example.org'] });
    const o = outbox();
    const events = record(o);
    await o.enqueue(sampleMail('gone@example.org', 'a1'));
    await o.enqueue(sampleMail('piet@example.org', 'a2'));
    await o.kick();
    assert.deepEqual(events.map((x) => [x.type, x.e.appointmentId]).sort(), [['failed', 'a1'], ['sent', 'a2']]);
    assert.deepEqual(smtp.received.map((m) => m.envelope.to), [['piet@example.org']]);
  });

  it('temporary failure (451) is retried with growing delays, then gives up after maxAttempts', async () => {
    smtp.mode = 'temp-fail';
    const o = outbox({ backoff: { initialMs: 1000, factor: 2, maxMs: 3000, maxAttempts: 4 } });
    const events = record(o);
    await o.enqueue(sampleMail());
    const next: string[] = [];
    for (let i = 0; i < 4; i++) {
      await o.kick();
      const r = (await rows(t))[0];
      next.push(r.status === 'pending' ? r.next_attempt_at : r.status);
      clock = new Date(Date.parse(r.next_attempt_at));
    }
    assert.deepEqual(next, ['2026-11-28T12:00:01.000Z', '2026-11-28T12:00:03.000Z', '2026-11-28T12:00:06.000Z', 'failed']);
    assert.deepEqual(events.map((e) => e.type), ['retrying', 'retrying', 'retrying', 'failed']);
    const last = events[3].e as FailedEvent;
    assert.equal(last.errorCode, 'EENVELOPE:451');
    assert.equal(last.permanent, false);
    assert.equal(last.attempt, 4);
  });

  it('a server that never answers times out and is retried', async () => {
    await smtp.setMode('silent');
    const o = outbox();
    const events = record(o);
    await o.enqueue(sampleMail());
    const started = Date.now();
    await o.kick();
    assert.ok(Date.now() - started < 5000, 'short timeout');
    assert.equal(events[0].type, 'retrying');
    assert.equal((events[0].e as RetryingEvent).errorCode, 'ETIMEDOUT');
    assert.ok(smtp.connections >= 1);
  });

  it('server away, then back: delivered exactly once after it returns', async () => {
    smtp.down();
    const o = outbox();
    const events = record(o);
    await o.enqueue(sampleMail());
    await o.kick();
    assert.equal(events[0].type, 'retrying');
    assert.match((events[0].e as RetryingEvent).errorCode, /^E(SOCKET|CONNECTION)$/, 'connection reset');
    smtp.up();
    // Not due yet: still nothing.
    await o.kick();
    assert.equal(smtp.received.length, 0);
    clock = new Date('2026-11-28T12:00:30.000Z');
    await Promise.all([o.kick(), o.kick(), o.kick()]);
    await o.kick();
    assert.equal(smtp.received.length, 1);
    assert.equal(smtp.dataCommands, 1);
    assert.deepEqual(events.map((e) => e.type), ['retrying', 'sent']);
  });

  it('two outboxes on the same database never send the same mail twice', async () => {
    const a = outbox();
    const other = await t.another();
    const b = outbox({}, other);
    for (let i = 0; i < 6; i++) await a.enqueue(sampleMail(`p${i}@example.org`, `a${i}`));
    await Promise.all([a.kick(), b.kick()]);
    assert.equal(smtp.received.length, 6);
    assert.equal(new Set(smtp.received.map((m) => m.parsed.messageId)).size, 6);
  });

  it('a restart (new outbox on the same database file) delivers what was pending', async () => {
    smtp.down();
    const first = outbox();
    await first.enqueue(sampleMail('a@example.org', 'a1'));
    await first.kick(); // fails: server away
    await first.enqueue(sampleMail('b@example.org', 'a2')); // never tried
    await first.stop();
    await t.store.close();
    smtp.up();
    clock = new Date('2026-11-28T12:05:00.000Z');
    const second = outbox({}, await t.another());
    const events = record(second);
    second.start();
    await smtp.waitFor(2);
    await second.stop();
    assert.deepEqual(smtp.received.map((m) => m.envelope.to[0]).sort(), ['a@example.org', 'b@example.org']);
    assert.deepEqual(events.map((e) => e.type), ['sent', 'sent']);
  });

  it('a crash while sending: after the lease the mail is sent again with the same Message-ID', async () => {
    const store = t.store.outbox;
    const o = outbox({ leaseMs: 60_000 });
    const { messageId } = await o.enqueue(sampleMail());
    // Simulate a process that claimed the mail and died before recording the result.
    const claim = await store.claimDue(clock.toISOString(), new Date(clock.getTime() + 60_000).toISOString(), 'dead', 10);
    assert.equal(claim.claimed.length, 1);
    await o.kick();
    assert.equal(smtp.received.length, 0, 'within the lease nobody else sends it');
    clock = new Date(clock.getTime() + 60_000);
    await o.kick();
    assert.equal(smtp.received.length, 1);
    assert.equal(smtp.received[0].parsed.messageId, messageId);
    assert.equal(await store.complete((claim.claimed[0]).id, 'dead'), false, 'the dead claim can no longer touch the row');
  });

  it('a crash on the last allowed attempt ends as failed (EINTERRUPTED)', async () => {
    const store = t.store.outbox;
    const o = outbox({ leaseMs: 1000, backoff: { maxAttempts: 1 } });
    const events = record(o);
    await o.enqueue(sampleMail());
    await store.claimDue(clock.toISOString(), new Date(clock.getTime() + 1000).toISOString(), 'dead', 10);
    clock = new Date(clock.getTime() + 1000);
    await o.kick();
    assert.equal(smtp.received.length, 0);
    assert.deepEqual(events.map((e) => [e.type, (e.e as FailedEvent).errorCode]), [['failed', 'EINTERRUPTED']]);
  });

  it('refuses a bad certificate unless told otherwise', async () => {
    await smtp.stop();
    smtp = await startTestSmtp({ auth: AUTH, secure: true });
    const o = outbox({ transport: createMailTransport(settings({ secure: true }), { env: {}, timeouts: FAST }) });
    const events = record(o);
    await o.enqueue(sampleMail());
    await o.kick();
    assert.equal(smtp.received.length, 0);
    assert.equal(events[0].type, 'retrying');
    assert.equal((events[0].e as RetryingEvent).errorCode, 'ECERT');
    const lax = outbox({ transport: createMailTransport(settings({ secure: true, rejectUnauthorized: false }), { env: {}, timeouts: FAST }) });
    clock = new Date('2026-11-28T12:01:00.000Z');
    await lax.kick();
    assert.equal(smtp.received.length, 1);
  });

  it('the started worker retries by itself on its timer', async () => {
    smtp.mode = 'temp-fail';
    const o = outbox({ now: () => new Date(), backoff: { initialMs: 100, maxMs: 200, maxAttempts: 10 } });
    const events = record(o);
    o.start();
    await o.enqueue(sampleMail());
    // The server accepts again only after the worker's own first attempt failed: what follows is its timer's retry.
    const end = Date.now() + 10_000;
    while (!events.some((e) => e.type === 'retrying') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.ok(events.some((e) => e.type === 'retrying'), 'the first attempt failed');
    smtp.mode = 'accept';
    await smtp.waitFor(1, 5000);
    await o.stop();
    assert.ok(events.filter((e) => e.type === 'retrying').length >= 1);
    assert.equal(events.at(-1)?.type, 'sent');
    assert.equal(smtp.received.length, 1);
  });

  it('refuses bad mails and stores nothing', async () => {
    const o = outbox();
    const good = sampleMail();
    const bad: [unknown, RegExp][] = [
      [{ ...good, to: { address: 'jan@example.org\r\nBcc: evil@example.com' } }, /recipient/],
      [{ ...good, to: { address: 'a@example.org, b@example.org' } }, /recipient/],
      [{ ...good, from: { address: 'nope' } }, /from address/],
      [{ ...good, kind: 'Bad Kind' }, /kind/],
      [{ ...good, subject: '\r\n' }, /subject/],
      [{ ...good, text: '' }, /text/],
      [{ ...good, ics: { method: 'PUBLISH', content: 'BEGIN:VCALENDAR' } }, /ics.method/],
      [{ ...good, ics: { method: 'REQUEST', content: 'hello' } }, /ics.content/],
      [{ ...good, appointmentId: '' }, /appointmentId/],
      [{ ...good, from: undefined }, /no sender/],
    ];
    for (const [mail, re] of bad) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await assert.rejects(o.enqueue(mail as any), re);
    }
    assert.equal((await rows(t)).length, 0);
  });

  it('CR/LF in names and subject never become headers', async () => {
    const o = outbox();
    await o.enqueue({
      ...sampleMail(),
      subject: 'Afspraak\r\nBcc: evil@example.com',
      to: { name: 'Jan\r\nBcc: evil@example.com', address: 'jan@example.org' },
      from: { name: 'Gemeente\nX-Evil: 1', address: 'noreply@example.nl' },
    });
    await o.kick();
    const m = smtp.received[0];
    assert.deepEqual(m.envelope.to, ['jan@example.org']);
    assert.equal(m.parsed.headers.get('bcc'), undefined);
    assert.equal(m.parsed.headers.get('x-evil'), undefined);
    assert.equal(m.parsed.subject, 'Afspraak Bcc: evil@example.com');
  });

  it('failed mails are kept only for the retention period; requeue and discard work', async () => {
    smtp.mode = 'reject-recipient';
    const o = outbox({ failedRetentionMs: 3600_000 });
    const { id } = await o.enqueue(sampleMail('a@example.org', 'a1'));
    await o.kick();
    assert.equal((await o.counts()).failed, 1);
    smtp.mode = 'accept';
    assert.equal(await o.requeue(id), true);
    await o.kick();
    assert.equal(smtp.received.length, 1);
    smtp.mode = 'reject-recipient';
    await o.enqueue(sampleMail('b@example.org', 'a2'));
    await o.kick();
    clock = new Date(clock.getTime() + 3600_001);
    await o.kick();
    assert.deepEqual(await o.counts(), { pending: 0, scheduled: 0, sending: 0, failed: 0 }, 'purged after retention');
    await o.enqueue(sampleMail('c@example.org', 'a3'));
    assert.equal(await o.discard('a3', ['resident-confirmation']), 1);
    assert.equal((await rows(t)).length, 0);
  });
});

forEachEngine('mail outbox shutdown', (engine) => {
  it('stop() finishes the mail in hand and gives the rest of the batch back uncounted', async () => {
    const t = await engine.open();
    const smtp = await startTestSmtp();
    try {
      const store = t.store.outbox;
      let sends = 0;
      const transport = createMailTransport({ host: '127.0.0.1', port: smtp.port, secure: false }, { env: {} });
      let o: Outbox | undefined = undefined;
      const slow = {
        async sendMail(m: Parameters<typeof transport.sendMail>[0]) {
          sends++;
          // Ask for a stop while the first mail is on its way.
          if (sends === 1) void o?.stop();
          return transport.sendMail(m);
        },
      };
      o = createOutbox({ store, transport: slow, batchSize: 10 });
      for (let i = 0; i < 3; i++) await o.enqueue(sampleMail(`p${i}@example.org`, `a${i}`));
      await o.kick();
      assert.equal(sends, 1);
      assert.equal(smtp.received.length, 1);
      const left = await t.rows('SELECT status, attempts FROM mail_outbox');
      assert.deepEqual(left, [{ status: 'pending', attempts: 0 }, { status: 'pending', attempts: 0 }]);
    } finally {
      await smtp.stop();
      await t.close();
    }
  });
});

forEachEngine('mail outbox: restarts and store faults', (engine) => {
  let t: TestStore;
  let smtp: TestSmtpServer;
  let clock: Date;
  const outboxes: Outbox[] = [];

  function outbox(opts: Partial<OutboxOptions> = {}, store: Store = t.store): Outbox {
    const o = createOutbox({
      store: store.outbox,
      transport: createMailTransport({ host: '127.0.0.1', port: smtp.port, secure: false }, { env: {}, timeouts: FAST }),
      now: () => clock,
      messageIdHost: 'video.example.nl',
      ...opts,
    });
    outboxes.push(o);
    return o;
  }

  beforeEach(async () => {
    t = await engine.open();
    smtp = await startTestSmtp();
    clock = new Date('2026-11-28T12:00:00.000Z');
  });
  afterEach(async () => {
    for (const o of outboxes.splice(0)) await o.stop();
    await smtp.stop();
    await t.close();
  });

  const healers: (() => Promise<void>)[] = [];
  const fault = async (on: 'DELETE' | 'UPDATE') => void healers.push(await t.failWhen('mail_outbox', on));
  const heal = async () => {
    for (const h of healers.splice(0)) await h();
  };
  const statuses = async () => (await t.rows<{ status: string }>('SELECT status FROM mail_outbox ORDER BY created_at, id')).map((r) => r.status);

  it("a restart sends this instance's interrupted mails at once, another instance's only after their lease", async () => {
    const store = t.store.outbox;
    const first = outbox({ instanceId: 'instance-A' });
    await first.enqueue(sampleMail('a@example.org', 'a1'));
    await first.enqueue(sampleMail('b@example.org', 'a2'));
    const lease = new Date(clock.getTime() + 600_000).toISOString();
    // Both mails were 'sending' when their processes died: one ours (previous run), one another instance's.
    assert.equal((await store.claimDue(clock.toISOString(), lease, 'dead-run', 1, 'instance-A')).claimed.length, 1);
    assert.equal((await store.claimDue(clock.toISOString(), lease, 'other-instance', 1, 'instance-B')).claimed.length, 1);
    const restarted = outbox({ instanceId: 'instance-A' });
    await restarted.kick();
    assert.deepEqual(smtp.received.map((m) => m.envelope.to[0]), ['a@example.org'], 'ours at once, without waiting 10 minutes');
    clock = new Date(clock.getTime() + 600_000);
    await restarted.kick();
    assert.deepEqual(smtp.received.map((m) => m.envelope.to[0]), ['a@example.org', 'b@example.org'], "the other's after its lease");
  });

  it('accepted by the server but not recordable: kept in memory, recorded on recovery, never sent twice', async () => {
    const o = outbox({ leaseMs: 1000 });
    const errors: Error[] = [];
    const recovered: number[] = [];
    o.on('workerError', (e) => errors.push(e));
    o.on('recovered', (r) => recovered.push(r.failedPasses));
    await o.enqueue(sampleMail());
    await fault('DELETE');
    await o.kick();
    assert.equal(smtp.received.length, 1, 'the server accepted it');
    assert.deepEqual(await statuses(), ['sending']);
    assert.equal(o.heldInMemory(), 1);
    assert.equal(errors.length, 1);
    // The lease has run out and the store still fails: the pass stops before claiming, so nothing is sent again.
    clock = new Date(clock.getTime() + 5000);
    await o.kick();
    assert.equal(smtp.received.length, 1);
    await heal();
    await o.kick();
    assert.deepEqual(await statuses(), [], 'recorded as sent');
    assert.equal(o.heldInMemory(), 0);
    assert.equal(smtp.received.length, 1, 'exactly once');
    assert.deepEqual(recovered, [2]);
  });

  it('a fault mid-batch hands the unattempted mails back, and after recovery each goes out once', async () => {
    const o = outbox({ batchSize: 10 });
    for (let i = 0; i < 3; i++) await o.enqueue(sampleMail(`p${i}@example.org`, `a${i}`));
    await fault('DELETE');
    await o.kick();
    assert.equal(smtp.received.length, 1, 'the first went out; the others were not attempted');
    assert.equal(o.heldInMemory(), 3);
    await heal();
    await o.kick();
    assert.equal(smtp.received.length, 3);
    assert.equal(new Set(smtp.received.map((m) => m.envelope.to[0])).size, 3, 'each once');
    assert.deepEqual(await statuses(), []);
  });

  it('a store that cannot write makes the worker back off instead of spinning', async () => {
    const o = outbox({ now: () => new Date(), faultBackoff: { initialMs: 50, maxMs: 400 } });
    await o.enqueue(sampleMail());
    await fault('UPDATE');
    const errors: number[] = [];
    o.on('workerError', () => errors.push(Date.now()));
    const began = Date.now();
    o.start();
    const end = Date.now() + 10_000;
    while (errors.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(errors.length >= 4, true, 'it keeps trying');
    // Pauses of 50, 100 and 200 ms lie between the first four failures (a 5 ms spin would take 15 ms); a few ms of
    // timer rounding allowed.
    assert.ok(errors[3] - began >= 340, `${errors[3] - began} ms for four failed passes`);
    assert.equal(smtp.received.length, 0);
    await heal();
    await o.kick();
    await smtp.waitFor(1);
    assert.deepEqual(await statuses(), []);
  });
});
