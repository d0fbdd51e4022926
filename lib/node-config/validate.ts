/**
 * One validation source for the editor and the runtime: every idv-* node's settings are checked by the lib/ function
 * the node itself uses at runtime. The runtime calls those functions directly; the editor gets this file bundled into
 * resources/editor.js (scripts/build.js) and shows each problem on its field.
 */
import { validateSessionLinkConfig } from '../access/session-link-config';
import { validateSchedule } from '../appointments/schedule';
import { validateBookingPageConfig } from '../booking-pages/options';
import { validateDashboardConfig } from '../call/dashboard-config';
import { methodFromEditor } from '../identification/method-config';
import { validateRequestAuthConfig } from '../identification/request-config';
import { validateOpenKlantConfig } from '../openklant/config';
import { validateStaffSsoConfig } from '../staff/sso-node-config';
import { coreFieldProblems } from '../idcontact/core-fields';
import { validateSessionNodeConfig } from '../idcontact/session-config';
import { validateInstanceSettings } from '../settings-node';
import { validateGatewayFields } from '../sms/gateway-config';
import { migrateSettings } from './migrations';

type Def = Record<string, unknown>;

const SCHEDULE_FIELDS = ['openingHours', 'slotMinutes', 'bufferMinutes', 'minNoticeMinutes', 'horizonDays', 'closingDays', 'dutchHolidays', 'liberationDay', 'agents'] as const;
const SCHEDULE_NUMBERS = new Set(['slotMinutes', 'bufferMinutes', 'minNoticeMinutes', 'horizonDays']);

/** The idv-schedule node's settings as validateSchedule takes them (the editor stores numbers as text). */
export function scheduleInput(def: Def): Def {
  const raw: Def = {};
  for (const f of SCHEDULE_FIELDS) {
    const v = def[f];
    if (v === undefined || v === '') continue;
    raw[f] = SCHEDULE_NUMBERS.has(f) && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  }
  return raw;
}

/**
 * The problems of a node's settings, each starting with the setting's name ("publicUrl: …", "agents[2].username: …").
 * Credentials are not in the editor's hands: `credentials` undefined checks everything else.
 */
export function nodeConfigProblems(type: string, def: Def, credentials?: Record<string, string | undefined>): string[] {
  const d = { ...def };
  migrateSettings(type, d);
  switch (type) {
    case 'idv-settings': {
      const r = validateInstanceSettings(d, credentials ?? {});
      return r.ok ? [] : r.errors;
    }
    case 'idv-schedule': {
      const r = validateSchedule(scheduleInput(d));
      return 'errors' in r ? r.errors : [];
    }
    case 'idv-book-appointment': {
      const r = validateBookingPageConfig(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-session-link': {
      const r = validateSessionLinkConfig(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-agent-dashboard': {
      const r = validateDashboardConfig(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-request-auth': {
      const r = validateRequestAuthConfig(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-auth-method': {
      // Without credentials the secret checks are skipped: the editor never sees the stored secret.
      const creds = credentials ?? { clientSecret: 'not-checked-in-the-editor' };
      const r = methodFromEditor(d, creds);
      return r.ok ? [] : r.errors.filter((e) => credentials !== undefined || !/^(credentials|clientSecret|privateKey|privateKeyId)\b/.test(e));
    }
    case 'idv-idcontact-core':
      // The keys and the secret are credentials: the runtime checks them (lib/idcontact/config.ts).
      return coreFieldProblems(d);
    case 'idv-sms-gateway': {
      // The credential is not in the editor's hands; the fields are all there is to check.
      const r = validateGatewayFields(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-idcontact-session': {
      const r = validateSessionNodeConfig(d);
      return r.ok ? [] : r.errors;
    }
    case 'idv-openklant': {
      const r = validateOpenKlantConfig(d, credentials);
      return r.ok ? [] : r.errors;
    }
    case 'idv-staff-sso': {
      // The editor cannot know the runtime's mode: an http issuer on loopback is left to the runtime to refuse.
      const r = validateStaffSsoConfig(d, credentials, true);
      return r.ok ? [] : r.errors;
    }
    default:
      return [];
  }
}

/** Setting names the lib validators use where the editor field has another name. */
const FIELD_ALIASES: Record<string, Record<string, string[]>> = {
  'idv-auth-method': { id: ['methodId'], logo: ['logo', 'logoUrl'], acr: ['acrMinimum', 'acrOrder'] },
  'idv-book-appointment': { residentPath: ['residentPath'] },
};

/** The first problem that belongs to one field of the node, or undefined. */
export function fieldProblem(type: string, def: Def, field: string): string | undefined {
  for (const problem of nodeConfigProblems(type, def)) {
    const name = /^[A-Za-z]+/.exec(problem)?.[0] ?? '';
    const fields = FIELD_ALIASES[type]?.[name] ?? [name];
    if (fields.includes(field)) return problem;
  }
  return undefined;
}
