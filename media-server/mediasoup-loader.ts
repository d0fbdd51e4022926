import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Mediasoup from 'mediasoup';

export type MediasoupModule = typeof Mediasoup;

const PACKAGE_NAME = '@idvideo/node-red-id-video';

/** The package root: the nearest folder above this file whose package.json is ours (works from dist/ and source). */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === PACKAGE_NAME) return dir;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

/** Where scripts/provision-mediasoup-worker.js provisions: the worker wrapper, and mediasoup's JS when npm dropped it. */
function provisionDir(): string {
  return path.join(packageRoot(), '.media-worker');
}

/** Where scripts/provision-mediasoup-worker.js puts its wrapper. */
export function defaultWorkerBin(): string {
  return path.join(provisionDir(), 'mediasoup-worker');
}

/**
 * The one command that provisions what is missing, as the person reading the message should type it: inside a Node-RED
 * user directory (the package lies in its node_modules) the package's bin entry, in a checkout of this repository the
 * script itself.
 */
export function provisionCommand(): { short: string; full: string } {
  const root = packageRoot();
  const parts = root.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at > 0) {
    const projectDir = parts.slice(0, at).join(path.sep) || path.sep;
    return { short: 'npx idv-provision-worker', full: `cd ${projectDir} && npx idv-provision-worker` };
  }
  return { short: 'node scripts/provision-mediasoup-worker.js', full: `cd ${root} && node scripts/provision-mediasoup-worker.js` };
}

/**
 * The media worker (or mediasoup itself) is not installed: install scripts were blocked (Node-RED's palette, npm's
 * allowScripts), or there was no Debian apt to fetch it with. Carries the command that fixes it, so the runtime log and
 * the dashboard node's status can say exactly what to run.
 */
export class MediaWorkerMissingError extends Error {
  readonly command: string;
  constructor(what: string) {
    const { short, full } = provisionCommand();
    super(`${what}. Run: ${full} (or set MEDIASOUP_WORKER_BIN to a mediasoup-worker 3.8.4 binary), then restart Node-RED`);
    this.name = 'MediaWorkerMissingError';
    this.command = short;
  }
}

/**
 * Throws a clear error when that file is not an executable, so a missing worker is found at start-up and not at the
 * first call.
 */
export function resolveWorkerBin(explicit?: string): string {
  const bin = explicit || process.env.MEDIASOUP_WORKER_BIN || defaultWorkerBin();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    if (!fs.statSync(bin).isFile()) throw new Error('not a file');
  } catch {
    throw new MediaWorkerMissingError(`mediasoup worker binary not found or not executable at ${bin}`);
  }
  return path.resolve(bin);
}

/**
 * mediasoup's entry point: installed beside us as usual, or (when npm dropped the optional dependency because its own
 * install script failed) the copy the provisioning script installed without scripts under .media-worker/js.
 */
export function resolveMediasoup(): string {
  for (const paths of [[__dirname], [path.join(provisionDir(), 'js')]]) {
    try {
      return require.resolve('mediasoup', { paths });
    } catch {
      // not there: try the next place
    }
  }
  throw new MediaWorkerMissingError('the mediasoup package (3.8.4) is not installed');
}

let loaded: { mod: MediasoupModule; workerBin: string } | undefined;

/**
 * Requires mediasoup with its worker path set. mediasoup 3.8.4 has no per-worker binary option: lib/Worker.js reads
 * MEDIASOUP_WORKER_BIN once, when it is first required. So the variable is set right before the first require, here
 * and nowhere else, and a later request for a different binary in the same process is refused rather than silently
 * ignored.
 */
export function loadMediasoup(workerBin: string): MediasoupModule {
  if (loaded) {
    if (loaded.workerBin !== workerBin) {
      throw new Error(`mediasoup is already loaded with worker ${loaded.workerBin}; one worker binary per process`);
    }
    return loaded.mod;
  }
  const main = resolveMediasoup();
  const workerModule = path.join(path.dirname(main), 'Worker.js');
  if (require.cache[workerModule] && process.env.MEDIASOUP_WORKER_BIN !== workerBin) {
    throw new Error('mediasoup was required outside media-server/ before its worker path was set');
  }
  process.env.MEDIASOUP_WORKER_BIN = workerBin;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(main) as MediasoupModule;
  loaded = { mod, workerBin };
  return mod;
}
