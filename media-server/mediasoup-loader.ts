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

/** Where scripts/provision-mediasoup-worker.js puts its wrapper. */
export function defaultWorkerBin(): string {
  return path.join(packageRoot(), '.media-worker', 'mediasoup-worker');
}

/**
 * The worker binary to use: the explicit option, else a deployment's MEDIASOUP_WORKER_BIN, else the provisioned one.
 * Throws a clear error when that file is not an executable, so a missing worker is found at start-up and not at the
 * first call.
 */
export function resolveWorkerBin(explicit?: string): string {
  const bin = explicit || process.env.MEDIASOUP_WORKER_BIN || defaultWorkerBin();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    if (!fs.statSync(bin).isFile()) throw new Error('not a file');
  } catch {
    throw new Error(
      `mediasoup worker binary not found or not executable at ${bin}: run "node scripts/provision-mediasoup-worker.js" ` +
        'or set MEDIASOUP_WORKER_BIN to a mediasoup-worker 3.8.4 binary',
    );
  }
  return path.resolve(bin);
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
  const workerModule = require.resolve('mediasoup/lib/Worker');
  if (require.cache[workerModule] && process.env.MEDIASOUP_WORKER_BIN !== workerBin) {
    throw new Error('mediasoup was required outside media-server/ before its worker path was set');
  }
  process.env.MEDIASOUP_WORKER_BIN = workerBin;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('mediasoup') as MediasoupModule;
  loaded = { mod, workerBin };
  return mod;
}
