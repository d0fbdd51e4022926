/** The settings of an idv-agent-dashboard node, checked (the editor shows the same rules through resources/editor.js). */
export function validateDashboardConfig(def: Record<string, unknown>): { ok: true; days: number } | { ok: false; errors: string[] } {
  const value = def.days;
  if (value === undefined || value === '') return { ok: true, days: 14 };
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 90) return { ok: false, errors: ['days: a whole number from 1 to 90'] };
  return { ok: true, days: n };
}
