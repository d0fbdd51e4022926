import { hmac, safeEqual } from '../security/tokens';

const REF_RE = /^([A-Za-z0-9_-]{22})\.(\d{10})\.([A-Za-z0-9_-]{43})$/;

/**
 * The confirmation page's reference: appointment id, expiry and an HMAC over both. It lets the page show the booking
 * right after the redirect without a secret in the URL (the cancel token never goes there: URLs end up in histories
 * and proxy logs), and without letting anyone enumerate appointments by id.
 */
export function signConfirmationRef(key: Buffer, id: string, nowMs: number, ttlSeconds = 3600): string {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  return `${id}.${exp}.${hmac(key, `booking-confirmation|${id}|${exp}`)}`;
}

/** The appointment id of a valid, unexpired reference; otherwise null. */
export function verifyConfirmationRef(key: Buffer, ref: unknown, nowMs: number): string | null {
  if (typeof ref !== 'string') return null;
  const m = REF_RE.exec(ref);
  if (!m) return null;
  const [, id, exp, sig] = m;
  if (!safeEqual(hmac(key, `booking-confirmation|${id}|${exp}`), sig)) return null;
  return Number(exp) * 1000 > nowMs ? id : null;
}
