import * as fs from 'node:fs';
import { checkClientConnection, checkExtraAuthParams, checkScopes, type OidcClient } from '../oidc/client';
import { checkRoleMapping } from './sso-roles';
import { ROLES, type Role } from './types';

/**
 * The staff sign-in through the gemeente's own OpenID provider (Microsoft Entra ID, Keycloak, ADFS…), configured in
 * the environment like every other runtime setting, not in the flows: the sign-in guards the flow editor itself, so
 * it must work before any flow runs (and when production keeps the flows stopped), and whoever can deploy flows must
 * not be able to change who may deploy them. Secrets come from the environment file or files it names (systemd's
 * LoadCredential works), never from a flow.
 *
 * | variable | meaning |
 * | --- | --- |
 * | IDV_STAFF_OIDC_ISSUER | the provider's issuer (switches SSO on) |
 * | IDV_STAFF_OIDC_CLIENT_ID | our client id there |
 * | IDV_STAFF_OIDC_CLIENT_SECRET | client_secret_basic, or |
 * | IDV_STAFF_OIDC_PRIVATE_KEY_FILE (+ IDV_STAFF_OIDC_KEY_ID, IDV_STAFF_OIDC_CERTIFICATE_FILE) | private_key_jwt |
 * | IDV_STAFF_OIDC_SCOPES | default "openid profile email" |
 * | IDV_STAFF_OIDC_AUTH_PARAMS | extra authorization parameters as a query string (domain_hint=…&prompt=…) |
 * | IDV_STAFF_OIDC_ROLES_CLAIM | default "groups"; a dotted path reaches in (realm_access.roles) |
 * | IDV_STAFF_OIDC_ROLE_AGENT / _KCC / _ADMIN / _MANAGER | comma-separated claim values giving that role |
 * | IDV_STAFF_OIDC_USERNAME_CLAIM | default "preferred_username": the username of a new account |
 * | IDV_STAFF_LOCAL_ACCOUNTS | "on" (default) or "off": passwords of ours |
 */

export interface StaffSsoSettings {
  client: OidcClient;
  scopes: string[];
  extraAuthParams: Record<string, string>;
  /** A claim name, or a dotted path into a claim (`realm_access.roles`); the whole name is tried first. */
  rolesClaim: string;
  /** Per role, the claim values (groups, app roles) that give it; compared without regard to case. */
  roleValues: Record<Role, string[]>;
  usernameClaim: string;
}

export interface StaffSignInConfig {
  sso?: StaffSsoSettings;
  localAccounts: boolean;
}

type Env = Record<string, string | undefined>;

/** Our own id of the staff provider's client (discovery cache key, pending requests). */
export const STAFF_SSO_CLIENT_ID = 'staff-sso';

const ROLE_ENV: Record<Role, string> = {
  agent: 'IDV_STAFF_OIDC_ROLE_AGENT',
  kcc: 'IDV_STAFF_OIDC_ROLE_KCC',
  admin: 'IDV_STAFF_OIDC_ROLE_ADMIN',
  manager: 'IDV_STAFF_OIDC_ROLE_MANAGER',
};

/** Which env name a field problem of the client check belongs to. */
const FIELD_ENV: Record<string, string> = {
  issuer: 'IDV_STAFF_OIDC_ISSUER',
  clientId: 'IDV_STAFF_OIDC_CLIENT_ID',
  clientAuth: 'IDV_STAFF_OIDC_CLIENT_SECRET or IDV_STAFF_OIDC_PRIVATE_KEY_FILE',
  clientSecret: 'IDV_STAFF_OIDC_CLIENT_SECRET',
  privateKey: 'IDV_STAFF_OIDC_PRIVATE_KEY_FILE',
  privateKeyId: 'IDV_STAFF_OIDC_KEY_ID',
  certificate: 'IDV_STAFF_OIDC_CERTIFICATE_FILE',
  scopes: 'IDV_STAFF_OIDC_SCOPES',
  extraAuthParams: 'IDV_STAFF_OIDC_AUTH_PARAMS',
};

