import { UserError } from '../errors';
import { checkClientConnection, checkExtraAuthParams, checkScopes, urlProblem, type OidcClient, type OidcClientCredentials } from '../oidc/client';

export { importPrivateKey, urlProblem, type ClientAuthMethod } from '../oidc/client';

/** Logos shipped with the package; anything else must be an https URL (or loopback http in tests/demo). */
export const BUILTIN_LOGOS = ['digid', 'yivi', 'eherkenning', 'generic'] as const;
export type BuiltinLogo = (typeof BUILTIN_LOGOS)[number];

export type ClaimKind = 'bsn' | 'date' | 'text';

/** One allowed claim: the provider's claim name, our stable key, and the labels the agent sees. */
export interface ClaimMapping {
  claim: string;
  key: string;
  labelNl: string;
  labelEn: string;
  kind: ClaimKind;
}

/** Level-of-assurance requirement: `order` lists the acr values from weakest to strongest. */
export interface AcrRequirement {
  minimum: string;
  order: string[];
}

/** Credentials kept apart from the rest so the config can be shown/logged without them. */
export type AuthMethodCredentials = OidcClientCredentials;

/** One OpenID Connect provider the resident can choose in the call (an `idv-auth-method` config node). */
export interface AuthMethod extends OidcClient {
  displayName: string;
  logo: BuiltinLogo | string;
  scopes: string[];
  /** Extra authorization request parameters such as acr_values, kc_idp_hint, ui_locales. */
  extraAuthParams: Record<string, string>;
  acr?: AcrRequirement;
  claims: ClaimMapping[];
}

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const KEY_RE = /^[a-z][a-zA-Z0-9_]{0,39}$/;
const CLAIM_RE = /^[A-Za-z0-9_:.\-/#]{1,200}$/;
/** The name and key rules of a claim mapping, as regular-expression sources (for editors that check the same). */
export const CLAIM_RULES = { claim: CLAIM_RE.source, key: KEY_RE.source } as const;

/** Trimmed text of 1..max characters without control characters (labels, ids, names), else undefined. */
export function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  // Control characters have no business in labels or ids and could forge log lines or headers.
  if (t.length === 0 || t.length > max || /[\u0000-\u001f\u007f]/.test(t)) return undefined;
  return t;
}

/**
 * Checks a list of claim mappings (claim or attribute name -> our key, Dutch and English label, kind), as an OIDC
 * method maps its claims and an ID Contact core maps its attribute tags. Problems go into `fields` under
 * `<field>[i].<part>`; returns the valid mappings (frozen). 1 to 50 entries, names and keys each used once.
 */
export function validateClaimMappings(list: unknown, fields: Record<string, string>, field: string): ClaimMapping[] {
  const claims: ClaimMapping[] = [];
  if (!Array.isArray(list) || list.length === 0 || list.length > 50) {
    fields[field] = `list 1 to 50 ${field} to keep`;
    return claims;
  }
  const keys = new Set<string>();
  const names = new Set<string>();
  list.forEach((c: unknown, i: number) => {
    const m = (c && typeof c === 'object' ? c : {}) as Record<string, unknown>;
    const claim = typeof m.claim === 'string' && CLAIM_RE.test(m.claim) ? m.claim : undefined;
    const key = typeof m.key === 'string' && KEY_RE.test(m.key) ? m.key : undefined;
    const labelNl = text(m.labelNl, 80);
    const labelEn = text(m.labelEn, 80);
    const kind = m.kind === undefined ? 'text' : m.kind === 'bsn' || m.kind === 'date' || m.kind === 'text' ? m.kind : undefined;
    if (!claim) fields[`${field}[${i}].claim`] = 'a claim name';
    else if (names.has(claim)) fields[`${field}[${i}].claim`] = 'listed twice';
    if (!key) fields[`${field}[${i}].key`] = 'letters, digits and _, starting with a lowercase letter';
    else if (keys.has(key)) fields[`${field}[${i}].key`] = 'used twice';
    if (!labelNl) fields[`${field}[${i}].labelNl`] = 'required, at most 80 characters';
    if (!labelEn) fields[`${field}[${i}].labelEn`] = 'required, at most 80 characters';
    if (!kind) fields[`${field}[${i}].kind`] = 'bsn, date or text';
    if (claim && key && labelNl && labelEn && kind) {
      names.add(claim);
      keys.add(key);
      claims.push(Object.freeze({ claim, key, labelNl, labelEn, kind }));
    }
  });
  return claims;
}

