import type { DeliveryStatus } from './outbox-store';
import type { PresetName } from './gateway-config';

/**
 * A gateway's delivery report on one SMS, read from a flat set of fields (query string, form or flat JSON object),
 * field names case-insensitive. Which fields and values each provider sends (their public documentation):
 * - MessageBird/Bird status report: `reference`, `status` (`delivered`; `delivery_failed`, `expired` fail;
 *   `scheduled`, `sent`, `buffered` are on the way), `statusErrorCode`.
 * - CM.com status report (GET/form variant): `REFERENCE`, `STATUS` (0 accepted, 1 rejected, 2 delivered, 3 failed),
 *   `ERRORCODE`.
 * - Spryng: `REFERENCE`, `STATUS` (10 delivered, 20 failed), `REASONCODE`.
 * - generic presets: `reference`, `status` (`delivered` / `failed`, or any of the words above), `code`.
 * Only our reference (the outbox id we sent along) identifies the SMS: a report never carries the number or text
 * into our store, and its other fields are not read.
 */
export type ParsedReport =
  | { ok: true; reference: string; status: DeliveryStatus; code?: string }
  /** A state on the way (accepted, buffered): nothing to record. */
  | { ok: true; reference: string; status: 'pending' }
  | { ok: false; field: 'reference' | 'status' | 'body'; message: string };

const WORDS: Record<string, DeliveryStatus | 'pending'> = {
  delivered: 'delivered',
  delivery_failed: 'failed',
  failed: 'failed',
  expired: 'failed',
  undeliverable: 'failed',
  rejected: 'failed',
  scheduled: 'pending',
  sent: 'pending',
  buffered: 'pending',
  accepted: 'pending',
};
const NUMBERS: Partial<Record<PresetName, Record<string, DeliveryStatus | 'pending'>>> = {
  cm: { '0': 'pending', '1': 'failed', '2': 'delivered', '3': 'failed' },
  spryng: { '10': 'delivered', '20': 'failed' },
};
const REFERENCE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE = /^[A-Za-z0-9_.:-]{1,40}$/;
const CODE_FIELDS = ['statuserrorcode', 'reasoncode', 'errorcode', 'code'];

/** Reads a report. `fields` are the request's flat fields; anything else than strings or numbers counts as absent. */
export function parseDeliveryReport(preset: PresetName, fields: Record<string, unknown>): ParsedReport {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) lower.set(k.toLowerCase(), String(v).trim());
  }
  const reference = lower.get('reference');
  if (!reference || !REFERENCE.test(reference)) return { ok: false, field: 'reference', message: 'reference: the reference sent with the SMS (a UUID)' };
  const raw = (lower.get('status') ?? '').toLowerCase();
  const status = NUMBERS[preset]?.[raw] ?? WORDS[raw];
  if (!status) return { ok: false, field: 'status', message: 'status: delivered or failed (or the gateway\'s own status value)' };
  if (status === 'pending') return { ok: true, reference: reference.toLowerCase(), status };
  // A code only as the gateway's short code; a free text (which may quote the number) is dropped.
  const code = CODE_FIELDS.map((f) => lower.get(f)).find((c) => c !== undefined && c !== '');
  return { ok: true, reference: reference.toLowerCase(), status, ...(status === 'failed' && code && CODE.test(code) ? { code } : {}) };
}
