import { createHash } from 'node:crypto';
import { limitedFetch } from '../oidc/http-limits';

/**
 * Images of the auth methods an ID Contact core offers (its `image_path`), shown in the resident's pop-up. The call
 * page's CSP allows images from our own origin only, and the resident's browser should not call the core by itself:
 * so ID Video fetches each image once from the core's origin (nothing else is asked for), bounded in size, time and
 * count, and serves it under /auth/logos/idc/<id> with headers that keep an SVG inert.
 */

export const IDC_LOGO_PATH = '/auth/logos/idc/';

const TYPES = new Set(['image/svg+xml', 'image/png', 'image/jpeg', 'image/webp', 'image/gif']);

interface Logo {
  type: string;
  bytes: Buffer;
  at: number;
}

export class CoreLogos {
  private readonly byId = new Map<string, Logo>();
  private readonly fetchImage = limitedFetch({ timeoutMs: 3000, maxBytes: 64 * 1024 });

  constructor(private readonly o: { maxLogos?: number; ttlMs?: number; now?: () => number } = {}) {}

  /** The path to show for this image URL (fetched now if not held), or undefined when it cannot be had. */
  async pathFor(imageUrl: string): Promise<string | undefined> {
    const id = createHash('sha256').update(imageUrl).digest('hex').slice(0, 32);
    const now = (this.o.now ?? Date.now)();
    const held = this.byId.get(id);
    if (held && now - held.at < (this.o.ttlMs ?? 3600_000)) return `${IDC_LOGO_PATH}${id}`;
    try {
      const res = await this.fetchImage(imageUrl, { method: 'GET', headers: { accept: [...TYPES].join(', ') } });
      const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!res.ok || !TYPES.has(type)) return held ? `${IDC_LOGO_PATH}${id}` : undefined;
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length === 0) return undefined;
      if (!held && this.byId.size >= (this.o.maxLogos ?? 50)) this.byId.delete(this.byId.keys().next().value as string);
      this.byId.set(id, { type, bytes, at: now });
      return `${IDC_LOGO_PATH}${id}`;
    } catch {
      return held ? `${IDC_LOGO_PATH}${id}` : undefined;
    }
  }

  /** The image held under this id (for the route), or undefined. */
  get(id: string): { type: string; bytes: Buffer } | undefined {
    const l = /^[0-9a-f]{32}$/.test(id) ? this.byId.get(id) : undefined;
    return l ? { type: l.type, bytes: l.bytes } : undefined;
  }
}
