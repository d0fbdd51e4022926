import { cleanTypedChars, typedLine, typedLines } from '../text/typed-text';

/**
 * Text that ends up in mail headers, invites and single-line template slots comes from people (name, topic,
 * remarks). A CR/LF there could add headers (Bcc:) or calendar properties, and bidi overrides can disguise a link or
 * a name. The rule for such text is lib/text/typed-text.ts, the same on pages as in mails.
 */

/** One line under the typed-text rule, at most `maxLength` characters (graphemes). */
export function headerSafe(value: unknown, maxLength = 200): string {
  return typedLine(value, maxLength);
}

/** Multi-line text (remarks) under the typed-text rule: line breaks kept as \n. Still never use it in a header. */
export function multilineSafe(value: unknown, maxLength = 2000): string {
  return typedLines(value, maxLength);
}

// RFC 5322 dot-atom local part (no quoted strings: nobody needs them and they complicate every consumer).
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * A deliverable-looking single address: one @, dot-atom local part, a domain of at least two DNS labels (ASCII or
 * punycode), at most 254 characters. Rejects anything with spaces, commas, quotes, angle brackets or line breaks, so
 * it can never smuggle in a second recipient or a header.
 */
export function isEmailAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at !== value.indexOf('@')) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  if (!labels.every((l) => LABEL.test(l))) return false;
  return /[A-Za-z]/.test(labels[labels.length - 1]);
}

/** Trimmed, domain lower-cased address, or an Error naming the field (never echoing the value). */
export function normalizeEmail(value: unknown, field = 'email'): string {
  const trimmed = typeof value === 'string' ? value.trim() : value;
  if (!isEmailAddress(trimmed)) throw new Error(`${field} is not a valid e-mail address`);
  const at = trimmed.lastIndexOf('@');
  return trimmed.slice(0, at) + '@' + trimmed.slice(at + 1).toLowerCase();
}

/** Escapes text for HTML element content and quoted attribute values, after the typed-text rule. */
export function escapeHtml(value: string): string {
  return cleanTypedChars(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Only absolute http(s) URLs may become links in a mail; anything else (javascript:, data:) is refused. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048 || /[\s<>"']/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
