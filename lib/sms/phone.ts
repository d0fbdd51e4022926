import { parsePhoneNumberWithError, ParseError } from 'libphonenumber-js/max';

/** Why a number cannot receive our SMS; message texts in lib/appointments/messages.ts (`phone.<code>`). */
export type MobileProblem = 'invalid' | 'too_short' | 'too_long' | 'foreign' | 'landline' | 'not_mobile';

export type MobileResult =
  | {
      ok: true;
      /** E.164, e.g. +31612345678: what is stored and what a gateway gets. */
      e164: string;
      /** How a Dutch person writes it back, e.g. 06 12345678 (for pages; never for logs). */
      national: string;
    }
  | { ok: false; problem: MobileProblem };

/** What people type: digits, spaces, dashes, dots, brackets, one leading + (letters are refused, no vanity numbers). */
const TYPED = /^\+?[0-9 ()./-]+$/;
const MAX_TYPED = 30;

/**
 * A Dutch mobile number in any way people type it — `06 12345678`, `06-12345678`, `0612345678`, `+31 6 1234 5678`,
 * `+31 (0)6 12345678`, `0031 6 12345678`, `31612345678` — normalised to E.164, or the reason
 * it cannot receive an SMS from us: a landline or service number (`landline`: 010…, 020…, 085…, 088…, `not_mobile`:
 * 0800/0900, M2M 097), a valid number of another country (`foreign`), too few or too many digits, or not a phone
 * number at all.
 *
 * The numbering rules are Google's libphonenumber metadata (libphonenumber-js, 'max' set, which follows the Dutch
 * numbering plan, ACM "Nummerplan telefoon- en ISDN-diensten": mobile numbers are 06 followed by eight digits in the
 * blocks 061–065 and 068). The number must be one libphonenumber calls MOBILE and whose national number starts with 6:
 * the 097 range is also mobile to libphonenumber but is reserved for machine-to-machine use, which a resident does
 * not carry.
 */
export function parseDutchMobile(raw: unknown): MobileResult {
  if (typeof raw !== 'string') return { ok: false, problem: 'invalid' };
  const typed = raw.trim().replace(/\s+/g, ' ');
  if (typed === '' || typed.length > MAX_TYPED || !TYPED.test(typed)) return { ok: false, problem: 'invalid' };
  // "+31 (0)6…" writes the trunk prefix people dial at home in brackets; it is not part of the number.
  const text = typed.replace(/^(\+|00)\s*31\s*\(\s*0\s*\)/, '+31').replace(/^00\s*(?=[1-9])/, '+');
  const digits = text.replace(/\D/g, '');
  if (digits.length < 9) return { ok: false, problem: 'too_short' };
  if (digits.length > 15) return { ok: false, problem: 'too_long' };
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(text, { defaultCountry: 'NL', extract: false });
  } catch (e) {
    if (e instanceof ParseError && e.message === 'TOO_SHORT') return { ok: false, problem: 'too_short' };
    if (e instanceof ParseError && e.message === 'TOO_LONG') return { ok: false, problem: 'too_long' };
    return { ok: false, problem: 'invalid' };
  }
  if (parsed.country !== 'NL' && parsed.countryCallingCode !== '31') {
    return { ok: false, problem: parsed.isValid() ? 'foreign' : 'invalid' };
  }
  const national = String(parsed.nationalNumber);
  if (!parsed.isValid()) {
    // Dutch numbers have several lengths, so libphonenumber calls most wrong lengths "possible": a number that starts
    // like a mobile number (06) is told it has too few or too many digits, anything else is simply not valid.
    if (national.startsWith('6') && national.length !== 9) return { ok: false, problem: national.length < 9 ? 'too_short' : 'too_long' };
    return { ok: false, problem: 'invalid' };
  }
  const type = parsed.getType();
  if (type === 'MOBILE' && /^6\d{8}$/.test(national)) {
    return { ok: true, e164: parsed.number, national: `0${national.slice(0, 1)} ${national.slice(1)}` };
  }
  if (type === 'FIXED_LINE' || type === 'VOIP' || type === 'FIXED_LINE_OR_MOBILE') return { ok: false, problem: 'landline' };
  return { ok: false, problem: 'not_mobile' };
}

/** True for a stored E.164 Dutch mobile number (what the SMS outbox accepts as a recipient). */
export function isDutchMobileE164(value: unknown): value is string {
  return typeof value === 'string' && /^\+316\d{8}$/.test(value) && parseDutchMobile(value).ok;
}

/** The last two digits only, for places where a person must recognise the number without it being shown (status). */
export function maskedMobile(e164: string): string {
  return `06 ****** ${e164.slice(-2)}`;
}

/** A stored E.164 Dutch mobile number as Dutch people write it: +31612345678 → 06 12345678. */
export function nationalMobile(e164: string): string {
  return /^\+316\d{8}$/.test(e164) ? `06 ${e164.slice(4)}` : e164;
}
