import { validateAuthMethod, type AuthMethod } from '../auth/method';
import { isUserError } from '../errors';

/** The runtime shape of an idv-auth-method config node as the nodes that use it see it. */
export interface AuthMethodNode {
  id: string;
  type: string;
  name?: string;
  method?: AuthMethod;
  problems: string[];
}

/**
 * Turns the idv-auth-method editor fields (flat strings, as Node-RED stores them) and its credentials into the input
 * of validateAuthMethod. Every problem is reported by field; a secret never appears in a problem.
 */
export function methodFromEditor(def: Record<string, unknown>, creds: Record<string, string | undefined>): { ok: true; method: AuthMethod } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const str = (k: string) => (typeof def[k] === 'string' ? (def[k] as string).trim() : '');

  // Settings version 2 keeps lists ({name, value} pairs, acr values); 0.1 kept "name=value" lines and one text.
  const extraAuthParams: Record<string, string> = {};
  if (Array.isArray(def.extraAuthParams)) {
    for (const p of def.extraAuthParams as unknown[]) {
      const o = (typeof p === 'object' && p !== null ? p : {}) as { name?: unknown; value?: unknown };
      const name = typeof o.name === 'string' ? o.name.trim() : '';
      if (!name) {
        errors.push('extraAuthParams: every parameter needs a name');
        break;
      }
      extraAuthParams[name] = typeof o.value === 'string' ? o.value.trim() : '';
    }
  } else {
    for (const line of str('extraAuthParams').split(/\r?\n/)) {
      if (!line.trim()) continue;
      const eq = line.indexOf('=');
      if (eq < 1) {
        errors.push('extraAuthParams: one name=value per line');
        break;
      }
      extraAuthParams[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }

  let claims: unknown = def.claims;
  if (typeof claims === 'string') {
    try {
      claims = JSON.parse(claims);
    } catch {
      errors.push('claims: not a list');
      claims = [];
    }
  }

  const order = Array.isArray(def.acrOrder)
    ? (def.acrOrder as unknown[]).filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter(Boolean)
    : str('acrOrder').split(/[\s,]+/).filter(Boolean);
  const minimum = str('acrMinimum');
  const acr = minimum ? { minimum, order } : undefined;

  let privateKey: string | Record<string, unknown> | undefined = creds.privateKey?.trim() || undefined;
  if (typeof privateKey === 'string' && privateKey.startsWith('{')) {
    try {
      privateKey = JSON.parse(privateKey) as Record<string, unknown>;
    } catch {
      errors.push('privateKey: neither a PEM nor a JSON Web Key');
    }
  }

  const input = {
    id: str('methodId'),
    displayName: str('displayName'),
    logo: str('logo') === 'url' ? str('logoUrl') : str('logo') || 'generic',
    issuer: str('issuer'),
    clientId: str('clientId'),
    clientAuth: str('clientAuth'),
    credentials: {
      ...(creds.clientSecret ? { clientSecret: creds.clientSecret } : {}),
      ...(privateKey ? { privateKey } : {}),
      ...(creds.privateKeyId ? { privateKeyId: creds.privateKeyId } : {}),
    },
    scopes: str('scopes') || 'openid',
    extraAuthParams,
    ...(acr ? { acr } : {}),
    claims,
    allowInsecureLoopback: def.allowInsecureLoopback === true || def.allowInsecureLoopback === 'true',
  };
  if (errors.length) return { ok: false, errors };
  try {
    return { ok: true, method: validateAuthMethod(input) };
  } catch (e) {
    if (isUserError(e) && e.fields) return { ok: false, errors: Object.entries(e.fields).map(([f, m]) => `${f}: ${m}`) };
    return { ok: false, errors: [(e as Error).message] };
  }
}
