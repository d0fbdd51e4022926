import { EventEmitter } from 'node:events';
import type { Services } from '../services';

const KEY = 'booking.cancel-routes';

/**
 * Which resident booking node serves cancel pages (`<path>/annuleren/<token>`) at which path, right now. Resident
 * booking nodes register while they run; the hand-off builds cancel links from here, so a link always points at a
 * route that answers, and a KCC node whose `residentPath` nobody serves can say so (status red) instead of letting
 * residents hit a 404. Every resident node can cancel every appointment (they share the store), so any live path
 * works; the one that served the booking is preferred.
 */
export class CancelRoutes extends EventEmitter<{ change: [] }> {
  private readonly byNode = new Map<string, string>();

  /** A resident node serves cancel pages under `path`; returns the function that withdraws it (node close). */
  register(nodeId: string, path: string): () => void {
    this.byNode.set(nodeId, path);
    this.emit('change');
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // A node redeployed on a new path may register again before its old registration is withdrawn.
      if (this.byNode.get(nodeId) !== path) return;
      this.byNode.delete(nodeId);
      this.emit('change');
    };
  }

  /** True when some resident node serves cancel pages under this path. */
  serves(path: string): boolean {
    for (const p of this.byNode.values()) if (p === path) return true;
    return false;
  }

  /** The served paths, sorted (for messages and a deterministic choice). */
  paths(): string[] {
    return [...new Set(this.byNode.values())].sort();
  }

  /**
   * The path for a resident's cancel link: the current path of the node that took the booking (it may have moved),
   * else the path recorded with the booking if it is still served, else any served path; undefined when no resident
   * booking node runs at all.
   */
  resolve(source?: string | null, recordedPath?: string): string | undefined {
    if (source) {
      const own = this.byNode.get(source);
      if (own) return own;
    }
    if (recordedPath && this.serves(recordedPath)) return recordedPath;
    return this.paths()[0];
  }
}

export function cancelRoutesOf(services: Pick<Services, 'memo'>): CancelRoutes {
  return services.memo(KEY, () => new CancelRoutes().setMaxListeners(0));
}
