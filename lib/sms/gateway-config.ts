import type { SmsSend } from './outbox';

/**
 * The settings of an HTTP SMS gateway (idv-sms-gateway): checked here for the runtime and the editor alike (free of
 * Node APIs, bundled into resources/editor.js), rendered into a request body per SMS.
 *
 * Request formats of HTTP SMS gateways. The named presets follow each provider's public API documentation:
 * - messagebird: MessageBird (now Bird) SMS REST API, `POST https://rest.messagebird.com/messages`,
 *   `Authorization: AccessKey <key>`, JSON `{originator, recipients: ["316…"], body, reference}`.
 * - cm: CM.com Business Messaging, `POST https://gw.messaging.cm.com/v1.0/message`, header `X-CM-PRODUCTTOKEN`,
 *   JSON `{messages: {msg: [{from, to: [{number: "00316…"}], body: {type: "auto", content}, reference}]}}`.
 * - spryng: Spryng REST API v1, `POST https://rest.spryngsms.com/v1/messages`, `Authorization: Bearer <key>`,
 *   JSON `{encoding: "auto", route: "business", originator, recipients: ["316…"], body, reference}`.
 * - generic-json / generic-form: any gateway that takes one POST; the body template is the administrator's.
 * - demo: no request at all; in demo mode the SMS is caught in memory and shown at /dev/sms (lib/sms/catcher.ts),
 *   in production a gateway with this preset sends nothing and SMS stays off (nodes/common/config-nodes.ts).
 */
export const PRESETS = {
  'generic-json': {
    url: '',
    contentType: 'application/json',
    authHeader: 'Authorization',
    authPrefix: '',
    body: '{"to":"{{to}}","from":"{{from}}","text":"{{text}}","reference":"{{reference}}"}',
  },
  'generic-form': {
    url: '',
    contentType: 'application/x-www-form-urlencoded',
    authHeader: 'Authorization',
    authPrefix: '',
    body: 'to={{to}}&from={{from}}&text={{text}}&reference={{reference}}',
  },
  messagebird: {
    url: 'https://rest.messagebird.com/messages',
    contentType: 'application/json',
    authHeader: 'Authorization',
    authPrefix: 'AccessKey ',
    body: '{"originator":"{{from}}","recipients":["{{to_digits}}"],"body":"{{text}}","reference":"{{reference}}"}',
  },
  cm: {
    url: 'https://gw.messaging.cm.com/v1.0/message',
    contentType: 'application/json',
    authHeader: 'X-CM-PRODUCTTOKEN',
    authPrefix: '',
    body: '{"messages":{"msg":[{"from":"{{from}}","to":[{"number":"{{to_00}}"}],"body":{"type":"auto","content":"{{text}}"},"reference":"{{reference}}"}]}}',
  },
  demo: {
    // Never requested: the demo catcher takes the SMS in memory. A loopback address keeps the shared checks simple.
    url: 'http://127.0.0.1/dev/sms',
    contentType: 'application/json',
    authHeader: 'Authorization',
    authPrefix: '',
    body: '{"to":"{{to}}","text":"{{text}}","reference":"{{reference}}"}',
  },
  spryng: {
    url: 'https://rest.spryngsms.com/v1/messages',
    contentType: 'application/json',
    authHeader: 'Authorization',
    authPrefix: 'Bearer ',
    body: '{"encoding":"auto","route":"business","originator":"{{from}}","recipients":["{{to_digits}}"],"body":"{{text}}","reference":"{{reference}}"}',
  },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Placeholders a body template may use. */
export const BODY_PLACEHOLDERS = ['to', 'to_digits', 'to_00', 'from', 'text', 'reference'] as const;
type Placeholder = (typeof BODY_PLACEHOLDERS)[number];

/** The settings of an idv-sms-gateway node, as saved in the flow (no secrets). */
export interface GatewayFields {
  preset?: unknown;
  url?: unknown;
  from?: unknown;
  body?: unknown;
  authHeader?: unknown;
  timeoutSeconds?: unknown;
  /** The administrator's own confirmation text per language (optional; lib/sms/texts.ts has the defaults). */
  textNl?: unknown;
  textEn?: unknown;
}

/** A checked gateway configuration. */
export interface GatewayConfig {
  preset: PresetName;
  url: string;
  contentType: 'application/json' | 'application/x-www-form-urlencoded';
  /** Sender shown on the phone: up to 11 letters/digits, or a number of up to 16 digits. */
  from: string;
  body: string;
  authHeader: string;
  authPrefix: string;
  timeoutMs: number;
  /** Own confirmation texts; absent: the defaults. */
  texts: { nl?: string; en?: string };
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const FORBIDDEN_HEADERS = new Set(['host', 'content-type', 'content-length', 'connection', 'transfer-encoding', 'cookie']);
/** Alphanumeric originators are at most 11 characters (3GPP TS 23.040 address field of 11 GSM-7 characters). */
const FROM_ALPHA = /^[A-Za-z0-9][A-Za-z0-9 .-]{0,10}$/;
const FROM_NUMBER = /^\+?[0-9]{3,16}$/;
const PLACEHOLDER_RE = /\{\{\s*([a-z_0-9]+)\s*\}\}/g;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/i;

/**
 * Checks a gateway's settings; every problem starts with the field's name (the editor shows it beside the field).
 * The URL must be https, or http to this machine (a local relay or a test gateway): the text carries an access link.
 */
export function validateGatewayFields(f: GatewayFields & Record<string, unknown>): { ok: true; config: GatewayConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const presetName = typeof f.preset === 'string' && f.preset !== '' ? f.preset : 'generic-json';
  if (!(PRESET_NAMES as string[]).includes(presetName)) errors.push(`preset: one of ${PRESET_NAMES.join(', ')}`);
  const preset = PRESETS[(PRESET_NAMES as string[]).includes(presetName) ? (presetName as PresetName) : 'generic-json'];
  const generic = presetName === 'generic-json' || presetName === 'generic-form';

  const rawUrl = typeof f.url === 'string' && f.url.trim() !== '' ? f.url.trim() : preset.url;
  let url = '';
  try {
    const u = new URL(rawUrl);
    if (u.username || u.password) errors.push('url: put the credential in the credential field, not in the address');
    else if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname))) url = u.toString();
    else errors.push('url: https, or http to this machine only');
  } catch {
    errors.push('url: the address of the gateway (https://…)');
  }

  const from = typeof f.from === 'string' ? f.from.trim() : '';
  if (!FROM_ALPHA.test(from) && !FROM_NUMBER.test(from)) errors.push('from: up to 11 letters and digits, or a phone number');

  const body = generic && typeof f.body === 'string' && f.body.trim() !== '' ? f.body.trim() : preset.body;
  const bodyProblem = checkBody(body, preset.contentType);
  if (bodyProblem) errors.push(`body: ${bodyProblem}`);

  const authHeader = generic && typeof f.authHeader === 'string' && f.authHeader.trim() !== '' ? f.authHeader.trim() : preset.authHeader;
  if (!HEADER_NAME.test(authHeader) || FORBIDDEN_HEADERS.has(authHeader.toLowerCase())) errors.push('authHeader: a header name such as Authorization');

  const seconds = f.timeoutSeconds === undefined || f.timeoutSeconds === '' ? 10 : Number(f.timeoutSeconds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) errors.push('timeoutSeconds: 1 to 60');

  const texts: { nl?: string; en?: string } = {};
  for (const [field, lang] of [['textNl', 'nl'], ['textEn', 'en']] as const) {
    const v = f[field];
    if (v === undefined || v === '') continue;
    const problem = typeof v === 'string' ? smsTextProblem(v) : 'text';
    if (problem) errors.push(`${field}: ${problem}`);
    else texts[lang] = (v as string).trim();
  }

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: { preset: presetName as PresetName, url, contentType: preset.contentType, from, body, authHeader, authPrefix: preset.authPrefix, timeoutMs: seconds * 1000, texts },
  };
}

