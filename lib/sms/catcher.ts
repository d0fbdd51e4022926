import type { SmsSend, SmsSender } from './outbox';

/**
 * Demo-mode SMS catcher: the gateway of an idv-sms-gateway node with the preset `demo`. It keeps the last SMS in
 * memory so /dev/sms can show what a resident would receive; nothing leaves the machine. Demo only: what it holds is
 * personal data (the number) and a secret (the access link), kept in memory until the runtime stops.
 */
export interface CaughtSms {
  /** The outbox id: the reference a real gateway gets, and the key a delivery report uses. */
  reference: string;
  receivedAt: string;
  to: string;
  text: string;
}

export interface SmsCatcher {
  readonly sender: SmsSender;
  /** Newest first. */
  list(): CaughtSms[];
  clear(): void;
}

/** A catcher keeping at most `max` SMS (default 200), the oldest dropped first. */
export function createSmsCatcher(max = 200, now: () => Date = () => new Date()): SmsCatcher {
  if (!Number.isInteger(max) || max < 1 || max > 10_000) throw new Error('max must be 1-10000');
  const caught: CaughtSms[] = [];
  return {
    sender: {
      async send(sms: SmsSend) {
        // A re-send after a crash carries the same reference: shown once, as a gateway that deduplicates would.
        const at = caught.findIndex((c) => c.reference === sms.reference);
        if (at >= 0) caught.splice(at, 1);
        caught.unshift({ reference: sms.reference, receivedAt: now().toISOString(), to: sms.to, text: sms.text });
        if (caught.length > max) caught.length = max;
        return undefined;
      },
    },
    list: () => caught.map((c) => ({ ...c })),
    clear: () => {
      caught.length = 0;
    },
  };
}
