import type { Services } from '../services';

/** Who serves a path: enough to name the other node in a clash message. */
export interface RouteOwner {
  id: string;
  name?: string;
  type: string;
}

/**
 * Which node serves which public path. Express answers a path from the first router that matches, so a second node on
 * the same path (an imported example beside the running flow) would show "ready" and never be used: it must claim its
 * paths here, and a node whose path is taken goes red and says by whom. Paths clash when they are equal or one lies
 * under the other (/afspraak and /afspraak/extra). One registry per runtime (services.memo).
 */
export class RouteRegistry {
  private readonly claims = new Map<string, RouteOwner>();

  /** Claims the paths for `owner`; on a clash nothing is claimed and the first clashing owner is returned. */
  claim(paths: string[], owner: RouteOwner): { ok: true; release: () => void } | { ok: false; path: string; other: string; owner: RouteOwner } {
    for (const p of paths) {
      for (const [taken, other] of this.claims) {
        if (other.id !== owner.id && overlaps(p, taken)) return { ok: false, path: p, other: taken, owner: other };
      }
    }
    for (const p of paths) this.claims.set(p, owner);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const p of paths) if (this.claims.get(p)?.id === owner.id) this.claims.delete(p);
      },
    };
  }
}

function overlaps(a: string, b: string): boolean {
  const x = a.replace(/\/+$/, '') || '/';
  const y = b.replace(/\/+$/, '') || '/';
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

/** The runtime's route registry. */
export function routeRegistryOf(services: Services): RouteRegistry {
  return services.memo('http.routes', () => new RouteRegistry());
}

/** "the node "Boeken via website" (idv-book-appointment 3f2a…)" for clash messages. */
export function describeOwner(o: RouteOwner): string {
  return o.name ? `the node "${o.name}" (${o.type} ${o.id})` : `the ${o.type} node ${o.id}`;
}
