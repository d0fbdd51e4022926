/**
 * Node-RED editor lists for the idv-* edit dialogs: Node-RED's own editableList widget with one input per field and
 * an accessible name on each input (Node-RED's convention for repeating settings, as in the switch and change nodes).
 * Runs in the editor only (bundled into resources/editor.js); jQuery and the widget come from the editor.
 */

/** The part of jQuery these lists use (the editor's global $). */
export interface JQ {
  editableList(options: Record<string, unknown>): JQ;
  editableList(method: 'addItem', item: unknown): JQ;
  editableList(method: 'items'): JQ;
  each(fn: (this: unknown, i: number) => void): JQ;
  find(selector: string): JQ;
  val(): unknown;
  val(value: string): JQ;
  appendTo(target: JQ): JQ;
  append(child: JQ): JQ;
  attr(name: string, value: string): JQ;
  css(name: string, value: string): JQ;
  addClass(name: string): JQ;
  text(value: string): JQ;
  data(key: string): unknown;
  data(key: string, value: unknown): JQ;
  length: number;
}
type Dollar = (arg: unknown, attrs?: Record<string, unknown>) => JQ;

export interface ListField {
  key: string;
  /** The accessible name and placeholder-free caption of the input (already translated). */
  label: string;
  type?: 'text' | 'time' | 'date' | 'email' | 'select';
  options?: [string, string][];
  /** CSS flex basis, e.g. "30%". */
  width?: string;
  placeholder?: string;
}

export interface ListOptions {
  fields: ListField[];
  items: Record<string, unknown>[];
  /** Minimum height of the list in px. */
  height?: number;
  /** Extra content per row (e.g. a nested list); gets the row element and the item. */
  extra?: (row: JQ, item: Record<string, unknown>) => void;
}

function dollar(): Dollar {
  return (globalThis as unknown as { $: Dollar }).$;
}

/** Turns an <ol> into an editable list of rows, one input per field, filled with `items`. */
export function list(target: JQ, o: ListOptions): JQ {
  const $ = dollar();
  const el = target.css('min-height', `${o.height ?? 120}px`).css('min-width', '450px').editableList({
    addItem(row: JQ, _index: number, item: Record<string, unknown>) {
      const line = $('<div/>', { class: 'idv-list-row', style: 'display:flex; gap:6px; align-items:center' }).appendTo(row);
      for (const f of o.fields) {
        const value = item && item[f.key] !== undefined && item[f.key] !== null ? String(item[f.key]) : '';
        let input: JQ;
        if (f.type === 'select') {
          input = $('<select/>', { class: `idv-field-${f.key}` });
          for (const [v, label] of f.options ?? []) $('<option/>').attr('value', v).text(label).appendTo(input);
        } else {
          input = $('<input/>', { type: f.type ?? 'text', class: `idv-field-${f.key}` });
          if (f.placeholder) input.attr('placeholder', f.placeholder);
        }
        input.attr('aria-label', f.label).attr('title', f.label).css('flex', `1 1 ${f.width ?? 'auto'}`).css('min-width', '0').css('width', 'auto');
        input.val(value || (f.type === 'select' && f.options?.length ? f.options[0][0] : ''));
        input.appendTo(line);
      }
      row.data('idv-item', item ?? {});
      o.extra?.(row, item ?? {});
    },
    removable: true,
    sortable: true,
  });
  for (const item of o.items) el.editableList('addItem', item);
  return el;
}

/** The rows of a list as objects (trimmed text); rows whose fields are all empty are left out. */
export function values(target: JQ, fields: ListField[]): Record<string, string>[] {
  const $ = dollar();
  const out: Record<string, string>[] = [];
  target.editableList('items').each(function () {
    const row = $(this);
    const item: Record<string, string> = {};
    for (const f of fields) item[f.key] = String(row.find(`.idv-field-${f.key}`).val() ?? '').trim();
    if (fields.some((f) => f.type !== 'select' && item[f.key] !== '')) out.push(item);
  });
  return out;
}

/** Opening hours {mon: [{from, to}]} as list rows [{day, from, to}], days in week order. */
export function weeklyToRows(weekly: unknown): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const w = (typeof weekly === 'object' && weekly !== null ? weekly : {}) as Record<string, unknown>;
  for (const day of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) {
    const ranges = Array.isArray(w[day]) ? (w[day] as { from?: unknown; to?: unknown }[]) : [];
    for (const r of ranges) rows.push({ day, from: r?.from ?? '', to: r?.to ?? '' });
  }
  return rows;
}

/** List rows [{day, from, to}] back to opening hours, each day's ranges sorted by start. */
export function rowsToWeekly(rows: Record<string, string>[]): Record<string, { from: string; to: string }[]> {
  const weekly: Record<string, { from: string; to: string }[]> = {};
  for (const r of rows) (weekly[r.day] ??= []).push({ from: r.from, to: r.to });
  for (const ranges of Object.values(weekly)) ranges.sort((a, b) => a.from.localeCompare(b.from));
  return weekly;
}