function readSecretFile(name: string, file: string, problems: string[], read: (f: string) => string): string | undefined {
  try {
    return read(file);
  } catch (e) {
    problems.push(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * Reads the staff sign-in settings. Problems are returned as lines naming the variable (never a secret's value);
 * the caller refuses to start with them. `allowInsecureLoopback` (demo mode) allows an http issuer on 127.0.0.1.
 */
export function staffSignInFromEnv(
  env: Env,
  allowInsecureLoopback: boolean,
  read: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): { config: StaffSignInConfig; problems: string[] } {
  const problems: string[] = [];
  const local = (env.IDV_STAFF_LOCAL_ACCOUNTS ?? 'on').trim().toLowerCase();
  if (!['on', 'off', ''].includes(local)) problems.push(`IDV_STAFF_LOCAL_ACCOUNTS must be "on" or "off", got "${env.IDV_STAFF_LOCAL_ACCOUNTS}"`);
  const localAccounts = local !== 'off';

  const issuer = env.IDV_STAFF_OIDC_ISSUER?.trim();
  if (!issuer) {
    const stray = Object.keys(env).filter((k) => k.startsWith('IDV_STAFF_OIDC_') && env[k]);
    if (stray.length) problems.push(`${stray.sort().join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but IDV_STAFF_OIDC_ISSUER is not (it switches the staff sign-in through the gemeente's provider on)`);
    if (!localAccounts) problems.push('IDV_STAFF_LOCAL_ACCOUNTS=off needs the staff sign-in through the gemeente\'s provider (IDV_STAFF_OIDC_ISSUER): otherwise nobody can sign in');
    return { config: { localAccounts }, problems };
  }

  const secret = env.IDV_STAFF_OIDC_CLIENT_SECRET || undefined;
  const keyFile = env.IDV_STAFF_OIDC_PRIVATE_KEY_FILE || undefined;
  if (secret && keyFile) problems.push('set IDV_STAFF_OIDC_CLIENT_SECRET or IDV_STAFF_OIDC_PRIVATE_KEY_FILE, not both');
  let privateKey: string | Record<string, unknown> | undefined;
  if (keyFile) {
    const raw = readSecretFile('IDV_STAFF_OIDC_PRIVATE_KEY_FILE', keyFile, problems, read);
    if (raw !== undefined) {
      const trimmed = raw.trim();
      try {
        privateKey = trimmed.startsWith('{') ? (JSON.parse(trimmed) as Record<string, unknown>) : trimmed;
      } catch {
        problems.push('IDV_STAFF_OIDC_PRIVATE_KEY_FILE: the file is neither a PEM key nor a JSON Web Key');
      }
    }
  }
  const certificate = env.IDV_STAFF_OIDC_CERTIFICATE_FILE ? readSecretFile('IDV_STAFF_OIDC_CERTIFICATE_FILE', env.IDV_STAFF_OIDC_CERTIFICATE_FILE, problems, read) : undefined;
  if (certificate !== undefined && !keyFile) problems.push('IDV_STAFF_OIDC_CERTIFICATE_FILE belongs to IDV_STAFF_OIDC_PRIVATE_KEY_FILE (private_key_jwt)');

  const fields: Record<string, string> = {};
  const conn = checkClientConnection(
    {
      issuer,
      clientId: env.IDV_STAFF_OIDC_CLIENT_ID,
      clientAuth: keyFile ? 'private_key_jwt' : secret ? 'client_secret_basic' : undefined,
      credentials: { clientSecret: secret, privateKey, privateKeyId: env.IDV_STAFF_OIDC_KEY_ID || undefined, certificate },
    },
    fields,
    allowInsecureLoopback,
  );
  const scopes = checkScopes(env.IDV_STAFF_OIDC_SCOPES || 'openid profile email', fields);
  let params: Record<string, string> = {};
  if (env.IDV_STAFF_OIDC_AUTH_PARAMS) params = Object.fromEntries(new URLSearchParams(env.IDV_STAFF_OIDC_AUTH_PARAMS));
  const extraAuthParams = checkExtraAuthParams(params, fields);
  for (const [field, message] of Object.entries(fields)) {
    // A private key's own problem (size, curve) is the key file's; the clientAuth problem means neither is set.
    problems.push(`${FIELD_ENV[field] ?? field}: ${field === 'clientAuth' ? 'one of them is required' : message}`);
  }

  const { rolesClaim, usernameClaim, roleValues } = checkRoleMapping(
    { rolesClaim: env.IDV_STAFF_OIDC_ROLES_CLAIM, usernameClaim: env.IDV_STAFF_OIDC_USERNAME_CLAIM, roles: Object.fromEntries(ROLES.map((r) => [r, env[ROLE_ENV[r]]])) },
    { rolesClaim: 'IDV_STAFF_OIDC_ROLES_CLAIM', usernameClaim: 'IDV_STAFF_OIDC_USERNAME_CLAIM', role: (r) => ROLE_ENV[r] },
    problems,
  );

  if (problems.length || !conn.issuer || !conn.clientId || !conn.clientAuth) return { config: { localAccounts }, problems };
  const client: OidcClient = Object.freeze({
    id: STAFF_SSO_CLIENT_ID,
    issuer: conn.issuer,
    clientId: conn.clientId,
    clientAuth: conn.clientAuth,
    credentials: Object.freeze(conn.credentials),
    allowInsecureLoopback,
  });
  return { config: { localAccounts, sso: { client, scopes, extraAuthParams, rolesClaim, roleValues, usernameClaim } }, problems };
}

/** A claim by name, or (when no claim has that whole name) by dotted path into nested objects. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export type RolesFromClaims =
  | { ok: true; roles: Role[] }
  /**
   * `absent`: the claim is not there; `overage`: Microsoft Entra ID left the groups out because there are too many
   * (it sends `_claim_names` instead, https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference);
   * `none`: values came but none is mapped.
   */
  | { ok: false; reason: 'absent' | 'overage' | 'none'; values: number };

/**
 * The roles a person's claims give under the configured mapping (OpenID Connect Core 5.1 leaves group and role claims
 * to each provider: Entra ID `groups`/`roles`, Keycloak `realm_access.roles` or a `groups` mapper, ADFS `role`).
 * A claim holding one string counts as a list of one.
 */
export function rolesFromClaims(claims: Record<string, unknown>, s: Pick<StaffSsoSettings, 'rolesClaim' | 'roleValues'>): RolesFromClaims {
  const raw = claimAt(claims, s.rolesClaim);
  if (raw === undefined || raw === null) {
    const names = claims._claim_names;
    const overage = !!names && typeof names === 'object' && Object.hasOwn(names, s.rolesClaim);
    return { ok: false, reason: overage ? 'overage' : 'absent', values: 0 };
  }
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string').slice(0, 2000);
  const have = new Set(values.map((v) => v.toLowerCase()));
  const roles = ROLES.filter((r) => s.roleValues[r].some((v) => have.has(v.toLowerCase())));
  return roles.length ? { ok: true, roles } : { ok: false, reason: 'none', values: values.length };
}
