import type { NodeDef } from './node-red';

/** The nodes a message from `def` can go to next: its wires, and the link-in nodes a link-out or link-call names. */
function next(def: NodeDef): string[] {
  const out: string[] = [];
  if (Array.isArray(def.wires)) for (const port of def.wires as unknown[]) if (Array.isArray(port)) for (const id of port) if (typeof id === 'string') out.push(id);
  const linksTo = (def.type === 'link out' && def.mode !== 'return') || def.type === 'link call';
  if (linksTo && Array.isArray(def.links)) for (const id of def.links as unknown[]) if (typeof id === 'string') out.push(id);
  return out;
}

/**
 * Which nodes of `sourceType` can send a message to `targetId` in the deployed flows: along wires, through any node
 * in between (function, delay, switch, a subflow instance as one step), and through link-out/link-call to link-in.
 * Disabled nodes pass nothing. `all` lists every node of that type, so a caller can tell sources that exist but are
 * wired elsewhere from sources that no longer exist.
 */
export function upstreamOf(defs: readonly NodeDef[], targetId: string, sourceType: string): { reaching: string[]; all: string[] } {
  const byId = new Map(defs.map((d) => [d.id, d]));
  const all = defs.filter((d) => d.type === sourceType).map((d) => d.id);
  const reaching = all.filter((start) => {
    const seen = new Set<string>([start]);
    const queue = next(byId.get(start) as NodeDef);
    while (queue.length) {
      const id = queue.shift() as string;
      if (id === targetId) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const def = byId.get(id);
      if (def && def.d !== true) queue.push(...next(def));
    }
    return false;
  });
  return { reaching, all };
}
