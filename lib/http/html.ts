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

export function escapeHtml(value: unknown): string {
  // Bidi overrides and other invisible controls would let a name reorder the text around it on the agent's screen.
  return String(value ?? '')
    .replace(/[&<>"'`]/g, (c) => ESCAPES[c])
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
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
