import type { BackoffOptions } from '../outbox/worker';
import { runOutboxWorker } from '../outbox/runtime';
import { instanceIdOf } from '../runtime/instance';
import type { Services } from '../services';
import { SmsOutbox, type SmsSender } from './outbox';

/**
 * The process-wide SMS service: one persistent SMS outbox and its worker for the whole runtime, and the gateways the
 * deployed idv-sms-gateway config nodes offer (by node id). An SMS names its gateway; while that node is not
 * deployed the SMS waits (ENOGATEWAY) within its attempt budget. Made on first use: a runtime without SMS
 * configuration runs no SMS worker.
 */
export interface SmsService {
  readonly outbox: SmsOutbox;
  /** A config node offers its gateway; the returned function withdraws it (node close). The latest offer wins. */
  offer(gatewayId: string, sender: SmsSender): () => void;
  /** Whether a gateway of this id is deployed and valid now. */
  has(gatewayId: string): boolean;
}

export interface SmsServiceOptions {
  backoff?: BackoffOptions;
  pollMs?: number;
  leaseMs?: number;
  faultBackoff?: { initialMs?: number; maxMs?: number };
}

const KEY = 'idv.sms-service';

/** The SMS service of this process. The options count only for the first call (tests pass short backoff). */
export function smsServiceOf(services: Services, options: SmsServiceOptions = {}): SmsService {
  return services.memo(KEY, () => createSmsService(services, options));
}

function createSmsService(services: Services, options: SmsServiceOptions): SmsService {
  const gateways = new Map<string, SmsSender>();
  const outbox = new SmsOutbox({
    store: services.store.smsOutbox,
    gateway: (id) => gateways.get(id),
    // An SMS is worth less the later it comes: 10 attempts from 30 s doubling to at most 30 min span about 2.5 hours.
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.faultBackoff ? { faultBackoff: options.faultBackoff } : {}),
    instanceId: instanceIdOf(services),
  });
  runOutboxWorker(services, outbox, { name: 'SMS outbox', health: 'sms', onClose: () => gateways.clear() });

  return {
    outbox,
    offer(gatewayId, sender) {
      gateways.set(gatewayId, sender);
      // What is due goes now (a gateway deployed after a restart finds its queue waiting).
      void outbox.kick();
      return () => {
        if (gateways.get(gatewayId) === sender) gateways.delete(gatewayId);
      };
    },
    has: (gatewayId) => gateways.has(gatewayId),
  };
}
