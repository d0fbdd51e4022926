import { createLinkService, type LinkService } from '../links';
import { startPeriodic } from '../runtime/periodic';
import type { Services } from '../services';
import { storeProbeOf } from '../store/health';

const KEY = 'idv.link-service';
const PURGE_MS = 15 * 60_000;

/**
 * The process-wide link service on the runtime's database, with housekeeping: links and call sessions whose window
 * is over are removed every quarter of an hour, so stored hashes do not outlive their use. While the store cannot
 * write, the purge backs off with one log line (lib/runtime/periodic.ts) and resumes when the store writes again.
 */
export function linkServiceOf(services: Services): LinkService {
  return services.memo(KEY, () => {
    const links = createLinkService({ store: services.store.links });
    const purge = startPeriodic({ name: 'link purge', everyMs: PURGE_MS, firstMs: PURGE_MS, log: services.log, run: () => links.purgeExpired() });
    const probe = storeProbeOf(services);
    const wake = () => purge.failing && purge.kick();
    probe.on('writable', wake);
    services.onClose(async () => {
      probe.off('writable', wake);
      await purge.stop();
    });
    return links;
  });
}
