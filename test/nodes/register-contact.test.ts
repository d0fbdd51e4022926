import assert from 'node:assert/strict';
import { appointmentStoreOf } from '../../lib/call/deps';
import { identificationServiceOf } from '../../lib/identification/service';
import { hashToken, newToken } from '../../lib/security/tokens';
import type { Services } from '../../lib/services';
import { helper, startServices, stopServices } from '../support/node-red';
import { startStandInOpenKlant, type StandInOpenKlant } from '../support/openklant';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const openKlantNode = require('../../nodes/idv-openklant/idv-openklant');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const registerNode = require('../../nodes/idv-register-contact/idv-register-contact');

type Msg = Record<string, unknown>;
interface TestNode {
  receive(msg: Msg): void;
  on(event: string, fn: (arg: never) => void): void;
  status: { lastCall?: { args: [{ fill?: string; text?: string }] } };
}

const BSN = '999993653';
const PARTIJ = '7e57a1e2-0b9c-4d1a-9f3e-2c4b5a6d7e8f';
const ACTIVITY = 'https://register.testdorp.example/verwerkingsactiviteiten/klantcontact-video';

describe('idv-register-contact with idv-openklant (flows against a stand-in Open Klant)', function () {
  this.timeout(20_000);
  let services: Services;
  let ok: StandInOpenKlant;

  before(async () => {
    services = startServices();
    ok = await startStandInOpenKlant();
    ok.partijen.set(BSN, PARTIJ);
    ok.actoren.set('agent1', '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5');
  });
  afterEach(() => helper.unload());
  after(async () => {
    await helper.unload();
    await ok?.close();
    await stopServices();
  });

  const flow = (extra: Record<string, unknown> = {}) => [
    { id: 'okl', type: 'idv-openklant', baseUrl: ok.baseUrl, timeoutSeconds: 5, processingActivityId: ACTIVITY, ...extra },
    { id: 'reg', type: 'idv-register-contact', z: 'tab', openklant: 'okl', wires: [['done'], ['errors']] },
    { id: 'done', type: 'helper', z: 'tab' },
    { id: 'errors', type: 'helper', z: 'tab' },
    { id: 'tab', type: 'tab' },
  ];
  const load = (extra: Record<string, unknown> = {}, token = ok.token) => helper.load([openKlantNode, registerNode], flow(extra), { okl: { token } });
  const node = (id: string) => helper.getNode(id) as unknown as TestNode;
  const next = (id: string) => new Promise<Msg>((resolve) => node(id).on('input', (m: never) => resolve(m)));

  let serial = 0;
  async function appointment(): Promise<string> {
    serial++;
    const start = new Date(Date.now() + (72 + serial) * 3600_000).toISOString();
    const r = await appointmentStoreOf(services).create(
      {
        startUtc: start,
        endUtc: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
        topic: 'Rijbewijs verlengen',
        channel: 'website',
        bookedBy: null,
        resident: { name: 'Piet Bakker', email: `piet${serial}@example.nl`, phone: null, remarks: null },
        cancelTokenHash: hashToken(newToken()),
        idempotencyKey: newToken(),
        createdAt: new Date().toISOString(),
      },
      { candidates: ['agent1'], dayStartUtc: new Date(Date.now() - 3600_000).toISOString(), dayEndUtc: new Date(Date.now() + 400 * 24 * 3600_000).toISOString(), bufferMinutes: 0, idempotentSinceUtc: new Date(Date.now() - 60_000).toISOString() },
    );
    return r.appointment.id;
  }

  it('a call with an identified resident: the partij is found by the BSN in the attribute cache; messages and the log hold ids and codes only', async () => {
    await load();
    const id = await appointment();
    const identification = identificationServiceOf(services);
    // What a verification leaves: the set in the cache (the only place the BSN lives) and the 'verified' event.
    const setId = identification.cache.put({ appointmentId: id, requestId: 'r1', methodId: 'digid', attributes: [{ key: 'bsn', labelNl: 'BSN', labelEn: 'BSN', value: BSN }] });
    identification.emit('verified', { attributeSetId: setId, appointmentId: id, requestId: 'r1', purpose: 'Vaststellen identiteit', methodId: 'digid', attributeKeys: ['bsn'] });
    await ok.waitFor('partijenList', 1);
    await identification.callEnded(id); // the call ends: the set (and the BSN) is gone
    assert.equal(identification.cache.idsForAppointment(id).length, 0);

    const got = next('done');
    node('reg').receive({ topic: 'callEnded', event: 'callEnded', appointment: { id }, durationSeconds: 300 });
    const msg = await got;
    assert.equal(msg.topic, 'contactRegistered');
    assert.equal((msg.appointment as { id: string }).id, id);
    assert.match(String((msg.klantcontact as { uuid: string }).uuid), /^[0-9a-f-]{36}$/);
    assert.deepEqual(msg.codes, []);
    assert.equal(JSON.stringify(msg).includes(BSN), false, 'no BSN in the message');
    const post = ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate').at(-1)!;
    assert.deepEqual((post.body as { betrokkene: { wasPartij: unknown } }).betrokkene.wasPartij, { uuid: PARTIJ });

    const log = await identification.log.list({ appointmentId: id, limit: 50 });
    const rec = log.find((r) => r.action === 'contact_registered');
    assert.ok(rec, 'a contact_registered record');
    assert.equal(rec.traceId, msg.traceId);
    assert.equal(rec.statusCode, 1);
    assert.equal(rec.processingActivityId, ACTIVITY);
    assert.ok(rec.endedAt && rec.endedAt >= rec.at);
    assert.equal(JSON.stringify(log).includes(BSN), false, 'no BSN in the processing log');
    // Sending the BSN to Open Klant's partij search is a processing of its own, logged with its outcome.
    const lookup = log.find((r) => r.action === 'partij_looked_up');
    assert.ok(lookup);
    assert.equal(lookup.detail, 'found');
    assert.deepEqual(lookup.attributeKeys, ['bsn']);
    assert.equal(ok.requests.find((q) => q.operationId === 'partijenList')?.traceparent, `00-${lookup.traceId}-${lookup.spanId}-01`);
  });

  it("the dashboard's outcome messages: a no-show of either side registers a contact not made, completed one made, cancelled nothing; once per appointment", async () => {
    await load();
    const errors: string[] = [];
    node('reg').on('call:error', (call: never) => errors.push(String((call as { firstArg: Error }).firstArg?.message ?? call)));
    const made = async (m: Record<string, unknown>) => {
      const got = next('done');
      node('reg').receive(m);
      const msg = await got;
      const post = ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate').at(-1)!;
      return { msg, gelukt: (post.body as { klantcontact: { indicatieContactGelukt: boolean } }).klantcontact.indicatieContactGelukt };
    };
    for (const [outcome, contact] of [['resident_no_show', false], ['agent_no_show', false], ['completed', true]] as const) {
      const id = await appointment();
      const { msg, gelukt } = await made({ topic: 'outcome', event: 'outcome', appointment: { id }, outcome });
      assert.equal((msg.appointment as { id: string }).id, id);
      assert.equal(msg.contactMade, contact, outcome);
      assert.equal(gelukt, contact, `${outcome}: indicatieContactGelukt`);
    }
    // A cancelled appointment was no contact: nothing is registered, no error; the next message still registers.
    const cancelled = await appointment();
    const posts = () => ok.requests.filter((q) => q.operationId === 'maakKlantcontactCreate').length;
    const before = posts();
    node('reg').receive({ topic: 'outcome', event: 'outcome', appointment: { id: cancelled }, outcome: 'cancelled', cancelledBy: 'resident' });
    const marker = await appointment();
    await made({ event: 'outcome', appointment: { id: marker }, outcome: 'resident_no_show' });
    assert.equal(posts(), before + 1, 'only the marker was registered');
    // callEnded after the outcome (or the other way round): one registration per appointment.
    const count = await (async () => {
      node('reg').receive({ event: 'callEnded', appointment: { id: marker } });
      const again = await appointment();
      await made({ event: 'callEnded', appointment: { id: again } });
      return posts();
    })();
    assert.equal(count, before + 2, 'the marker was not registered a second time');
    // An outcome the dashboard never sends is refused with a plain sentence.
    node('reg').receive({ event: 'outcome', appointment: { id: marker }, outcome: '<script>' });
    node('reg').receive({ event: 'outcome', appointment: { id: marker } });
    const deadline = Date.now() + 5000;
    while (errors.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(errors, ['msg.outcome is not an appointment outcome', 'msg.outcome is not an appointment outcome']);
  });

  it('refuses bad messages with a clear error and reports a wrong token on the second output', async () => {
    await load({}, 'wrong-token-0123456789');
    const errors: string[] = [];
    node('reg').on('call:error', (call: never) => errors.push(String((call as { firstArg: Error }).firstArg?.message ?? call)));
    node('reg').receive({ appointment: { id: 'has spaces' } });
    node('reg').receive({ appointment: { id: 'abc' } });
    node('reg').receive({ appointment: { id: 'abc' }, contactMade: 'yes' });
    const id = await appointment();
    const failed = next('errors');
    node('reg').receive({ appointment: { id }, contactMade: false });
    const f = await failed;
    assert.equal(f.code, 'openklant_unauthorized');
    assert.equal(f.final, false);
    assert.deepEqual(Object.keys(f).filter((k) => !['_msgid'].includes(k)).sort(), ['appointment', 'attempt', 'code', 'eventId', 'final', 'nextAttemptAt', 'topic', 'traceId']);
    assert.equal(errors.length, 3);
    assert.match(errors[0], /appointment\.id is missing or malformed/);
    assert.match(errors[1], /contactMade is required unless msg.event is 'callEnded' or 'outcome'/);
    assert.match(errors[2], /contactMade must be true or false/);
  });

  it('an invalid Open Klant configuration turns the node red without starting anything', async () => {
    await load({ baseUrl: 'ftp://openklant.example' });
    const status = node('reg').status.lastCall?.args[0];
    assert.equal(status?.fill, 'red');
    assert.equal(status?.text, 'idv-register-contact.status.invalid');
  });
});
