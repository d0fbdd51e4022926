import { cleanTypedChars } from '../text/typed-text';

/**
 * Server-side HTML with escaping by default: every interpolated value is escaped unless it is a `SafeHtml` made by
 * this module. Pages never build markup by string concatenation of user input.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Escapes for HTML text and quoted attributes, after the typed-text rule (lib/text/typed-text.ts): bidi overrides,
 * direction marks, zero-width and line-separator characters would let a name reorder or hide the text around it.
 */
export function escapeHtml(value: unknown): string {
  return cleanTypedChars(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

type Part = SafeHtml | string | number | boolean | null | undefined | Part[];

function render(value: Part): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Trusted markup only (constants in our code). */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}
