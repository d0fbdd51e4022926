/**
 * The browser side of lib/node-config for Node-RED's editor: scripts/build.js bundles this file (with the lib/
 * validators it imports) into resources/editor.js, which every node's .html loads with
 * <script src="resources/@idvideo/node-red-id-video/editor.js">. It defines one global, IDVideoEditor:
 *   IDVideoEditor.validate(type, field)  a `validate` function for a node's `defaults`: true, or the problem as text
 *   IDVideoEditor.migrate(type, node)    brings an edited node's settings to the current version (oneditprepare)
 *   IDVideoEditor.version(type)          the current settings version (the `settingsVersion` default)
 *   IDVideoEditor.list / .values         editable lists of structured rows (editor-lists.ts)
 */
import { list, rowsToWeekly, values, weeklyToRows } from './editor-lists';
import { currentSettingsVersion, migrateSettings } from './migrations';
import { fieldProblem } from './validate';

type Def = Record<string, unknown>;

/** The node's own settings as the editor holds them (Node-RED adds bookkeeping properties starting with _). */
function settingsOf(node: Def): Def {
  const out: Def = {};
  for (const [k, v] of Object.entries(node)) if (!k.startsWith('_') && typeof v !== 'function') out[k] = v;
  return out;
}

const api = {
  validate(type: string, field: string) {
    return function (this: Def, value: unknown): true | string {
      const problem = fieldProblem(type, { ...settingsOf(this ?? {}), [field]: value }, field);
      return problem ?? true;
    };
  },
  migrate(type: string, node: Def): void {
    migrateSettings(type, node);
  },
  version(type: string): number {
    return currentSettingsVersion(type);
  },
  list,
  values,
  weeklyToRows,
  rowsToWeekly,
};

/**
 * Our edit dialogs' labels are longer than Node-RED's 100 px default ("Bookings per address"): a wider label column
 * that wraps instead of clipping, and inputs that fill the rest of the row.
 */
const STYLE = `
.idv-form .form-row > label { width: 170px; vertical-align: top; white-space: normal; overflow-wrap: anywhere; }
.idv-form .form-row > input[type=text], .idv-form .form-row > input[type=number], .idv-form .form-row > input[type=password],
.idv-form .form-row > select, .idv-form .form-row > textarea, .idv-form .form-row > .red-ui-typedInput-container { width: calc(100% - 180px) !important; }
.idv-form .form-row > input[type=checkbox] { width: auto; vertical-align: top; }
.idv-form .form-row.idv-list-field > label { width: 100%; }
.idv-form .form-row .idv-hint { display: block; margin-left: 174px; font-size: 0.9em; opacity: 0.8; }
.idv-form .idv-list-row input, .idv-form .idv-list-row select { margin: 0; }
.idv-form .idv-agent-hours { margin: 6px 0 0 12px; }
`;

const g = globalThis as unknown as { IDVideoEditor?: typeof api; document?: { getElementById(id: string): unknown; createElement(t: string): { id: string; textContent: string }; head: { appendChild(e: unknown): void } } };
// Every node's .html loads this file; the first load defines it.
if (!g.IDVideoEditor) {
  g.IDVideoEditor = api;
  const doc = g.document;
  if (doc && !doc.getElementById('idv-editor-style')) {
    const style = doc.createElement('style');
    style.id = 'idv-editor-style';
    style.textContent = STYLE;
    doc.head.appendChild(style);
  }
}
