/**
 * Per-node settings versions and the migrations between them, so a flow saved by an older version keeps working
 * (the approach of node-red-contrib-home-assistant-websocket: a version property in each node's settings, and pure
 * functions that bring old settings up to date). The same functions run in the runtime (each node migrates its
 * definition before validating it) and in the editor (bundled into resources/editor.js: the edit dialog shows the
 * current shape and saving stores the current version).
 *
 * Version 1 is the shape of ID Video 0.1, whose nodes had no `settingsVersion` property at all.
 */

export const SETTINGS_VERSION_KEY = 'settingsVersion';

type Def = Record<string, unknown>;

interface Migration {
  /** The version this migration produces (from `to - 1`). */
  to: number;
  /** What changed, for the code reader and the migration test. */
  why: string;
  up(def: Def): void;
}

/** Lines of a 0.1 textarea, trimmed, blank lines and # comments dropped. */
function lines(value: unknown, separators = /\r?\n/): string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v.trim() : '')).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value.split(separators).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

const MIGRATIONS: Record<string, Migration[]> = {
  'idv-settings': [
    {
      to: 2,
      why: '0.1 always put class="utrecht-theme" on <html>; the class is now a setting (default: the neutral theme). A flow that loaded its own theme stylesheet keeps the class that stylesheet was written for.',
      up(def) {
        if (def.themeClass === undefined) def.themeClass = typeof def.themeCssUrl === 'string' && def.themeCssUrl.trim() ? 'utrecht-theme' : '';
      },
    },
  ],
  'idv-book-appointment': [
    {
      to: 2,
      why: 'CORS origins were one text (comma or newline separated); now a list edited with an editable list.',
      up(def) {
        if (!Array.isArray(def.corsOrigins)) def.corsOrigins = lines(def.corsOrigins, /[\n,]+/);
        if (!Array.isArray(def.topics)) def.topics = lines(def.topics);
      },
    },
  ],
  'idv-session-link': [
    {
      to: 2,
      why: 'agent addresses were "username = address" lines; now a list of {username, email}. A line that was not valid is kept as a username without address, so the editor and the runtime still point at it.',
      up(def) {
        if (Array.isArray(def.agentEmails)) return;
        def.agentEmails = lines(def.agentEmails).map((l) => {
          const m = /^([^\s=:]+)\s*[=:]\s*(\S+)$/.exec(l);
          return m ? { username: m[1], email: m[2] } : { username: l, email: '' };
        });
      },
    },
  ],
  'idv-auth-method': [
    {
      to: 2,
      why: 'claims were a JSON text, extra parameters "name=value" lines and the acr order one text; now lists.',
      up(def) {
        if (typeof def.claims === 'string') {
          try {
            def.claims = JSON.parse(def.claims) as unknown;
          } catch {
            // left as it is: validation names the field
          }
        }
        if (!Array.isArray(def.extraAuthParams)) {
          def.extraAuthParams = lines(def.extraAuthParams).map((l) => {
            const eq = l.indexOf('=');
            return eq < 0 ? { name: l, value: '' } : { name: l.slice(0, eq).trim(), value: l.slice(eq + 1).trim() };
          });
        }
        if (!Array.isArray(def.acrOrder)) def.acrOrder = lines(def.acrOrder, /[\s,]+/);
      },
    },
  ],
  'idv-request-auth': [
    {
      to: 2,
      why: 'purposes were lines of text; now a list. The purpose of a request came from msg.purpose only; it is now a typed input (msg property or fixed text), msg.purpose by default as before.',
      up(def) {
        if (!Array.isArray(def.purposes)) def.purposes = lines(def.purposes);
        if (def.purpose === undefined) {
          def.purpose = 'purpose';
          def.purposeType = 'msg';
        }
      },
    },
  ],
};

/** The settings version a node of this type writes now (1 for types whose settings never changed shape). */
export function currentSettingsVersion(type: string): number {
  const list = MIGRATIONS[type];
  return list && list.length ? list[list.length - 1].to : 1;
}

/** The version stored in a node's settings; 0.1 stored none, which is version 1. */
export function storedSettingsVersion(def: Def): number {
  const v = Number(def[SETTINGS_VERSION_KEY]);
  return Number.isInteger(v) && v >= 1 ? v : 1;
}

/**
 * Brings a node's settings up to the current version, in place, and returns what happened. Settings from a newer
 * version than this package knows are left alone (`newer: true`), so a downgrade never rewrites them.
 */
export function migrateSettings(type: string, def: Def): { from: number; to: number; newer: boolean } {
  const from = storedSettingsVersion(def);
  const to = currentSettingsVersion(type);
  if (from > to) return { from, to, newer: true };
  for (const m of MIGRATIONS[type] ?? []) if (m.to > from) m.up(def);
  def[SETTINGS_VERSION_KEY] = to;
  return { from, to, newer: false };
}

/** The migrations of a type, oldest first (documentation and tests). */
export function migrationsOf(type: string): { to: number; why: string }[] {
  return (MIGRATIONS[type] ?? []).map(({ to, why }) => ({ to, why }));
}
