import assert from 'node:assert/strict';
import { helper, startServices, stopServices } from '../support/node-red';
import { currentServices } from '../../lib/services';
import type { ScheduleNode, SettingsNode } from '../../nodes/common/config-nodes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settingsNode = require('../../nodes/idv-settings/idv-settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scheduleNode = require('../../nodes/idv-schedule/idv-schedule');

const day = [{ from: '09:00', to: '12:30' }, { from: '13:00', to: '17:00' }];

describe('config nodes', () => {
  before(() => startServices());
  after(async () => {
    await helper.unload();
    await stopServices();
  });
  afterEach(() => helper.unload());

  it('idv-schedule accepts a valid schedule and exposes it', async () => {
    await helper.load(scheduleNode, [
      { id: 's1', type: 'idv-schedule', openingHours: { mon: day, fri: day }, slotMinutes: '30', horizonDays: 30, agents: [{ username: 'agent1', displayName: 'A' }] },
    ]);
    const n = helper.getNode('s1') as unknown as ScheduleNode;
    assert.deepEqual(n.problems, []);
    assert.equal(n.schedule?.slotMinutes, 30);
    assert.equal(n.schedule?.openingHours.mon?.length, 2);
  });

  it('idv-schedule with bad values has no schedule and says what is wrong', async () => {
    await helper.load(scheduleNode, [
      { id: 's2', type: 'idv-schedule', openingHours: { mon: [{ from: '25:00', to: '17:00' }] }, slotMinutes: 3, agents: [] },
    ]);
    const n = helper.getNode('s2') as unknown as ScheduleNode;
    assert.equal(n.schedule, undefined);
    assert.ok(n.problems.some((p) => p.startsWith('slotMinutes')), n.problems.join('\n'));
    assert.ok(n.problems.some((p) => p.startsWith('agents')), n.problems.join('\n'));
    assert.ok(n.problems.some((p) => p.includes('openingHours')), n.problems.join('\n'));
  });

  it('idv-settings validates and sets the branding', async () => {
    await helper.load(settingsNode, [
      { id: 'c1', type: 'idv-settings', municipality: 'Gemeente Testdorp', publicUrl: 'https://video.testdorp.nl/', fromAddress: 'video@testdorp.nl', attributeTtlMinutes: 10, smtpHost: 'mail.testdorp.nl', smtpPort: 587 },
    ], { c1: { smtpUser: 'u', smtpPassword: 'secret-password' } });
    const n = helper.getNode('c1') as unknown as SettingsNode;
    assert.deepEqual(n.problems, []);
    assert.equal(n.settings?.publicUrl, 'https://video.testdorp.nl');
    assert.equal(n.settings?.smtp?.pass, 'secret-password');
    assert.equal(currentServices()?.branding().municipality, 'Gemeente Testdorp');
  });

  it('idv-settings refuses a bad sender, TTL and URL', async () => {
    await helper.load(settingsNode, [
      { id: 'c2', type: 'idv-settings', municipality: 'X', publicUrl: 'javascript:alert(1)', fromAddress: 'a@b.nl, c@d.nl', attributeTtlMinutes: 0 },
    ]);
    const n = helper.getNode('c2') as unknown as SettingsNode;
    assert.equal(n.settings, undefined);
    assert.equal(n.problems.length, 3, n.problems.join('\n'));
  });
});
