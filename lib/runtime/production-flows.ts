import type { StaffAccount } from '../staff/types';

/**
 * What production refuses to run: flows that still hold the demo set-up of flows/flows.json. Bookings would go to
 * agents nobody signs in as, announcements to addresses that never deliver, and residents would read "Gemeente
 * Voorbeeld". Checked at start (the flows then stay stopped, the editor stays open to fix them), on every deploy from
 * the editor (refused with the list), and when flows start by another route (health turns red).
 */

/** The demo agents of the default flows (they have demo accounts in demo mode only). */
export const DEMO_AGENTS = ['agent1', 'agent2'] as const;
/** The municipality name of the default flows. */
export const DEMO_MUNICIPALITY = 'Gemeente Voorbeeld';

/**
 * Host names reserved for examples: the .example and .invalid top-level domains and example.com/.net/.org (RFC 2606,
 * RFC 6761). Mail to them is never delivered. (.test is left alone: tests use it, and it is no example a gemeente
 * would copy.)
 */
const EXAMPLE_HOST = /(?:^|[@/.\s=])((?:[a-z0-9-]+\.)*(?:[a-z0-9-]+\.(?:example|invalid)|example\.(?:com|net|org)))(?![a-z0-9.-]*[a-z0-9])/i;

/** Editor bookkeeping and free text that may name example domains in prose. */
const SKIPPED = new Set(['id', 'type', 'z', 'x', 'y', 'g', 'wires', 'info', 'd']);

function label(node: Record<string, unknown>): string {
  const name = typeof node.name === 'string' && node.name ? ` "${node.name.slice(0, 60)}"` : '';
  return `${String(node.type)}${name}`;
}

/** Every string in a node's settings with the path it sits at (e.g. `agents[1].username`). */
function strings(value: unknown, at: string, out: [string, string][], depth = 0): void {
  if (depth > 6) return;
  if (typeof value === 'string') out.push([at, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${at}[${i}]`, out, depth + 1));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) strings(v, at ? `${at}.${k}` : k, out, depth + 1);
  }
}

function agentsOf(node: Record<string, unknown>): string[] {
  const list = Array.isArray(node.agents) ? node.agents : [];
  return list
    .map((a) => (typeof a === 'string' ? a : a && typeof a === 'object' ? (a as { username?: unknown }).username : undefined))
    .filter((u): u is string => typeof u === 'string' && u.trim() !== '')
    .map((u) => u.trim());
}

/**
 * The problems that keep flows out of production, one line each, naming the node and the setting. `flows` is the
 * flows file's content (a list of nodes, or `{flows: [...]}`); `accounts` the staff accounts (disabled ones too).
 * Only our idv-* nodes are looked at.
 */
export function productionFlowProblems(flows: unknown, accounts: readonly StaffAccount[]): string[] {
  const list = Array.isArray(flows) ? flows : flows && typeof flows === 'object' && Array.isArray((flows as { flows?: unknown }).flows) ? (flows as { flows: unknown[] }).flows : [];
  const byName = new Map(accounts.map((a) => [a.username.toLowerCase(), a]));
  const problems: string[] = [];
  for (const raw of list) {
    if (!raw || typeof raw !== 'object') continue;
    const node = raw as Record<string, unknown>;
    if (typeof node.type !== 'string' || !node.type.startsWith('idv-') || node.d === true) continue;
    if (node.type === 'idv-schedule') {
      const agents = agentsOf(node);
      const demo = agents.filter((u) => (DEMO_AGENTS as readonly string[]).includes(u.toLowerCase()) && !byName.has(u.toLowerCase()));
      if (demo.length) {
        problems.push(`${label(node)}: ${demo.join(', ')} ${demo.length > 1 ? 'are the demo agents' : 'is a demo agent'} of the default flows; list your own agents' staff usernames`);
      }
      for (const u of agents.filter((x) => !demo.includes(x))) {
        const account = byName.get(u.toLowerCase());
        if (!account) problems.push(`${label(node)}: agent "${u.slice(0, 64)}" has no staff account (create it with staff-account add)`);
        else if (!account.roles.includes('agent')) problems.push(`${label(node)}: staff account "${account.username}" lacks the agent role`);
      }
    }
    if (node.type === 'idv-settings' && typeof node.municipality === 'string' && node.municipality.trim() === DEMO_MUNICIPALITY) {
      problems.push(`${label(node)}: municipality is still "${DEMO_MUNICIPALITY}" from the default flows`);
    }
    const found: [string, string][] = [];
    for (const [key, value] of Object.entries(node)) if (!SKIPPED.has(key)) strings(value, key, found);
    // A list setting (agentEmails since settings version 2) is named once, not per entry.
    const named = new Set<string>();
    for (const [at, text] of found) {
      const m = EXAMPLE_HOST.exec(text);
      const where = at.replace(/\[\d+\].*$/, '');
      if (m && !named.has(`${where} ${m[1].toLowerCase()}`)) {
        named.add(`${where} ${m[1].toLowerCase()}`);
        problems.push(`${label(node)}: ${where} uses the example domain ${m[1].toLowerCase()}, which never receives mail or visitors`);
      }
    }
  }
  return problems;
}
