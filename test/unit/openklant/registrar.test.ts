import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { once } from 'node:events';
import type { AppointmentStore } from '../../../lib/appointments/store';
import { createOpenKlantClient } from '../../../lib/openklant/client';
import { ContactRegistrar, type PartijLookupEvent, type RegisteredEvent, type RegistrationFailedEvent } from '../../../lib/openklant/registrar';
import { hashToken, newToken } from '../../../lib/security/tokens';
import { createSqliteAppointmentStore } from '../../../lib/store/sqlite/appointments';
import { createSqliteContactRegistrations } from '../../../lib/store/sqlite/contact-registrations';
import { startStandInOpenKlant, type StandInOpenKlant } from '../../support/openklant';
import { tempDb, type TempDb } from '../links/temp-db';

// A BSN that passes the elfproef (lib/auth/bsn.ts); it must reach Open Klant's partij search and nothing else.
const BSN = '999993653';
const PARTIJ = '5f0f8a54-7a43-4e0c-9a39-1b0f1e3c2a11';
const ACTOR = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const quiet = { warn: () => undefined, info: () => undefined };

let serial = 0;
async function appointment(store: AppointmentStore, name = 'Jan de Vries'): Promise<string> {
  serial++;
  const start = new Date(Date.now() + (48 + serial) * 3600_000).toISOString();
  const r = await store.create(
    {
      startUtc: start,
      endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
      topic: 'Paspoort aanvragen',
      channel: 'website',
      bookedBy: null,
      resident: { name, email: `inwoner${serial}@example.nl`, phone: null, remarks: null },
      cancelTokenHash: hashToken(newToken()),
      idempotencyKey: newToken(),
      createdAt: new Date().toISOString(),
    },
    { candidates: ['agent1'], dayStartUtc: new Date(Date.now() - 3600_000).toISOString(), dayEndUtc: new Date(Date.now() + 400 * 24 * 3600_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(Date.now() - 60_000).toISOString() },
  );
  return r.appointment.id;
}

describe('Open Klant contact registration (stand-in validating against the Klantinteracties OpenAPI spec)', function () {
  let ok: StandInOpenKlant;
  let tmp: TempDb;
  let appointments: AppointmentStore;
  /** What the attribute cache would hold right now: appointment id -> BSN. */
  const liveBsn = new Map<string, string>();
  const registrars: ContactRegistrar[] = [];

  function registrar(o: { token?: string; maxAttempts?: number; instanceId?: string; db?: TempDb['db']; initialMs?: number; now?: () => Date; timeoutMs?: number } = {}): ContactRegistrar {
    const r = new ContactRegistrar({
      store: createSqliteContactRegistrations(o.db ?? tmp.db),
      client: createOpenKlantClient({ baseUrl: ok.baseUrl, token: o.token ?? ok.token, timeoutMs: o.timeoutMs ?? 5000 }),
      appointments,
      bsnFor: (id) => liveBsn.get(id),
      source: 'okl-1',
      instanceId: o.instanceId ?? 'inst-A',
      backoff: { initialMs: o.initialMs ?? 20, maxMs: Math.max(50, o.initialMs ?? 0), maxAttempts: o.maxAttempts ?? 5 },
      ...(o.now ? { now: o.now } : {}),
      pollMs: 60_000,
      log: quiet,
    });
    registrars.push(r);
    r.start();
    return r;
  }

  const outcome = (r: ContactRegistrar, id: string) =>
    new Promise<RegisteredEvent | RegistrationFailedEvent>((resolve) => {
      const onOk = (e: RegisteredEvent) => e.appointmentId === id && (cleanup(), resolve(e));
      const onFail = (e: RegistrationFailedEvent) => e.appointmentId === id && e.final && (cleanup(), resolve(e));
      const cleanup = () => {
        r.off('registered', onOk);
        r.off('failed', onFail);
      };
      r.on('registered', onOk);
      r.on('failed', onFail);
    });

  before(async function () {
    this.timeout(20_000);
    // A 'late' answer comes only after the client gave up, however slow the machine: held until the stand-in closes.
    ok = await startStandInOpenKlant({ lateAnswerMs: 10 * 60_000 });
    ok.partijen.set(BSN, PARTIJ);
    ok.actoren.set('agent1', ACTOR);
    tmp = tempDb('idv-openklant-');
    appointments = createSqliteAppointmentStore(tmp.db);
  });
  afterEach(async () => {
    await Promise.all(registrars.splice(0).map((r) => r.stop()));
  });
  after(async () => {
    await ok?.close();
    tmp?.cleanup();
  });

  it('registers a call of an identified resident: partij found by BSN while the set lived, actor linked, traceparent on every call', async () => {
    const r = registrar();
    const id = await appointment(appointments);
    liveBsn.set(id, BSN);
    // Only this test's requests: the stand-in keeps every earlier test's too (any order, IDV_TEST_ORDER).
    const before = ok.requests.length;
    const mine = () => ok.requests.slice(before);
    const lookups: PartijLookupEvent[] = [];
    r.on('partijLookup', (e) => lookups.push(e));
    // In the verification's trace, with the verified person's pseudonym (Logboek data subject), never the BSN.
    await r.resolvePartij(id, { traceId: 'a'.repeat(32), parentSpanId: 'b'.repeat(16), dataSubjectId: 'c'.repeat(64) });
    assert.deepEqual(lookups.map((e) => [e.outcome, e.span.traceId, e.parentSpanId, e.dataSubjectId]), [['found', 'a'.repeat(32), 'b'.repeat(16), 'c'.repeat(64)]]);
    liveBsn.delete(id); // the call ended: the attribute set and the BSN are gone
    const done = outcome(r, id);
    const { registration, created } = await r.add(id, true);
    assert.equal(created, true);
    const e = (await done) as RegisteredEvent;
    assert.ok(e.klantcontactUuid, 'registered');
    assert.deepEqual(e.codes, []);
    assert.equal(e.dataSubjectId, 'c'.repeat(64), 'the pseudonym travels with the registration (its Logboek record)');
    assert.equal(registration.dataSubjectId, 'c'.repeat(64));

    const [search] = mine().filter((q) => q.operationId === 'partijenList');
    assert.equal(search.query.partijIdentificator__objectId, BSN);
    assert.equal(search.query.partijIdentificator__codeSoortObjectId, 'bsn');
    const post = mine().filter((q) => q.operationId === 'maakKlantcontactCreate').at(-1)!;
    assert.equal(post.status, 201, 'the request passed the specification');
    const body = post.body as { klantcontact: Record<string, unknown>; betrokkene: Record<string, unknown> };
    assert.equal(body.klantcontact.kanaal, 'video');
    assert.equal(body.klantcontact.onderwerp, 'Paspoort aanvragen');
    assert.equal(body.klantcontact.indicatieContactGelukt, true);
    assert.deepEqual(body.betrokkene.wasPartij, { uuid: PARTIJ });
    assert.equal(body.betrokkene.contactnaam, undefined, 'the partij, not the name typed at booking');
    const link = mine().filter((q) => q.operationId === 'actorklantcontactenCreate').at(-1)!;
    assert.equal(link.status, 201);
    assert.deepEqual(link.body, { actor: { uuid: ACTOR }, klantcontact: { uuid: e.klantcontactUuid } });
    for (const q of mine().filter((x) => x !== search)) {
      assert.match(q.traceparent ?? '', new RegExp(`^00-${registration.traceId}-[0-9a-f]{16}-01$`), 'the registration\'s trace on each call');
    }
    assert.equal(mine().every((q) => q.authorization === `Token ${ok.token}`), true);

    // Ids only on disk: the BSN is nowhere in the database files, the row holds the partij uuid.
    tmp.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of [tmp.file, `${tmp.file}-wal`]) if (fs.existsSync(f)) assert.equal(fs.readFileSync(f).includes(BSN), false, `BSN in ${f}`);
    const row = tmp.db.prepare('SELECT * FROM contact_registrations WHERE id = ?').get(registration.id) as Record<string, unknown>;
    assert.equal(row.partij_uuid, PARTIJ);
    assert.equal(row.state, 'done');
    assert.equal(JSON.stringify(e).includes(BSN), false);
  });

  it('registers a no-show with the contact details as given, once per appointment, and says when the actor is unknown', async () => {
    const r = registrar();
    const id = await appointment(appointments, 'Fatima El Amrani');
    const done = outcome(r, id);
    await r.add(id, false);
    const again = await r.add(id, false);
    assert.equal(again.created, false, 'one registration per appointment');
    const e = (await done) as RegisteredEvent;
    const post = ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate').at(-1)!;
    const body = post.body as { klantcontact: Record<string, unknown>; betrokkene: Record<string, unknown> };
    assert.equal(body.klantcontact.indicatieContactGelukt, false);
    assert.deepEqual(body.betrokkene.contactnaam, { voornaam: 'Fatima', achternaam: 'El Amrani' });
    assert.equal(body.betrokkene.wasPartij, undefined);
    assert.deepEqual(e.codes, []);

    ok.actoren.delete('agent1');
    try {
      const id2 = await appointment(appointments);
      const d2 = outcome(r, id2);
      await r.add(id2, true);
      assert.deepEqual(((await d2) as RegisteredEvent).codes, ['actor_not_found']);
    } finally {
      ok.actoren.set('agent1', ACTOR);
    }
  });

  it('a 400 with invalidParams fails for good at once, with field names and codes only', async () => {
    const r = registrar();
    const id = await appointment(appointments);
    ok.failNext(1, 400, 'maakKlantcontactCreate');
    const done = outcome(r, id);
    await r.add(id, true);
    const e = (await done) as RegistrationFailedEvent;
    assert.equal(e.errorCode, 'openklant_invalid_request');
    assert.equal(e.final, true);
    assert.deepEqual(e.invalidParams, [{ name: 'klantcontact.onderwerp', code: 'max_length' }]);
    assert.equal(JSON.stringify(e).includes('karakters'), false, 'the reason text stays out');
    assert.equal(ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate' && q.status === 400).length >= 1, true);
  });

  it('retries 5xx and a timeout with back-off and registers exactly once', async () => {
    const r = registrar({ timeoutMs: 1000 });
    const id = await appointment(appointments);
    const before = ok.klantcontacten.size;
    ok.failNext(1, 503, 'maakKlantcontactCreate');
    ok.failNext(1, 'timeout', 'maakKlantcontactCreate');
    const retries: string[] = [];
    r.on('failed', (e) => e.appointmentId === id && retries.push(e.errorCode));
    const done = outcome(r, id);
    await r.add(id, true);
    const e = (await done) as RegisteredEvent;
    assert.ok(e.klantcontactUuid);
    assert.deepEqual(retries, ['openklant_server_error', 'openklant_timeout']);
    assert.equal(ok.klantcontacten.size, before + 1);
  });

  it('a maak-klantcontact carried out but answered after the timeout: the retry finds the contact by its reference and registers nothing twice', async () => {
    // The 'late' answer never comes within the test (see before), so a timeout long enough for a busy machine still
    // ends the first attempt, and no other request of this test (lookup, retry) can time out spuriously: exactly one
    // 'openklant_timeout' and one lookup are then what the registrar did, not what the load allowed.
    const r = registrar({ timeoutMs: 2000 });
    const id = await appointment(appointments);
    const other = await appointment(appointments);
    const before = ok.klantcontacten.size;
    ok.failNext(1, 'late', 'maakKlantcontactCreate');
    const retries: string[] = [];
    r.on('failed', (e) => e.appointmentId === id && retries.push(e.errorCode));
    const done = outcome(r, id);
    await r.add(id, true);
    const e = (await done) as RegisteredEvent;
    assert.deepEqual(retries, ['openklant_timeout']);
    assert.equal(ok.klantcontacten.size, before + 1, 'one klantcontact, though the first answer never reached us');
    const posts = ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate' && (q.body as { onderwerpobject?: unknown }).onderwerpobject);
    const mine = posts.filter((q) => JSON.stringify(q.body).includes(id));
    assert.equal(mine.length, 1, 'maak-klantcontact sent once');
    const stored = [...ok.klantcontacten.entries()].find(([, b]) => JSON.stringify(b).includes(id))!;
    assert.equal(e.klantcontactUuid, stored[0], 'the contact found is the one the first attempt registered');
    assert.deepEqual((mine[0].body as { onderwerpobject: unknown }).onderwerpobject, {
      onderwerpobjectidentificator: { codeObjecttype: 'videoafspraak', codeRegister: 'idvideo', codeSoortObjectId: 'afspraak-id', objectId: id },
    });
    const lookups = ok.requests.filter((q) => q.operationId === 'klantcontactenList' && q.query.onderwerpobject__onderwerpobjectidentificatorObjectId === id);
    assert.equal(lookups.length, 1, 'looked up before the retry only');
    assert.equal(lookups[0].status, 200, 'the lookup passed the specification');
    assert.equal(lookups[0].query.onderwerpobject__onderwerpobjectidentificatorCodeRegister, 'idvideo');
    // A first attempt does not ask (nothing can exist yet); another appointment's contact is not taken for this one.
    const d2 = outcome(r, other);
    await r.add(other, true);
    const e2 = (await d2) as RegisteredEvent;
    assert.notEqual(e2.klantcontactUuid, e.klantcontactUuid);
    assert.equal(ok.requests.filter((q) => q.operationId === 'klantcontactenList' && q.query.onderwerpobject__onderwerpobjectidentificatorObjectId === other).length, 0);
    // The retry after a timeout where nothing was stored still registers (the lookup finds none).
    const third = await appointment(appointments);
    ok.failNext(1, 'timeout', 'maakKlantcontactCreate');
    const d3 = outcome(r, third);
    await r.add(third, true);
    assert.ok(((await d3) as RegisteredEvent).klantcontactUuid);
    assert.equal([...ok.klantcontacten.values()].filter((b) => JSON.stringify(b).includes(third)).length, 1);
  });

  it('a failed actor link is retried without registering the contact a second time', async () => {
    const r = registrar();
    const id = await appointment(appointments);
    const before = ok.klantcontacten.size;
    ok.failNext(1, 500, 'actorklantcontactenCreate');
    const done = outcome(r, id);
    await r.add(id, true);
    await done;
    assert.equal(ok.klantcontacten.size, before + 1, 'one klantcontact');
  });

  it('a wrong token (401) is retried until the attempts run out', async () => {
    const r = registrar({ token: 'wrong-token-123456', maxAttempts: 2 });
    const id = await appointment(appointments);
    const done = outcome(r, id);
    await r.add(id, true);
    const e = (await done) as RegistrationFailedEvent;
    assert.equal(e.errorCode, 'openklant_unauthorized');
    assert.equal(e.attempt, 2);
    assert.equal(ok.requests.filter((q) => q.status === 401).length >= 2, true);
  });

  it('a queued registration survives a restart; when the BSN is gone by then it registers without the partij link and says so', async () => {
    // Retried only after a minute: the process is gone before that.
    const first = registrar({ instanceId: 'inst-B', initialMs: 60_000 });
    const id = await appointment(appointments);
    liveBsn.set(id, BSN);
    ok.failNext(2, 503, 'partijenList'); // Open Klant is down while the set lives
    await first.resolvePartij(id);
    const retrying = once(first, 'failed');
    await first.add(id, true);
    const [failed] = (await retrying) as [RegistrationFailedEvent];
    assert.equal(failed.errorCode, 'openklant_server_error');
    assert.equal(failed.final, false);
    await first.stop(); // the process goes away with the registration pending
    liveBsn.delete(id); // and the attribute set with it

    // The restarted instance, two minutes later (when the retry is due), on the same database file.
    const db2 = tmp.reopen();
    const second = registrar({ instanceId: 'inst-B', db: db2, now: () => new Date(Date.now() + 120_000) });
    const e = (await outcome(second, id)) as RegisteredEvent;
    assert.deepEqual(e.codes, ['bsn_gone']);
    const body = ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate').at(-1)!.body as { betrokkene: Record<string, unknown> };
    assert.equal(body.betrokkene.wasPartij, undefined);
    assert.ok(body.betrokkene.contactnaam);
  });

  it('the stand-in refuses what the specification refuses (a request the client must never send)', async () => {
    const res = await fetch(`${ok.baseUrl}/maak-klantcontact`, {
      method: 'POST',
      headers: { Authorization: `Token ${ok.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ klantcontact: { kanaal: 5, onderwerp: 'x', taal: 'nld', vertrouwelijk: false, plaatsgevondenOp: 'gisteren' } }),
    });
    assert.equal(res.status, 400);
    const b = (await res.json()) as { invalidParams: { name: string }[] };
    assert.ok(b.invalidParams.some((p) => p.name.includes('kanaal')));
    assert.ok(b.invalidParams.some((p) => p.name.includes('plaatsgevondenOp')));
    const unauth = await fetch(`${ok.baseUrl}/partijen`, { headers: { Authorization: 'Token nope' } });
    assert.equal(unauth.status, 401);
  });
});
