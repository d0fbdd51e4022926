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

/** A node of a flow file, as Node-RED stores it. */
export type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string };

/** What Import → Examples does to a flow: every node gets a new id, and references follow. */
export function importCopy(flow: FlowNode[], prefix: string): FlowNode[] {
  const ids = new Map(flow.map((n) => [n.id, `${prefix}${n.id}`]));
  return JSON.parse(JSON.stringify(flow), (_k, v: unknown) => (typeof v === 'string' && ids.has(v) ? ids.get(v) : v)) as FlowNode[];
}

/**
 * A node of this flow that waits for a credential an import lacks: an idv-request-auth node offering a
 * client_secret_basic method or an ID Contact core, an idv-idcontact-session node on a core (its decryption key), or an
 * idv-register-contact node on an Open Klant (its API token).
 */
export function waitsForCredentials(flow: FlowNode[], id: string): boolean {
  const node = flow.find((n) => n.id === id);
  const isCore = (ref: unknown) => flow.some((m) => m.id === ref && m.type === 'idv-idcontact-core');
  if (node?.type === 'idv-idcontact-session') return isCore(node.core);
  // Open Klant's API token.
  if (node?.type === 'idv-register-contact') return flow.some((m) => m.id === node.openklant && m.type === 'idv-openklant');
  if (node?.type !== 'idv-request-auth') return false;
  if (isCore(node.idcontact)) return true;
  return ['method1', 'method2', 'method3', 'method4'].some((slot) => flow.some((m) => m.id === node[slot] && m.clientAuth === 'client_secret_basic'));
}
