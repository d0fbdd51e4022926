import { checkClientConnection, checkExtraAuthParams, checkScopes, type OidcClient } from '../oidc/client';
import type { StaffSsoSettings } from './sso-config';
import { checkRoleMapping } from './sso-roles';
import type { Role } from './types';

/**
 * The settings of an `idv-staff-sso` config node: the staff sign-in of the dashboard pages (/login, /agent, /kcc,
 * /admin-log…) through the gemeente's OpenID provider, configured in the flows. Bundled into the editor
 * (resources/editor.js), so each field shows the runtime's own check.
 *
 * The split with the environment (lib/staff/sso-config.ts, IDV_STAFF_OIDC_*): the flow editor's own sign-in is read
 * by Node-RED before any flow runs and decides who may change the flows, so a flow cannot configure it. When the
 * environment configures staff SSO, it is the sign-in for the editor and every page, and this node stands aside
 * (it says so in the log). Without it, this node drives the pages' sign-in and the editor keeps its local accounts.
 * A node can switch local accounts off for the pages; it cannot switch on what IDV_STAFF_LOCAL_ACCOUNTS=off shut.
 *
 * | field | meaning |
 * | --- | --- |
 * | enabled | use it (off: nothing is checked or used; the default flows ship it off) |
 * | issuer, clientId, clientAuth | the client at the provider (client_secret_basic or private_key_jwt) |
 * | scopes | default "openid profile email" |
 * | authParams | extra authorization parameters as a query string (domain_hint=…&prompt=…) |
 * | rolesClaim, usernameClaim | default "groups" and "preferred_username"; a dotted path reaches in |
 * | roleAgent, roleKcc, roleAdmin, roleManager | comma-separated claim values giving that role |
 * | localAccounts | passwords of ours on the pages too (default on) |
 * | credentials: clientSecret, or privateKey (+ privateKeyId, certificate) | never in the flow file |
 */

export interface FlowStaffSso {
  sso: StaffSsoSettings;
  /** Whether the pages still take passwords of ours (the environment may have switched them off anyway). */
  localAccounts: boolean;
}

/** Our own id of the flows' staff provider client (pending requests, discovery cache). */
export const FLOW_STAFF_SSO_CLIENT_ID = 'staff-sso-flow';

const ROLE_FIELD: Record<Role, string> = { agent: 'roleAgent', kcc: 'roleKcc', admin: 'roleAdmin', manager: 'roleManager' };
const CREDENTIAL_FIELDS = /^(clientSecret|privateKey|privateKeyId|certificate)\b/;

function on(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === '') return dflt;
  return v === true || v === 'true';
}

/**
 * Checks an idv-staff-sso node's settings. `credentials` undefined (the editor never sees them) skips the secret and
 * key checks; `allowInsecureLoopback` (demo mode, tests) allows an http issuer on 127.0.0.1. Problems start with the
 * field's name. A node that is not enabled is fine whatever it holds and gives no settings.
 */
export function validateStaffSsoConfig(
  def: Record<string, unknown>,
  credentials: Record<string, string | undefined> | undefined,
  allowInsecureLoopback: boolean,
): { ok: true; settings?: FlowStaffSso } | { ok: false; errors: string[] } {
  if (!on(def.enabled, false)) return { ok: true };
  const errors: string[] = [];
  const fields: Record<string, string> = {};
  const creds = credentials ?? {};
  let privateKey: string | Record<string, unknown> | undefined;
  let keyUnreadable = false;
  const keyText = creds.privateKey?.trim();
  if (keyText) {
    try {
      privateKey = keyText.startsWith('{') ? (JSON.parse(keyText) as Record<string, unknown>) : keyText;
    } catch {
      keyUnreadable = true;
    }
  }
  const issuer = typeof def.issuer === 'string' ? def.issuer.trim() : def.issuer;
  const conn = checkClientConnection(
    {
      issuer,
      clientId: typeof def.clientId === 'string' ? def.clientId.trim() : def.clientId,
      clientAuth: def.clientAuth,
      credentials: { clientSecret: creds.clientSecret || undefined, privateKey, privateKeyId: creds.privateKeyId?.trim() || undefined, certificate: creds.certificate?.trim() || undefined },
    },
    fields,
    allowInsecureLoopback,
  );
  if (keyUnreadable) fields.privateKey = 'neither a PEM key nor a JSON Web Key';
  const scopes = checkScopes(typeof def.scopes === 'string' && def.scopes.trim() ? def.scopes : 'openid profile email', fields);
  let params: Record<string, string> = {};
  if (typeof def.authParams === 'string' && def.authParams.trim()) params = Object.fromEntries(new URLSearchParams(def.authParams.trim()));
  const extraAuthParams = checkExtraAuthParams(params, fields);
  if (fields.extraAuthParams) fields.authParams = fields.extraAuthParams;
  delete fields.extraAuthParams;
  for (const [field, message] of Object.entries(fields)) {
    if (credentials === undefined && CREDENTIAL_FIELDS.test(field)) continue;
    errors.push(`${field}: ${message}`);
  }
  const mapping = checkRoleMapping(
    { rolesClaim: def.rolesClaim, usernameClaim: def.usernameClaim, roles: { agent: def.roleAgent, kcc: def.roleKcc, admin: def.roleAdmin, manager: def.roleManager } },
    { rolesClaim: 'rolesClaim', usernameClaim: 'usernameClaim', role: (r) => ROLE_FIELD[r] },
    errors,
  );
  if (errors.length) return { ok: false, errors };
  if (credentials === undefined || !conn.issuer || !conn.clientId || !conn.clientAuth) return { ok: true };
  const client: OidcClient = Object.freeze({
    id: FLOW_STAFF_SSO_CLIENT_ID,
    issuer: conn.issuer,
    clientId: conn.clientId,
    clientAuth: conn.clientAuth,
    credentials: Object.freeze(conn.credentials),
    allowInsecureLoopback,
  });
  return { ok: true, settings: { sso: { client, scopes, extraAuthParams, ...mapping }, localAccounts: on(def.localAccounts, true) } };
}
