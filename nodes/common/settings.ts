import { migrateSettings } from '../../lib/node-config/migrations';
import type { Node, NodeDef } from './node-red';

/**
 * A node's definition brought to the current settings version (lib/node-config/migrations.ts), as a copy: flows saved
 * by an older version keep working without being edited. Settings from a newer version are used as they are, with a
 * warning.
 */
export function currentSettings(node: Node, def: NodeDef): NodeDef {
  const copy = { ...def };
  const m = migrateSettings(def.type, copy);
  if (m.newer) node.warn(`${def.type}: settings version ${m.from} is newer than this package knows (${m.to}); update @idvideo/node-red-id-video`);
  return copy;
}
