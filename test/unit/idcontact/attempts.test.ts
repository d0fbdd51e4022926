import assert from 'node:assert/strict';
import { validateIdContactCore, type IdContactCore } from '../../../lib/idcontact/config';
import { ATTR_PATH, IdContactFlows } from '../../../lib/idcontact/flows';
import { forEachEngine, type TestStore } from '../../support/engines';
import { generateKeys, sealAuthResult, type KeyPairPem } from '../../support/idcontact-tokens';

const BSN = '999993653';

/**
 * ID Contact attempts in the store (../shared/DESIGN.md, "Several instances"): an attr_url made on one instance is
 * found, used once and answered on another; the outcome reaches a resident returning to a third; an auth_result handed
 * over directly is taken once over all instances. Two stores on one database stand for two instances.
 */
forEachEngine('ID Contact attempts across instances', (engine) => {
  let t: TestStore;
  let ours: KeyPairPem;
  let plugin: KeyPairPem;
  let core: IdContactCore;

  before(async () => {
    ours = await generateKeys('ec');
    plugin = await generateKeys('ec');
    core = validateIdContactCore(
      {
        coreUrl: 'http://127.0.0.1:9/core',
        purpose: 'report_move',
        methodPrefix: 'idc',
        allowInsecureLoopback: true,
        startAuth: 'secret',
        attributes: JSON.stringify([{ claim: 'bsn', key: 'bsn', labelNl: 'BSN', labelEn: 'Citizen service number', kind: 'bsn' }]),
      },
      { decryptionKey: ours.privatePem, signingKeys: plugin.publicPem },
    );
  });
  beforeEach(async () => {
    t = await engine.open();
  });
  afterEach(() => t.close());

  const flowsOn = async (store = t.store, knows = true) => {
    const f = new IdContactFlows({ pending: store.pendingIdentifications, publicBase: () => 'https://video.example.nl' });
    if (knows) f.knowCore(core);
    return f;
  };
  const seal = (bsn = BSN) => sealAuthResult({ signKey: plugin.privateKey, encKey: ours.publicKey, attributes: { bsn } });

  it('an attr_url made on one instance is used once on whichever instance the results land; no value is stored', async () => {
    const a = await flowsOn();
    const b = await flowsOn(await t.another());
    const url = await a.sessionAttrUrl({ core, appointmentId: 'appt-1', methodId: 'idc-core', purpose: 'report_move' });
    const token = url.slice(url.indexOf(ATTR_PATH) + ATTR_PATH.length);
    assert.equal(await b.pendingCount(), 1);
    const [onA, onB] = await Promise.all([a.attemptForAttr(token), b.attemptForAttr(token)]);
    assert.equal(onB?.appointmentId, 'appt-1');
    assert.equal(onB?.core, core, 'found by its method prefix among the cores this instance knows');
    const results = await Promise.all([a.accept(onA, await seal()), b.accept(onB, await seal())]);
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)).sort(), ['ok', 'replayed']);
    const ok = results.find((r) => r.ok);
    assert.ok(ok?.ok && ok.attributes[0].value === BSN);
    const rows = JSON.stringify([...(await t.rows('SELECT * FROM identification_pending')), ...(await t.rows('SELECT * FROM identification_taken'))]);
    assert.ok(!rows.includes(BSN) && !rows.includes(token), 'neither the value nor the token is in the database');
    assert.equal(await (await flowsOn(t.store, false)).attemptForAttr(token), undefined, 'an instance without that core cannot finish it');
    assert.equal(await a.attemptForAttr('x'.repeat(43)), undefined);
  });

  it('the outcome worked out on one instance reaches the resident returning to another', async () => {
    const a = await flowsOn();
    const b = await flowsOn(await t.another());
    const url = await a.sessionAttrUrl({ core, appointmentId: 'appt-2', methodId: 'idc-core', purpose: 'report_move' });
    const attempt = (await a.attemptForAttr(url.slice(url.indexOf(ATTR_PATH) + ATTR_PATH.length)))!;
    // A session the core started has no comm_url: nothing to tell a returning resident, only this instance waits.
    assert.equal(await a.settle(attempt, Promise.resolve('ok')), 'ok');
    assert.equal(await b.outcomeOf(attempt), undefined);
    const withReturn = { ...attempt, returnKey: 'b'.repeat(64), sessionHash: 'c'.repeat(64) };
    assert.equal(await a.settle(withReturn, Promise.resolve('bsn_invalid')), 'bsn_invalid');
    assert.equal(await b.outcomeOf(withReturn), 'bsn_invalid');
    assert.ok(await b.use(withReturn), 'settling does not use the attempt up; accepting does');
    assert.equal(await a.use(withReturn), false);
  });

  it('an auth_result handed over directly is taken once over all instances; a bad one spends nothing', async () => {
    const a = await flowsOn();
    const b = await flowsOn(await t.another());
    const token = await seal();
    const results = await Promise.all([a.acceptDirect(core, token), b.acceptDirect(core, token), a.acceptDirect(core, ` ${token} `)]);
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)).sort(), ['ok', 'replayed', 'replayed']);
    const bad = await sealAuthResult({ signKey: ours.privateKey, encKey: ours.publicKey, attributes: { bsn: BSN } });
    assert.equal(((await a.acceptDirect(core, bad)) as { reason: string }).reason, 'signature_invalid');
    assert.equal(await t.count(`SELECT count(*) AS n FROM identification_taken WHERE kind = 'idcontact-direct'`), 1);
  });
});
