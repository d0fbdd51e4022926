import * as fs from 'node:fs';
import helper from 'node-red-node-test-helper';
import supertest from 'supertest';
import { loadConfig } from '../../lib/config';
import { currentServices, initServices, type Services } from '../../lib/services';
import { tempDir } from './runtime';

helper.init(require.resolve('node-red'));

export { helper };

/**
 * Process-wide services for node tests, in a fresh temp data dir (real SQLite file). Call in `before`, and
 * `stopServices` in `after`.
 */
export function startServices(env: Record<string, string> = {}): Services {
  const dataDir = tempDir('idv-nodes-');
  const config = loadConfig({ IDV_MODE: 'demo', IDV_DATA_DIR: dataDir, PORT: '1880', ...env });
  return initServices({ config, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
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
