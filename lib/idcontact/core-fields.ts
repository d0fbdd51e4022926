import { urlProblem, validateClaimMappings, type ClaimMapping } from '../auth/method';
import { DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS, type IdContactAlgorithms } from './algorithms';

/**
 * The settings of an idv-idcontact-core node apart from its credentials: checked by the runtime (lib/idcontact/
 * config.ts adds the keys and the secret) and by the editor (bundled into resources/editor.js through
 * lib/node-config/validate.ts), so both refuse the same. Nothing here touches a key.
 */
export interface CoreFields {
  /** The core's base URL without a trailing slash. */
  coreUrl: string;
  coreOrigin: string;
  purpose: string;
  methodPrefix: string;
  attributes: ClaimMapping[];
  algorithms: IdContactAlgorithms;
  clockToleranceSec: number;
  allowInsecureLoopback: boolean;
  startMode: 'secret' | 'client-cert';
  /** Lowercase hex, no colons; only in client-cert mode. */
  clientCertFingerprint?: string;
}

const PURPOSE_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const PREFIX_RE = /^[a-z][a-z0-9]{0,9}$/;
const SHA256_RE = /^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;

/** Auth method tags a core may offer; others are left out of the pop-up. */
export const TAG_RE = /^[a-z0-9][a-z0-9_-]{0,28}$/;

/** Normalises a SHA-256 fingerprint (with or without colons, any case) to lowercase hex. */
export function normaliseFingerprint(v: string): string {
  return v.replace(/:/g, '').toLowerCase();
}

function algList(v: unknown, allowed: readonly string[], fallback: string[]): string[] | undefined {
  const raw = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v : undefined;
  if (raw === undefined || raw.length === 0) return [...fallback];
  if (!raw.every((a) => typeof a === 'string' && allowed.includes(a))) return undefined;
  return [...new Set(raw as string[])];
}

/**
 * Checks the fields; problems go into `fields` by setting name (the editor puts each on its input). Returns the
 * checked values when there is no problem.
 */
export function checkCoreFields(def: Record<string, unknown>, fields: Record<string, string>): CoreFields | undefined {
  const str = (k: string) => (typeof def[k] === 'string' ? (def[k] as string).trim() : '');
  const allowInsecureLoopback = def.allowInsecureLoopback === true || def.allowInsecureLoopback === 'true';

  const coreUrl = str('coreUrl').replace(/\/+$/, '');
  const p = coreUrl.length > 2000 ? 'is too long' : urlProblem(coreUrl, allowInsecureLoopback);
  if (p) fields.coreUrl = `the core URL ${p}`;
  else if (/[?#]/.test(coreUrl)) fields.coreUrl = 'the core URL must not have a query or fragment';

  const purpose = str('purpose');
  if (!PURPOSE_RE.test(purpose)) fields.purpose = 'the purpose tag of the core: letters, digits, _ . -, at most 64';
  const methodPrefix = str('methodPrefix') || 'idc';
  if (!PREFIX_RE.test(methodPrefix)) fields.methodPrefix = 'a lowercase letter, then up to 9 lowercase letters or digits';

  let attributes: unknown = def.attributes;
  if (typeof attributes === 'string') {
    try {
      attributes = JSON.parse(attributes);
    } catch {
      attributes = undefined;
    }
  }
  const mapped = validateClaimMappings(attributes, fields, 'attributes');

  const algorithms: Partial<IdContactAlgorithms> = {};
  for (const [k, field] of [['keyManagement', 'keyManagementAlgs'], ['contentEncryption', 'contentEncryptionAlgs'], ['signature', 'signatureAlgs']] as const) {
    const list = algList(def[field], SUPPORTED_ALGORITHMS[k], DEFAULT_ALGORITHMS[k]);
    if (!list) fields[field] = `choose from ${SUPPORTED_ALGORITHMS[k].join(', ')}`;
    else algorithms[k] = list;
  }

  const tol = def.clockToleranceSec === undefined || def.clockToleranceSec === '' ? 60 : Number(def.clockToleranceSec);
  if (!Number.isInteger(tol) || tol < 0 || tol > 300) fields.clockToleranceSec = '0 to 300 seconds';

  const startMode = str('startAuth') || 'secret';
  let clientCertFingerprint: string | undefined;
  if (startMode === 'client-cert') {
    const pin = str('clientCertFingerprint');
    if (!SHA256_RE.test(pin)) fields.clientCertFingerprint = "the SHA-256 fingerprint of the core's client certificate (64 hex digits)";
    else clientCertFingerprint = normaliseFingerprint(pin);
  } else if (startMode !== 'secret') fields.startAuth = 'secret or client-cert';

  if (Object.keys(fields).length > 0) return undefined;
  return {
    coreUrl,
    coreOrigin: new URL(coreUrl).origin,
    purpose,
    methodPrefix,
    attributes: mapped,
    algorithms: algorithms as IdContactAlgorithms,
    clockToleranceSec: tol,
    allowInsecureLoopback,
    startMode: startMode as 'secret' | 'client-cert',
    ...(clientCertFingerprint ? { clientCertFingerprint } : {}),
  };
}

/** The field problems as "<setting>: <problem>" lines (the editor's and the node's way of naming them). */
export function coreFieldProblems(def: Record<string, unknown>): string[] {
  const fields: Record<string, string> = {};
  checkCoreFields(def, fields);
  return Object.entries(fields).map(([f, m]) => `${f}: ${m}`);
}
