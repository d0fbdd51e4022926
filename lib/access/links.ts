import { createLinkService, type LinkService } from '../links';
import type { Services } from '../services';
import { createSqliteLinkStore } from '../store/sqlite/links';

const KEY = 'idv.link-service';
const PURGE_MS = 15 * 60_000;

/**
 * The process-wide link service on the runtime's database, with housekeeping: links and call sessions whose window
 * is over are removed every quarter of an hour, so stored hashes do not outlive their use.
 */
export function linkServiceOf(services: Services): LinkService {
  return services.memo(KEY, () => {
    const links = createLinkService({ store: createSqliteLinkStore(services.db) });
    const timer = setInterval(() => {
      links.purgeExpired().catch((e: Error) => services.log.warn(`link purge failed: ${e.message}`));
    }, PURGE_MS);
    timer.unref();
    services.onClose(() => clearInterval(timer));
    return links;
  });
}