const TEXT_PLACEHOLDERS = ['municipality', 'date', 'time', 'link'];

/** A problem with an own SMS text, or undefined: it must carry {{link}}, know its placeholders, stay short. */
export function smsTextProblem(text: string): string | undefined {
  const t = text.trim();
  if (t.length > 300) return 'at most 300 characters (the link comes on top)';
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(t)) return 'no control characters';
  const names = placeholdersIn(t);
  const unknown = names.find((n) => !TEXT_PLACEHOLDERS.includes(n));
  if (unknown) return `unknown placeholder {{${unknown.slice(0, 20)}}}; known: {{municipality}} {{date}} {{time}} {{link}}`;
  if (!names.includes('link')) return 'needs {{link}}: the SMS brings the resident to the call';
  return undefined;
}

function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_RE)].map((m) => m[1]);
}

/** A problem with a body template, or undefined. It must name a recipient and the text, and nothing unknown. */
function checkBody(body: string, contentType: GatewayConfig['contentType']): string | undefined {
  if (body.length > 4000) return 'at most 4000 characters';
  const names = placeholdersIn(body);
  const unknown = names.find((n) => !(BODY_PLACEHOLDERS as readonly string[]).includes(n));
  if (unknown) return `unknown placeholder {{${unknown.slice(0, 20)}}}; known: ${BODY_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ')}`;
  if (!names.some((n) => n.startsWith('to'))) return 'needs the recipient ({{to}}, {{to_digits}} or {{to_00}})';
  if (!names.includes('text')) return 'needs {{text}}';
  if (contentType === 'application/json') {
    try {
      JSON.parse(body);
    } catch {
      return 'not valid JSON (placeholders go inside strings: "{{text}}")';
    }
    // A placeholder outside a string would let a value change the JSON's structure.
    if (placeholdersIn(JSON.stringify(stringsOnly(JSON.parse(body) as unknown))).length !== names.length) return 'placeholders only inside JSON strings';
  }
  return undefined;
}

/** The JSON value with every string kept and everything else dropped (to see which placeholders sit in strings). */
function stringsOnly(v: unknown): unknown {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(stringsOnly);
  if (v && typeof v === 'object') return Object.values(v).map(stringsOnly);
  return null;
}

function fill(template: string, values: Record<Placeholder, string>): string {
  return template.replace(PLACEHOLDER_RE, (_m, name: string) => values[name as Placeholder] ?? '');
}

/** Replaces placeholders inside every JSON string; values can never change the document's structure. */
function fillJson(v: unknown, values: Record<Placeholder, string>): unknown {
  if (typeof v === 'string') return fill(v, values);
  if (Array.isArray(v)) return v.map((x) => fillJson(x, values));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillJson(x, values)]));
  return v;
}

/** The request body for one SMS: the template with the values, encoded for the content type. */
export function renderBody(config: GatewayConfig, sms: SmsSend): string {
  const digits = sms.to.replace(/^\+/, '');
  const values: Record<Placeholder, string> = { to: sms.to, to_digits: digits, to_00: `00${digits}`, from: config.from, text: sms.text, reference: sms.reference };
  if (config.contentType === 'application/json') return JSON.stringify(fillJson(JSON.parse(config.body) as unknown, values));
  const form = new URLSearchParams(config.body);
  const out = new URLSearchParams();
  for (const [k, v] of form) out.append(k, fill(v, values));
  return out.toString();
}

