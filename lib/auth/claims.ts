import { DateTime } from 'luxon';
import { isValidBsn } from './bsn';
import type { ClaimMapping } from './method';

/** One verified attribute as the agent sees it. `value` is personal data: never log it, never put it in a message. */
export interface Attribute {
  key: string;
  labelNl: string;
  labelEn: string;
  value: string;
}

export type ClaimsFailure = 'bsn_invalid' | 'too_large' | 'validation_failed';

export type MapClaimsResult =
  | { ok: true; attributes: Attribute[]; /** names of listed claims that were absent */ missing: string[] }
  | { ok: false; reason: ClaimsFailure; /** the attribute key concerned (a name, never a value) */ key?: string };

export interface ClaimLimits {
  /** Longest text value kept, in characters. */
  maxValueLength: number;
  /** Largest claims object accepted as a whole (UTF-8 bytes of its JSON), listed or not. */
  maxTotalBytes: number;
}

export const DEFAULT_CLAIM_LIMITS: ClaimLimits = { maxValueLength: 256, maxTotalBytes: 32 * 1024 };

/** Accepts YYYY-MM-DD (a real calendar date) and returns it as is; birthdates are dates, not instants. */
function asDate(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  return DateTime.fromISO(v, { zone: 'utc' }).isValid ? v : undefined;
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.normalize('NFC');
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/**
 * Keeps only the claims on the method's allow-list, checked per kind, under our own keys and labels. Everything not
 * listed is dropped unseen. A BSN failing the elfproef, an oversized answer or a value of the wrong shape refuses the
 * whole set: the agent sees verified data or nothing. Results and failures carry names only, never values.
 */
export function mapClaims(
  claims: Record<string, unknown>,
  mapping: readonly ClaimMapping[],
  limits: ClaimLimits = DEFAULT_CLAIM_LIMITS,
): MapClaimsResult {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(claims) ?? '', 'utf8');
  } catch {
    return { ok: false, reason: 'validation_failed' }; // cycles or BigInt: not something a JSON answer can hold
  }
  if (size > limits.maxTotalBytes) return { ok: false, reason: 'too_large' };

  const attributes: Attribute[] = [];
  const missing: string[] = [];
  for (const m of mapping) {
    if (!Object.prototype.hasOwnProperty.call(claims, m.claim) || claims[m.claim] === null || claims[m.claim] === undefined) {
      missing.push(m.key);
      continue;
    }
    const raw = claims[m.claim];
    let value: string | undefined;
    if (m.kind === 'bsn') {
      // Some brokers send the BSN as a number; leading zeros would then be lost, so only strings are trusted.
      if (!isValidBsn(raw)) return { ok: false, reason: 'bsn_invalid', key: m.key };
      value = raw;
    } else if (m.kind === 'date') {
      value = asDate(raw);
      if (value === undefined) return { ok: false, reason: 'validation_failed', key: m.key };
    } else {
      value = asText(raw);
      if (value === undefined) return { ok: false, reason: 'validation_failed', key: m.key };
      if (value.length > limits.maxValueLength) return { ok: false, reason: 'too_large', key: m.key };
      // Control characters could forge lines on the agent's screen or in exports.
      if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) return { ok: false, reason: 'validation_failed', key: m.key };
    }
    attributes.push({ key: m.key, labelNl: m.labelNl, labelEn: m.labelEn, value });
  }
  return { ok: true, attributes, missing };
}
