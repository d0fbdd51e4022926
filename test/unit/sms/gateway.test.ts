import assert from 'node:assert/strict';
import { createGatewayClient } from '../../../lib/sms/gateway';
import { PRESET_NAMES, renderBody, validateGatewayFields, type GatewayConfig } from '../../../lib/sms/gateway-config';
import { startSmsGateway, type SmsGatewayStandIn } from '../../support/sms-gateway';

function config(fields: Record<string, unknown>): GatewayConfig {
  const r = validateGatewayFields(fields);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('; '));
  return r.config;
}

const SMS = { to: '+31612345678', text: 'Gemeente Voorbeeld: uw video-afspraak. Link: https://video.example.nl/v/TOKEN', reference: 'ref-1' };

describe('SMS gateway client (stand-in gateway on loopback)', function () {
  this.timeout(20_000);
  let gw: SmsGatewayStandIn;
  before(async () => {
    gw = await startSmsGateway();
  });
  after(async () => {
    await gw.close();
  });
  beforeEach(() => {
    gw.requests.length = 0;
    gw.fallback = { status: 202 };
  });

  it('sends the request format of each preset with its auth header', async () => {
    const expected: Record<string, { header: string; value: string; body: unknown }> = {
      messagebird: { header: 'authorization', value: 'AccessKey k-1', body: { originator: 'Gemeente', recipients: ['31612345678'], body: SMS.text, reference: 'ref-1' } },
      cm: {
        header: 'x-cm-producttoken',
        value: 'k-1',
        body: { messages: { msg: [{ from: 'Gemeente', to: [{ number: '0031612345678' }], body: { type: 'auto', content: SMS.text }, reference: 'ref-1' }] } },
      },
      spryng: { header: 'authorization', value: 'Bearer k-1', body: { encoding: 'auto', route: 'business', originator: 'Gemeente', recipients: ['31612345678'], body: SMS.text, reference: 'ref-1' } },
      'generic-json': { header: 'authorization', value: 'k-1', body: { to: '+31612345678', from: 'Gemeente', text: SMS.text, reference: 'ref-1' } },
    };
    for (const [preset, want] of Object.entries(expected)) {
      gw.requests.length = 0;
      const failure = await createGatewayClient(config({ preset, url: gw.url, from: 'Gemeente' }), () => 'k-1').send(SMS);
      assert.equal(failure, undefined, preset);
      const [req] = gw.requests;
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/messages');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers[want.header], want.value, preset);
      assert.deepEqual(JSON.parse(req.body), want.body, preset);
    }
    gw.requests.length = 0;
    await createGatewayClient(config({ preset: 'generic-form', url: gw.url, from: 'Gemeente', authHeader: 'X-Api-Key' }), () => 'k-2').send(SMS);
    const [form] = gw.requests;
    assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(form.headers['x-api-key'], 'k-2');
    assert.equal(new URLSearchParams(form.body).get('text'), SMS.text);
    assert.equal(new URLSearchParams(form.body).get('to'), '+31612345678');
    // 'demo' sends no request: the demo catcher takes the SMS (lib/sms/catcher.ts, test/e2e/sms-demo.test.ts).
    assert.deepEqual(PRESET_NAMES.sort(), ['cm', 'demo', 'generic-form', 'generic-json', 'messagebird', 'spryng']);
  });

  it('keeps quotes, newlines, ampersands and placeholder-like text as data, never as structure', () => {
    const text = 'a "quoted" } ] \n line & more={{to}} %26';
    const json = JSON.parse(renderBody(config({ preset: 'generic-json', url: gw.url, from: 'Gemeente' }), { ...SMS, text })) as Record<string, string>;
    assert.equal(json.text, text);
    assert.deepEqual(Object.keys(json), ['to', 'from', 'text', 'reference']);
    const form = new URLSearchParams(renderBody(config({ preset: 'generic-form', url: gw.url, from: 'Gemeente' }), { ...SMS, text }));
    assert.equal(form.get('text'), text);
    assert.deepEqual([...form.keys()], ['to', 'from', 'text', 'reference']);
  });

  it('accepts 2xx, retries 408/429/5xx and 401/403, fails other 4xx for good; codes only', async () => {
    const client = createGatewayClient(config({ url: gw.url, from: 'Gemeente' }), () => 'k');
    const cases: [number, { code: string; permanent: boolean } | undefined][] = [
      [200, undefined], [201, undefined], [202, undefined],
      [400, { code: 'EHTTP:400', permanent: true }], [404, { code: 'EHTTP:404', permanent: true }], [422, { code: 'EHTTP:422', permanent: true }],
      [401, { code: 'EHTTP:401', permanent: false }], [403, { code: 'EHTTP:403', permanent: false }], [408, { code: 'EHTTP:408', permanent: false }],
      [429, { code: 'EHTTP:429', permanent: false }], [500, { code: 'EHTTP:500', permanent: false }], [503, { code: 'EHTTP:503', permanent: false }],
    ];
    for (const [status, want] of cases) {
      gw.answer({ status });
      assert.deepEqual(await client.send(SMS), want, String(status));
    }
  });

  it('does not follow a redirect (the credential would travel along)', async () => {
    gw.answer({ status: 302, location: `${gw.url}/elsewhere` });
    const failure = await createGatewayClient(config({ url: gw.url, from: 'Gemeente' }), () => 'k').send(SMS);
    assert.deepEqual(failure, { code: 'EHTTP:302', permanent: false });
    assert.equal(gw.requests.length, 1);
  });

  it('gives ETIMEDOUT for a slow gateway, a connection code for a dropped or refused one', async () => {
    gw.answer({ status: 202, delayMs: 3000 });
    const started = Date.now();
    assert.deepEqual(await createGatewayClient(config({ url: gw.url, from: 'Gemeente', timeoutSeconds: 1 }), () => 'k').send(SMS), { code: 'ETIMEDOUT', permanent: false });
    assert.ok(Date.now() - started < 2900, 'gave up at the timeout');
    gw.answer({ drop: true });
    const dropped = await createGatewayClient(config({ url: gw.url, from: 'Gemeente' }), () => 'k').send(SMS);
    assert.equal(dropped?.permanent, false);
    assert.match(dropped?.code ?? '', /^(ECONNRESET|UND_ERR_SOCKET|EPIPE)$/);
    const down = await startSmsGateway();
    await down.close();
    assert.deepEqual(await createGatewayClient(config({ url: down.url, from: 'Gemeente' }), () => 'k').send(SMS), { code: 'ECONNREFUSED', permanent: false });
  });

  it('refuses settings that would leak the link or the credential, or cannot work, naming the field', () => {
    const problems = (f: Record<string, unknown>) => {
      const r = validateGatewayFields(f);
      return r.ok ? [] : r.errors;
    };
    assert.deepEqual(problems({ url: 'http://sms.example.nl/send', from: 'Gemeente' }), ['url: https, or http to this machine only']);
    assert.match(problems({ url: 'https://user:pw@sms.example.nl/send', from: 'Gemeente' })[0], /^url: put the credential/);
    assert.match(problems({ url: 'ftp://sms.example.nl', from: 'Gemeente' })[0], /^url:/);
    assert.match(problems({ url: 'not a url', from: 'Gemeente' })[0], /^url:/);
    assert.match(problems({ url: '', preset: 'generic-json', from: 'Gemeente' })[0], /^url:/, 'a generic gateway has no default address');
    assert.deepEqual(problems({ preset: 'spryng', from: 'Gemeente' }), [], 'a preset brings its address');
    assert.match(problems({ url: gw.url, from: 'Gemeente Voorbeeld' })[0], /^from:/, 'more than 11 characters');
    assert.match(problems({ url: gw.url, from: '' })[0], /^from:/);
    assert.match(problems({ url: gw.url, from: 'G', preset: 'telegram' })[0], /^preset:/);
    assert.match(problems({ url: gw.url, from: 'G', body: '{"to":{{to}},"text":"{{text}}"}' })[0], /^body: not valid JSON/);
    assert.match(problems({ url: gw.url, from: 'G', body: '{"to":"{{to}}"}' })[0], /^body: needs \{\{text\}\}/);
    assert.match(problems({ url: gw.url, from: 'G', body: '{"text":"{{text}}"}' })[0], /^body: needs the recipient/);
    assert.match(problems({ url: gw.url, from: 'G', body: '{"to":"{{to}}","text":"{{text}}","x":"{{password}}"}' })[0], /^body: unknown placeholder/);
    assert.match(problems({ url: gw.url, from: 'G', authHeader: 'Host' })[0], /^authHeader:/);
    assert.match(problems({ url: gw.url, from: 'G', authHeader: 'X-Key\r\nInjected: 1' })[0], /^authHeader:/);
    assert.match(problems({ url: gw.url, from: 'G', timeoutSeconds: 0 })[0], /^timeoutSeconds:/);
    assert.match(problems({ url: gw.url, from: 'G', textNl: 'Uw afspraak is morgen' })[0], /^textNl: needs \{\{link\}\}/);
    assert.match(problems({ url: gw.url, from: 'G', textEn: '{{link}} {{name}}' })[0], /^textEn: unknown placeholder/);
    assert.deepEqual(problems({ url: 'http://localhost:9000/sms', from: '+31612345678', textNl: '{{municipality}}: {{link}}' }), []);
  });
});