/**
 * Validates an auth method configuration from the editor or a file. Returns a clean, frozen copy; throws a UserError
 * (400, 'invalid_auth_method') listing every problem per field. Secrets never appear in messages.
 */
export function validateAuthMethod(input: unknown): AuthMethod {
  const fields: Record<string, string> = {};
  const o = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const allowInsecureLoopback = o.allowInsecureLoopback === true;

  const id = typeof o.id === 'string' && ID_RE.test(o.id) ? o.id : undefined;
  if (!id) fields.id = 'lowercase letters, digits, - and _, at most 40 characters';
  const displayName = text(o.displayName, 80);
  if (!displayName) fields.displayName = 'required, at most 80 characters';

  let logo: string | undefined;
  if (typeof o.logo === 'string' && (BUILTIN_LOGOS as readonly string[]).includes(o.logo)) logo = o.logo;
  else if (typeof o.logo === 'string' && o.logo.length <= 2000 && !urlProblem(o.logo, allowInsecureLoopback)) logo = o.logo;
  else fields.logo = `one of ${BUILTIN_LOGOS.join(', ')} or an https URL`;

  const { issuer, clientId, clientAuth, credentials } = checkClientConnection(o, fields, allowInsecureLoopback);

  const scopes = checkScopes(o.scopes, fields);
  const extraAuthParams = checkExtraAuthParams(o.extraAuthParams, fields);

  let acr: AcrRequirement | undefined;
  if (o.acr !== undefined && o.acr !== null) {
    const a = o.acr as Record<string, unknown>;
    const order = a.order;
    if (!Array.isArray(order) || order.length === 0 || order.length > 20 || !order.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)) {
      fields.acr = 'order must list the acr values from weakest to strongest';
    } else if (new Set(order).size !== order.length) fields.acr = 'acr values in the order must be unique';
    else if (typeof a.minimum !== 'string' || !order.includes(a.minimum)) fields.acr = 'the minimum acr must be one of the listed values';
    else acr = { minimum: a.minimum, order: [...(order as string[])] };
  }

  const claims = validateClaimMappings(o.claims, fields, 'claims');

  if (Object.keys(fields).length > 0 || !id || !displayName || !logo || !issuer || !clientId || !clientAuth) {
    const list = Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join('; ');
    throw new UserError(400, 'invalid_auth_method', `Authentication method configuration is invalid (${list})`, fields);
  }
  return Object.freeze({
    id, displayName, logo, issuer, clientId, clientAuth,
    credentials: Object.freeze(credentials),
    scopes: Object.freeze(scopes) as string[],
    extraAuthParams: Object.freeze(extraAuthParams),
    ...(acr ? { acr: Object.freeze(acr) } : {}),
    claims: Object.freeze(claims.map((c) => Object.freeze(c))) as ClaimMapping[],
    allowInsecureLoopback,
  });
}

/** Rank of an acr value in the method's order; -1 when unknown or absent. */
export function acrRank(req: AcrRequirement, acr: unknown): number {
  return typeof acr === 'string' ? req.order.indexOf(acr) : -1;
}

/** True when the delivered acr meets the method's minimum (always true when the method sets no minimum). */
export function acrSatisfies(req: AcrRequirement | undefined, acr: unknown): boolean {
  if (!req) return true;
  const got = acrRank(req, acr);
  return got >= 0 && got >= req.order.indexOf(req.minimum);
}

/** What the resident's method-choice pop-up may show: no issuer, client or credentials. */
export interface PublicMethodView {
  id: string;
  displayName: string;
  logo: string;
}

export function publicMethodView(m: AuthMethod): PublicMethodView {
  return { id: m.id, displayName: m.displayName, logo: m.logo };
}
