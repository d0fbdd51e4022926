import { limitedFetch } from '../oidc/http-limits';
import { text, urlProblem } from '../auth/method';
import type { IdContactCore } from './config';
import { TAG_RE } from './core-fields';

/**
 * ID Video's calls to an ID Contact core, as the core's API defines them (id-contact/core src/options.rs and
 * src/start.rs; id-contact/docs webdocs/docs/sessions/auth_during_comm.md):
 *
 * - `GET /session_options/<purpose>` -> `{auth_methods: [{tag, name, image_path}], comm_methods: [...]}`; during a
 *   communication session only `auth_methods` matter.
 * - `POST /start` with `Content-Type: application/json`, `Accept: application/json` and `{purpose, auth_method,
 *   comm_url, attr_url}` -> `{client_url}` (without that Accept header the core answers with a redirect instead).
 *
 * Every answer is bounded in time and size and checked for shape; anything else is a CoreUnavailableError, whose
 * message names what was wrong with the answer but never repeats it.
 */

export class CoreUnavailableError extends Error {
  constructor(readonly what: 'unreachable' | 'refused' | 'garbage') {
    super(`the ID Contact core ${what === 'unreachable' ? 'could not be reached' : what === 'refused' ? 'refused the request' : 'answered something that is not its protocol'}`);
    this.name = 'CoreUnavailableError';
  }
}

/** An auth method the core offers for the purpose. */
export interface CoreAuthMethod {
  tag: string;
  name: string;
  /** Absolute URL of its image on the core's own origin, or undefined when it is elsewhere or malformed. */
  imageUrl?: string;
}

export interface CoreClientOptions {
  /** Deadline per call (default 5 s, as the core itself gives its plugins). */
  timeoutMs?: number;
  /** Largest answer accepted (default 64 KB). */
  maxBytes?: number;
}

const MAX_METHODS = 20;

async function call(url: string, init: { method: 'GET' | 'POST'; body?: string }, o: CoreClientOptions): Promise<unknown> {
  const fetchLimited = limitedFetch({ timeoutMs: o.timeoutMs ?? 5000, maxBytes: o.maxBytes ?? 64 * 1024 });
  let res: Response;
  try {
    res = await fetchLimited(url, {
      method: init.method,
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  } catch {
    throw new CoreUnavailableError('unreachable');
  }
  if (res.status >= 300 && res.status < 400) throw new CoreUnavailableError('garbage'); // redirects are not followed
  if (!res.ok) throw new CoreUnavailableError(res.status >= 500 ? 'unreachable' : 'refused');
  if (!/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) throw new CoreUnavailableError('garbage');
  try {
    return (await res.json()) as unknown;
  } catch {
    throw new CoreUnavailableError('garbage');
  }
}

/**
 * The auth methods the core offers for the configured purpose. Entries with an unusable tag or name are left out;
 * an answer without a list, or with none usable, is garbage. Images off the core's origin are dropped.
 */
export async function fetchSessionOptions(core: IdContactCore, o: CoreClientOptions = {}): Promise<CoreAuthMethod[]> {
  const body = await call(`${core.coreUrl}/session_options/${encodeURIComponent(core.purpose)}`, { method: 'GET' }, o);
  const list = (body && typeof body === 'object' ? (body as { auth_methods?: unknown }).auth_methods : undefined) as unknown;
  if (!Array.isArray(list)) throw new CoreUnavailableError('garbage');
  const methods: CoreAuthMethod[] = [];
  for (const entry of list.slice(0, MAX_METHODS)) {
    const e = (entry && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    const name = text(e.name, 80);
    if (typeof e.tag !== 'string' || !TAG_RE.test(e.tag) || !name || methods.some((m) => m.tag === e.tag)) continue;
    let imageUrl: string | undefined;
    if (typeof e.image_path === 'string' && e.image_path.length <= 2000) {
      try {
        const u = new URL(e.image_path, `${core.coreUrl}/`);
        if (u.origin === core.coreOrigin && !u.username && !u.password) imageUrl = u.href;
      } catch {
        /* no image */
      }
    }
    methods.push({ tag: e.tag, name, ...(imageUrl ? { imageUrl } : {}) });
  }
  if (methods.length === 0) throw new CoreUnavailableError('garbage');
  return methods;
}

/**
 * Starts authentication during communication: the core asks the auth plugin for a session and answers where to send
 * the resident. Returns that `client_url` (https, or loopback http when the core is configured so).
 */
export async function startAuthentication(
  core: IdContactCore,
  input: { authMethod: string; commUrl: string; attrUrl: string },
  o: CoreClientOptions = {},
): Promise<string> {
  // Exactly the StartRequestAuthOnly body of the core (src/start.rs); nothing else is sent.
  const payload = JSON.stringify({ purpose: core.purpose, auth_method: input.authMethod, comm_url: input.commUrl, attr_url: input.attrUrl });
  const body = await call(`${core.coreUrl}/start`, { method: 'POST', body: payload }, o);
  const clientUrl = body && typeof body === 'object' ? (body as { client_url?: unknown }).client_url : undefined;
  if (typeof clientUrl !== 'string' || clientUrl.length > 8000 || urlProblem(clientUrl, core.allowInsecureLoopback)) throw new CoreUnavailableError('garbage');
  return clientUrl;
}
