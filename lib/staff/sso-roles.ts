import type { StaffSsoSettings } from './sso-config';
import { ROLES, type Role } from './types';

/* Free of Node imports: bundled into the editor (resources/editor.js) through lib/staff/sso-node-config.ts. */

const CLAIM_PATH_RE = /^[A-Za-z0-9_:.\-/#]{1,200}$/;

/**
 * The claim names and the group/role mapping, shared by the environment (names like IDV_STAFF_OIDC_ROLE_AGENT) and
 * the idv-staff-sso node (field names): `names` says how a problem names its setting. Role values are
 * comma-separated text; at least one role must be mapped.
 */
export function checkRoleMapping(
  raw: { rolesClaim?: unknown; usernameClaim?: unknown; roles: Partial<Record<Role, unknown>> },
  names: { rolesClaim: string; usernameClaim: string; role: (r: Role) => string },
  problems: string[],
): Pick<StaffSsoSettings, 'rolesClaim' | 'usernameClaim' | 'roleValues'> {
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const rolesClaim = str(raw.rolesClaim) || 'groups';
  if (!CLAIM_PATH_RE.test(rolesClaim)) problems.push(`${names.rolesClaim}: must be a claim name or a dotted path such as realm_access.roles`);
  const usernameClaim = str(raw.usernameClaim) || 'preferred_username';
  if (!CLAIM_PATH_RE.test(usernameClaim)) problems.push(`${names.usernameClaim}: must be a claim name`);
  const roleValues = {} as Record<Role, string[]>;
  for (const role of ROLES) {
    const values = [...new Set(str(raw.roles[role]).split(',').map((v) => v.trim()).filter(Boolean))];
    if (values.some((v) => v.length > 256 || /[\u0000-\u001f\u007f]/.test(v))) problems.push(`${names.role(role)}: values of at most 256 characters, no control characters`);
    roleValues[role] = values;
  }
  if (!ROLES.some((r) => roleValues[r].length)) {
    problems.push(`${names.role('agent')}: map at least one group or role to a role (${ROLES.map((r) => names.role(r)).join(', ')}: comma-separated values of ${rolesClaim})`);
  }
  return { rolesClaim, usernameClaim, roleValues };
}

