/**
 * Preload for the runtime under test (`node --require dist/test/support/route-census.js dist/settings.js`): lists
 * every route the real runtime's express apps hold, so the crawl test covers routes added later without a hand list.
 *
 * Express 4 keeps no mount path strings (only compiled regexps) and hides mounted sub-apps (Node-RED's httpAdmin and
 * httpNode, the editor's own apps) in closures. So, before express loads, this wraps every express copy's Layer to
 * remember the path it was given and `app.use` to remember which sub-app a mount layer runs. On SIGUSR2 it walks the
 * stacks from the app the HTTP server was created with and writes JSON to IDV_ROUTE_CENSUS_FILE.
 */
import * as fs from 'node:fs';
import http from 'node:http';
import Module from 'node:module';

export interface CensusEntry {
  /** 'route' (a method handler), 'use' (middleware or a router/app mounted at a path). */
  kind: 'route' | 'use';
  /** Upper-case methods for routes ('ALL' for app.all); empty for 'use'. */
  methods: string[];
  /** The full path as a pattern: literal segments and :params; a RegExp's literal prefix followed by '*'. */
  path: string;
  /** For routes: the names of the handler functions in the chain (markers such as `idvCallMemory` among them). */
  handlers?: string[];
}

type Traced = { __path?: unknown; __subApp?: unknown; route?: { path: unknown; methods: Record<string, boolean>; stack?: { handle?: { name?: string } }[] }; handle?: unknown };
type StackOwner = { stack?: Traced[] };
type AppLike = { _router?: StackOwner; handle?: unknown; set?: unknown };

const wrapped = new Map<string, unknown>();
const moduleApi = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown; _resolveFilename(request: string, parent: unknown, isMain: boolean): string };
const load = moduleApi._load;

function traceLayer(Layer: (this: Traced, path: unknown, options: unknown, fn: unknown) => unknown) {
  function TracedLayer(this: Traced, path: unknown, options: unknown, fn: unknown): unknown {
    if (!(this instanceof TracedLayer)) return new (TracedLayer as unknown as new (p: unknown, o: unknown, f: unknown) => Traced)(path, options, fn);
    Layer.call(this, path, options, fn);
    this.__path = path;
    return undefined;
  }
  TracedLayer.prototype = (Layer as unknown as { prototype: object }).prototype;
  return TracedLayer;
}

function traceUse(proto: { use: (...args: unknown[]) => unknown }) {
  const use = proto.use;
  proto.use = function (this: AppLike, ...args: unknown[]) {
    const before = this._router?.stack?.length ?? 0;
    const ret = use.apply(this, args);
    const apps = (args.flat(Infinity) as AppLike[]).filter((f) => f && typeof f.handle === 'function' && typeof f.set === 'function');
    const fresh = (this._router?.stack ?? []).slice(before).filter((l) => (l.handle as { name?: string } | undefined)?.name === 'mounted_app');
    fresh.forEach((l, i) => {
      if (apps[i]) l.__subApp = apps[i];
    });
    return ret;
  };
}

moduleApi._load = function (request: string, parent: unknown, isMain: boolean) {
  const exported = load.call(this, request, parent, isMain);
  if (!request.endsWith('layer') && !request.endsWith('layer.js') && !request.endsWith('application') && !request.endsWith('application.js') && !request.endsWith('./application')) return exported;
  let filename: string;
  try {
    filename = moduleApi._resolveFilename(request, parent, isMain);
  } catch {
    return exported;
  }
  if (/[\\/]express[\\/]lib[\\/]router[\\/]layer\.js$/.test(filename)) {
    if (!wrapped.has(filename)) wrapped.set(filename, traceLayer(exported as never));
    return wrapped.get(filename);
  }
  if (/[\\/]express[\\/]lib[\\/]application\.js$/.test(filename) && !wrapped.has(filename)) {
    wrapped.set(filename, exported);
    traceUse(exported as { use: (...args: unknown[]) => unknown });
  }
  return exported;
};

let rootApp: AppLike | undefined;
const createServer = http.createServer;
(http as { createServer: unknown }).createServer = function (...args: unknown[]) {
  const listener = args.find((a) => typeof a === 'function') as AppLike | undefined;
  if (listener && !rootApp) rootApp = listener;
  return (createServer as (...a: unknown[]) => http.Server)(...args);
};

/** "/a/:id" stays; a RegExp becomes its literal prefix plus "*"; "/" joins cleanly. */
function pathText(p: unknown): string {
  if (typeof p === 'string') return p === '/' ? '' : p.replace(/\/$/, '');
  if (p instanceof RegExp) {
    const literal = /^\^?((?:\\\/|[A-Za-z0-9_-])*)/.exec(p.source)?.[1] ?? '';
    return `${literal.replace(/\\\//g, '/').replace(/\/$/, '')}/*`;
  }
  if (Array.isArray(p)) return pathText(p[0]);
  return '';
}

function walk(stack: Traced[], prefix: string, out: CensusEntry[], seen: Set<unknown>): void {
  for (const layer of stack) {
    const here = prefix + pathText(layer.__path);
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m]).map((m) => (m === '_all' ? 'ALL' : m.toUpperCase()));
      const handlers = (layer.route.stack ?? []).map((l) => l.handle?.name ?? '').filter(Boolean);
      out.push({ kind: 'route', methods, path: prefix + pathText(layer.route.path) || '/', handlers });
      continue;
    }
    const inner = (layer.__subApp as AppLike | undefined)?._router?.stack ?? (layer.handle as StackOwner | undefined)?.stack;
    if (inner && !seen.has(inner)) {
      seen.add(inner);
      walk(inner, here, out, seen);
      seen.delete(inner);
    } else if (here) {
      out.push({ kind: 'use', methods: [], path: here });
    }
  }
}

/** The routes of the app the HTTP server runs, de-duplicated. */
export function census(): CensusEntry[] {
  const out: CensusEntry[] = [];
  if (rootApp?._router?.stack) walk(rootApp._router.stack, '', out, new Set());
  const key = (e: CensusEntry) => `${e.kind} ${e.methods.join(',')} ${e.path}`;
  return [...new Map(out.map((e) => [key(e), e])).values()];
}

process.on('SIGUSR2', () => {
  const file = process.env.IDV_ROUTE_CENSUS_FILE;
  if (!file) return;
  // Written aside and renamed: the test polls for the file and must never read it half-written.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(census()));
  fs.renameSync(`${file}.tmp`, file);
});
