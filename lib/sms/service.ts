import { EventEmitter } from 'node:events';
import type { BackoffOptions } from '../outbox/worker';
import { hashToken, safeEqual } from '../security/tokens';
import type { PresetName } from './gateway-config';
import { runOutboxWorker } from '../outbox/runtime';
import { instanceIdOf } from '../runtime/instance';
import type { Services } from '../services';
import { createSmsCatcher, type SmsCatcher } from './catcher';
import { SmsOutbox, type SmsSender } from './outbox';

/**
 * The process-wide SMS service: one persistent SMS outbox and its worker for the whole runtime, and the gateways the
 * deployed idv-sms-gateway config nodes offer (by node id). An SMS names its gateway; while that node is not
 * deployed the SMS waits (ENOGATEWAY) within its attempt budget. Made on first use: a runtime without SMS
 * configuration runs no SMS worker.
 */
export interface SmsService {
  readonly outbox: SmsOutbox;
  /**
   * A config node offers its gateway; the returned function withdraws it (node close). The latest offer wins.
   * `reports`: the gateway's request format and the secret of its delivery-report URL (lib/sms/delivery-route.ts).
   */
  offer(gatewayId: string, sender: SmsSender, reports?: { preset: PresetName; token: string }): () => void;
  /** Whether a gateway of this id is deployed and valid now. */
  has(gatewayId: string): boolean;
  /** The gateway whose delivery-report secret this is (compared in constant time with every deployed one), if any. */
  reportGateway(token: string): { id: string; preset: PresetName } | undefined;
  /** Delivery reports that said an SMS did not arrive (ids and codes only), for idv-session-link's output 2. */
  readonly reports: EventEmitter<{ undelivered: [DeliveryFailure] }>;
}

/** An SMS the gateway accepted but could not deliver, by its own later report. */
export interface DeliveryFailure {
  id: string;
  kind: string;
  appointmentId?: string;
  /** The gateway's code, when it gave a short one. */
  errorCode?: string;
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
  const reportHashes = new Map<string, { hash: string; preset: PresetName }>();
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
    offer(gatewayId, sender, reports) {
      gateways.set(gatewayId, sender);
      const report = reports ? { hash: hashToken(reports.token), preset: reports.preset } : undefined;
      if (report) reportHashes.set(gatewayId, report);
      else reportHashes.delete(gatewayId);
      // What is due goes now (a gateway deployed after a restart finds its queue waiting).
      void outbox.kick();
      return () => {
        if (gateways.get(gatewayId) === sender) gateways.delete(gatewayId);
        if (report && reportHashes.get(gatewayId) === report) reportHashes.delete(gatewayId);
      };
    },
    has: (gatewayId) => gateways.has(gatewayId),
    reportGateway(token) {
      const hash = hashToken(token);
      let found: { id: string; preset: PresetName } | undefined;
      // Every deployed secret is compared, whichever matches, so the time taken tells nothing.
      for (const [id, r] of reportHashes) if (safeEqual(hash, r.hash) && !found) found = { id, preset: r.preset };
      return found;
    },
    reports: new EventEmitter<{ undelivered: [DeliveryFailure] }>(),
  };
}

/**
 * The demo SMS catcher of this process (lib/sms/catcher.ts): the gateway of idv-sms-gateway nodes with the preset
 * `demo` in demo mode, shown at /dev/sms. Never used in production (the node offers nothing there).
 */
export function smsCatcherOf(services: Services): SmsCatcher {
  return services.memo('idv.sms-catcher', () => createSmsCatcher());
}
