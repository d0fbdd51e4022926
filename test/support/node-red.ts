import * as fs from 'node:fs';
import helper from 'node-red-node-test-helper';
import supertest from 'supertest';
import { loadConfig } from '../../lib/config';
import { currentServices, initServices, type Services } from '../../lib/services';
import { tempDir } from './runtime';
import { serverLogger, type WatchedLog } from './server-log';

helper.init(require.resolve('node-red'));

export { helper };

let watched: WatchedLog | undefined;

/**
 * Process-wide services for node tests, in a fresh temp data dir (real SQLite file). Call in `before`, and
 * `stopServices` in `after`. Their warnings and errors fail the test unless it expects them (`servicesLog()`,
 * test/support/server-log.ts).
 */
export function startServices(env: Record<string, string> = {}): Services {
  const dataDir = tempDir('idv-nodes-');
  const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '1880', ...env });
  const log = serverLogger(`services (${dataDir})`);
  watched = log.watched;
  return initServices({ config, log });
}

/** The warn/error lines of the services `startServices` made last. */
export function servicesLog(): WatchedLog {
  if (!watched) throw new Error('startServices first');
  return watched;
}

export async function stopServices(): Promise<void> {
  const s = currentServices();
  if (!s) return;
  const dir = s.config.dataDir;
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** supertest against the httpNode app the loaded nodes mounted their routes on. */
export function httpNode() {
  const app = currentServices()?.app();
  if (!app) throw new Error('no httpNode app yet: load a flow with one of our nodes first');
  return supertest(app);
}
