
/* Free of Node imports: bundled into the editor (resources/editor.js). */

/** Checks an API root: http(s), no credentials, query or fragment. Returns a problem text or undefined. */
export function baseUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'baseUrl: the address of the Klantinteracties API is required';
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    return 'baseUrl: not a valid address (https://…/klantinteracties/api/v1)';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'baseUrl: must start with https://';
  if (u.username || u.password || u.search || u.hash) return 'baseUrl: no user name, password, query or # part';
  return undefined;
}

/** The settings of an idv-openklant config node (the token is a credential, checked separately). */
export interface OpenKlantSettings {
  baseUrl: string;
  /** Per call, 1–60 s (default 10). */
  timeoutSeconds: number;
  /**
   * The processing activity (verwerkingsactiviteit) in the gemeente's register that registering a contact belongs to:
   * a URI, written to each 'contact_registered' record of the processing log (Logboek Dataverwerkingen).
   */
  processingActivityId?: string;
}

/** A processing activity id: an http(s) URI or a URN of at most 500 characters; undefined when fine or empty. */
export function processingActivityProblem(field: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 500 || !/^(https?:\/\/|urn:)[^\s<>"]+$/.test(value.trim())) {
    return `${field}: must be the URI of the processing activity in your register (https://… or urn:…)`;
  }
  return undefined;
}

/**
 * Checks an idv-openklant node's settings; `credentials` undefined skips the token (the editor never sees it).
 * Problems start with the field's name.
 */
export function validateOpenKlantConfig(
  def: Record<string, unknown>,
  credentials?: Record<string, string | undefined>,
): { ok: true; settings: OpenKlantSettings } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const baseProblem = baseUrlProblem(def.baseUrl);
  if (baseProblem) errors.push(baseProblem);
  const t = def.timeoutSeconds === undefined || def.timeoutSeconds === '' ? 10 : Number(def.timeoutSeconds);
  if (!Number.isInteger(t) || t < 1 || t > 60) errors.push('timeoutSeconds: a whole number of seconds from 1 to 60');
  const pa = processingActivityProblem('processingActivityId', def.processingActivityId);
  if (pa) errors.push(pa);
  if (credentials !== undefined && (typeof credentials.token !== 'string' || credentials.token.trim().length < 8)) {
    errors.push('token: the API token of Open Klant is required (Authorization: Token …)');
  }
  if (errors.length) return { ok: false, errors };
  const activity = typeof def.processingActivityId === 'string' && def.processingActivityId.trim() ? def.processingActivityId.trim() : undefined;
  return { ok: true, settings: { baseUrl: String(def.baseUrl).trim(), timeoutSeconds: t, ...(activity ? { processingActivityId: activity } : {}) } };
}
