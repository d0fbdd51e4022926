import * as fs from 'node:fs';
import * as path from 'node:path';
import { newToken } from '../security/tokens';
import type { Services } from '../services';

const FILE = '.instance-id';
const ID = /^[A-Za-z0-9_-]{22}$/;
const KEY = 'runtime.instance-id';

/**
 * This instance's id, kept in `IDV_DATA_DIR/.instance-id` (each instance has its own data dir, also when several
 * share one PostgreSQL database later). Leases on outbox mails and events carry it, so a restarted instance knows
 * which leases its own previous run held (that process is gone: reclaim at once) and which belong to another
 * instance (leave them until they expire). When the file cannot be written, a per-process id is used and the
 * caller is told, so only the immediate reclaim is lost, never correctness.
 */
export function loadOrCreateInstanceId(dataDir: string): { id: string; persisted: boolean } {
  const file = path.join(dataDir, FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (ID.test(existing)) return { id: existing, persisted: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { id: newToken(16), persisted: false };
  }
  const id = newToken(16);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, `${id}\n`, { mode: 0o600 });
    return { id, persisted: true };
  } catch {
    return { id, persisted: false };
  }
}

/** The instance id of this process (read or created once). */
export function instanceIdOf(services: Pick<Services, 'memo' | 'config' | 'log'>): string {
  return services.memo(KEY, () => {
    const { id, persisted } = loadOrCreateInstanceId(services.config.dataDir);
    if (!persisted) services.log.warn(`could not keep the instance id in the data dir; after a restart, interrupted mails wait for their lease`);
    return id;
  });
}
