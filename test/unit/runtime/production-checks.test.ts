import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import express from 'express';
import request from 'supertest';
import { loadConfig, smtpTransportProblem } from '../../../lib/config';
import { deployCheck } from '../../../lib/editor/deploy-check';
import { productionFlowProblems } from '../../../lib/runtime/production-flows';
import type { StaffAccount } from '../../../lib/staff/types';
import { productionFlows } from '../../support/flows';
import { ROOT } from '../../support/runtime';

const account = (username: string, roles: StaffAccount['roles'] = ['agent']): StaffAccount => ({ username, displayName: username, roles, disabled: false });
const shipped = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'flows.json'), 'utf8')) as Record<string, unknown>[];

describe('production checks at start', () => {
  describe('the demo set-up in the flows (lib/runtime/production-flows.ts)', () => {
    it('names every demo part of the shipped default flows, by node and setting', () => {
      const problems = productionFlowProblems(shipped(), [account('anna')]);
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.ok(problems.some((p) => /^idv-schedule "Videobellen ma-vr": agent1, agent2 are the demo agents/.test(p)));
      assert.ok(problems.some((p) => /^idv-settings "Gemeente Voorbeeld": municipality is still "Gemeente Voorbeeld"/.test(p)));
      assert.ok(problems.some((p) => /^idv-settings .*: fromAddress uses the example domain gemeente-voorbeeld\.example/.test(p)));
      assert.ok(problems.some((p) => /^idv-session-link "Links en e-mail": agentEmails uses the example domain gemeente-voorbeeld\.example/.test(p)));
    });

    it('passes the same flows once an administrator has made them the gemeente\'s own', () => {
      assert.deepEqual(productionFlowProblems(productionFlows(ROOT, { username: 'anna', displayName: 'Anna', email: 'anna@gemeente.nl' }), [account('anna')]), []);
    });

    it('wants every agent to be a staff account with the agent role (names compared case-insensitively)', () => {
      const flows = productionFlows(ROOT, { username: 'Anna', displayName: 'Anna', email: 'anna@gemeente.nl' });
      assert.deepEqual(productionFlowProblems(flows, [account('anna')]), []);
      assert.match(productionFlowProblems(flows, [])[0], /agent "Anna" has no staff account/);
      assert.match(productionFlowProblems(flows, [account('anna', ['kcc'])])[0], /staff account "anna" lacks the agent role/);
      // A gemeente that really named an agent agent1 has the account: then it is no demo agent.
      const named = productionFlows(ROOT, { username: 'agent1', displayName: 'Eén', email: 'een@gemeente.nl' });
      assert.deepEqual(productionFlowProblems(named, [account('agent1')]), []);
    });

    it('finds example domains anywhere in our nodes (RFC 2606/6761), not in prose, other nodes or disabled nodes', () => {
      const node = (o: Record<string, unknown>) => [{ id: 'n', type: 'idv-settings', name: 'S', municipality: 'Gemeente X', ...o }];
      assert.match(productionFlowProblems(node({ privacyUrl: 'https://www.example.com/privacy' }), [])[0], /privacyUrl uses the example domain www\.example\.com/);
      assert.match(productionFlowProblems(node({ fromAddress: 'Video <video@mail.EXAMPLE>' }), [])[0], /example domain mail\.example/);
      assert.match(productionFlowProblems(node({ templates: { nl: { body: 'zie https://x.invalid/p' } } }), [])[0], /templates\.nl\.body uses the example domain x\.invalid/);
      assert.deepEqual(productionFlowProblems(node({ fromAddress: 'video@gemeente.nl', privacyUrl: 'https://examples.nl/p' }), []), []);
      assert.deepEqual(productionFlowProblems(node({ fromAddress: 'video@testdorp.test', info: 'like video@gemeente.example' }), []), []);
      assert.deepEqual(productionFlowProblems([{ id: 'f', type: 'function', func: 'x@y.example' }], []), []);
      assert.deepEqual(productionFlowProblems([{ id: 'n', type: 'idv-settings', d: true, fromAddress: 'a@b.example' }], []), []);
    });

    it('reads both shapes of a flows file and shrugs at garbage', () => {
      assert.equal(productionFlowProblems({ flows: shipped() }, []).length, 4);
      for (const junk of [null, 42, 'x', { flows: 'no' }, [null, 1, 'x', { type: 7 }]]) assert.deepEqual(productionFlowProblems(junk, []), []);
    });
  });

  describe('mail without TLS (SMTP_URL)', () => {
    const prod = (smtp: string, extra: Record<string, string> = {}) =>
      () => loadConfig({ IDV_MODE: 'production', IDV_PUBLIC_URL: 'https://video.gemeente.nl', IDV_CREDENTIAL_SECRET: 'x'.repeat(40), SMTP_URL: smtp, ...extra });

    it('takes TLS from the start, required STARTTLS, and plain SMTP to a relay on this machine', () => {
      for (const ok of ['smtps://u:p@smtp.gemeente.nl:465', 'smtp://u:p@smtp.gemeente.nl:587?requireTls=true', 'smtp://127.0.0.1:25', 'smtp://localhost:25', 'smtp://[::1]:25']) {
        assert.equal(smtpTransportProblem(ok), undefined, ok);
        assert.doesNotThrow(prod(ok), ok);
      }
    });

    it('refuses opportunistic STARTTLS and unchecked certificates in production, never echoing the password', () => {
      assert.throws(prod('smtp://relay:pa55word@smtp.gemeente.nl:587'), (e: Error) => /without TLS/.test(e.message) && !e.message.includes('pa55word'));
      assert.throws(prod('smtps://relay:pa55word@smtp.gemeente.nl:465?rejectUnauthorized=false'), (e: Error) => /NODE_EXTRA_CA_CERTS/.test(e.message) && !e.message.includes('pa55word'));
      assert.throws(prod('http://relay:pa55word@smtp.gemeente.nl'), (e: Error) => /must start with smtps:\/\/ or smtp:\/\//.test(e.message) && !e.message.includes('pa55word'));
    });

    it('lets an operator accept the risk explicitly; demo mode does not ask', () => {
      assert.doesNotThrow(prod('smtp://smtp.gemeente.nl:587', { IDV_SMTP_ALLOW_INSECURE: '1' }));
      assert.throws(prod('smtp://smtp.gemeente.nl:587', { IDV_SMTP_ALLOW_INSECURE: 'yes' }), /IDV_SMTP_ALLOW_INSECURE=1/);
      assert.doesNotThrow(() => loadConfig({ SMTP_URL: 'smtp://smtp.gemeente.nl:587' }));
    });
  });

  describe('deploys from the editor (lib/editor/deploy-check.ts)', () => {
    const app = () => {
      const a = express();
      a.use('/admin', deployCheck({
        sessions: { validate: async (t: unknown) => (t === 'admin-token' ? { username: 'beheer', permissions: '*' } : null) },
        problems: async (flows) => productionFlowProblems(flows, [account('anna')]),
        log: () => undefined,
      }));
      // Stands in for Node-RED's admin app: it must still get the body.
      a.post('/admin/flows', express.json(), (req, res) => res.status(204).setHeader('x-nodes', String((req.body as unknown[]).length)).end());
      return a;
    };

    it('refuses a signed-in administrator\'s deploy of the demo set-up with the list, as text the editor shows', async () => {
      const res = await request(app()).post('/admin/flows').set('authorization', 'Bearer admin-token').send(shipped());
      assert.equal(res.status, 400);
      assert.match(res.text, /^Production: the flows still hold the demo set-up\. Change: .*agent1, agent2 are the demo agents/);
      assert.ok(!/[<>]/.test(res.text.replace(/&lt;|&gt;/g, '')), 'no markup');
    });

    it('lets a good deploy through with its body, and leaves anyone else to Node-RED (no account names to strangers)', async () => {
      const good = productionFlows(ROOT, { username: 'anna', displayName: 'Anna', email: 'anna@gemeente.nl' });
      const ok = await request(app()).post('/admin/flows').set('authorization', 'Bearer admin-token').send(good);
      assert.equal(ok.status, 204);
      assert.equal(ok.headers['x-nodes'], String(good.length), 'Node-RED sees the parsed body');
      for (const auth of [undefined, 'Bearer wrong', 'Basic eDp5']) {
        const r = request(app()).post('/admin/flows').send(shipped());
        const res = await (auth ? r.set('authorization', auth) : r);
        assert.equal(res.status, 204, `${auth}: passed on unchecked`);
      }
      const reload = await request(app()).post('/admin/flows').set('authorization', 'Bearer admin-token').set('node-red-deployment-type', 'reload').send({});
      assert.equal(reload.status, 204);
    });
  });
});
