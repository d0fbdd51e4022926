import * as fs from 'node:fs';

// Open around the clock: a test that books "the second day offered" finds a full day at any hour, on any weekday
// and across DST (the first day offered may hold a single slot late in the evening).
const everyDay = [{ from: '00:00', to: '24:00' }];

/**
 * The configuration every e2e flow file needs: a tab `tab`, settings `settings` (Gemeente Testdorp) and a schedule
 * `schedule` open around the clock every day with agent1 (Anna de Vries). Tests add their own nodes, so they do not depend
 * on what flows/flows.json holds today.
 */
export function baseFlows(label: string): Record<string, unknown>[] {
  return [
    { id: 'tab', type: 'tab', label },
    { id: 'settings', type: 'idv-settings', z: 'tab', municipality: 'Gemeente Testdorp', publicUrl: '', fromAddress: 'video@testdorp.example', attributeTtlMinutes: 15 },
    {
      id: 'schedule',
      type: 'idv-schedule',
      z: 'tab',
      openingHours: { mon: everyDay, tue: everyDay, wed: everyDay, thu: everyDay, fri: everyDay, sat: everyDay, sun: everyDay },
      slotMinutes: 30,
      minNoticeMinutes: 60,
      horizonDays: 30,
      dutchHolidays: false,
      agents: [{ username: 'agent1', displayName: 'Anna de Vries' }],
    },
  ];
}

/**
 * The shipped default flows (flows/flows.json) with the schedule open around the clock without notice and links that
 * open a day ahead, so an appointment booked now can be held now whatever time the tests run.
 */
export function defaultFlowsOpenNow(root: string): Record<string, unknown>[] {
  const flows = JSON.parse(fs.readFileSync(`${root}/flows/flows.json`, 'utf8')) as Record<string, unknown>[];
  const allDay = [{ from: '00:00', to: '24:00' }];
  for (const n of flows) {
    if (n.type === 'idv-schedule') {
      n.openingHours = { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay };
      n.minNoticeMinutes = 0;
      n.dutchHolidays = false;
    }
    if (n.type === 'idv-session-link') n.openBeforeMinutes = 1440;
  }
  return flows;
}

/**
 * defaultFlowsOpenNow made fit for production, as an administrator would: the agent is a real staff account, and no
 * example domain or demo municipality is left (production refuses the default flows' demo set-up).
 */
export function productionFlows(root: string, agent: { username: string; displayName: string; email: string }): Record<string, unknown>[] {
  const flows = defaultFlowsOpenNow(root);
  for (const n of flows) {
    if (n.type === 'idv-settings') Object.assign(n, { name: 'Gemeente Testdorp', municipality: 'Gemeente Testdorp', fromAddress: 'videobellen@testdorp.test' });
    if (n.type === 'idv-schedule') n.agents = [{ username: agent.username, displayName: agent.displayName }];
    if (n.type === 'idv-session-link') n.agentEmails = `${agent.username}=${agent.email}`;
  }
  return flows;
}
