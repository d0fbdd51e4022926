import { processingActivityProblem } from '../openklant/config';

/** The settings of an idv-request-auth node, checked (the editor shows the same rules through resources/editor.js). */
export interface RequestAuthConfig {
  /** The ids of the idv-auth-method config nodes offered, in slot order. */
  methodNodeIds: string[];
  /** The idv-idcontact-core whose auth methods are offered too, if any. */
  idContactNodeId?: string;
  /** Attribute keys asked for; empty: every claim the method maps. */
  attributeKeys: string[];
  /** The purposes the agent can choose from in the panel. */
  purposes: string[];
  /** Where a request message's purpose comes from: a msg property, or a fixed text. */
  purpose: { type: 'msg' | 'str'; value: string };
  demoMethods: boolean;
  /** The panel's "Vraag identificatie" button triggers this node. */
  button: boolean;
  /**
   * Per purpose, the URI of its processing activity in the gemeente's register (Logboek Dataverwerkingen
   * dpl.core.processing_activity_id), written to every processing-log record of an identification for that purpose.
   */
  processingActivities: Record<string, string>;
}

export const METHOD_SLOTS = ['method1', 'method2', 'method3', 'method4'] as const;
const KEY_RE = /^[a-z][a-zA-Z0-9_]{0,39}$/;
const PURPOSE_RE = /^[^\u0000-\u001f<>]{1,200}$/;
const MSG_PROPERTY_RE = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*|\[\d+\])*$/;

/**
 * Checks the node's settings (version 2 lists, or the 0.1 text for purposes). Problems start with the setting's name
 * so the editor can put each on its field.
 */
export function validateRequestAuthConfig(def: Record<string, unknown>): { ok: true; config: RequestAuthConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const methodNodeIds = METHOD_SLOTS.map((s) => def[s]).filter((v): v is string => typeof v === 'string' && v !== '');
  const demoMethods = def.demoMethods === true || def.demoMethods === 'true';
  const idContactNodeId = typeof def.idcontact === 'string' && def.idcontact !== '' && def.idcontact !== '_ADD_' ? def.idcontact : undefined;
  if (methodNodeIds.length === 0 && !demoMethods && !idContactNodeId) errors.push('method1: select at least one authentication method or an ID Contact core');

  const attributeKeys = (Array.isArray(def.attributes) ? (def.attributes as unknown[]).map(String) : String(def.attributes ?? '').split(/[\s,]+/)).filter(Boolean);
  const badKey = attributeKeys.find((k) => !KEY_RE.test(k));
  if (badKey !== undefined) errors.push(`attributes: "${badKey.slice(0, 40)}" is not an attribute key`);

  const rawPurposes = Array.isArray(def.purposes) ? (def.purposes as unknown[]) : String(def.purposes ?? '').split(/\r?\n/);
  const purposes = rawPurposes.map((p) => (typeof p === 'string' ? p.trim() : '\u0000')).filter((p) => p !== '');
  if (purposes.length > 50) errors.push('purposes: at most 50');
  purposes.forEach((p, i) => {
    if (!PURPOSE_RE.test(p)) errors.push(`purposes[${i}]: 1 to 200 characters, no < > or control characters`);
  });

  const type = def.purposeType === 'str' ? 'str' : 'msg';
  const value = typeof def.purpose === 'string' ? def.purpose.trim() : 'purpose';
  if (def.purposeType !== undefined && def.purposeType !== 'msg' && def.purposeType !== 'str') errors.push('purpose: a msg property or a fixed text');
  else if (type === 'msg' && !MSG_PROPERTY_RE.test(value)) errors.push('purpose: not a msg property such as purpose or payload.purpose');
  else if (type === 'str' && !PURPOSE_RE.test(value)) errors.push('purpose: 1 to 200 characters, no < > or control characters');

  const processingActivities: Record<string, string> = {};
  const rawActivities = def.processingActivities === undefined || def.processingActivities === '' ? [] : def.processingActivities;
  if (!Array.isArray(rawActivities) || rawActivities.length > 50) errors.push('processingActivities: a list of at most 50 purposes with their processing activity');
  else {
    rawActivities.forEach((item: unknown, i) => {
      const purpose = typeof (item as { purpose?: unknown })?.purpose === 'string' ? (item as { purpose: string }).purpose.trim() : '';
      const activity = typeof (item as { activity?: unknown })?.activity === 'string' ? (item as { activity: string }).activity.trim() : '';
      if (!PURPOSE_RE.test(purpose)) errors.push(`processingActivities[${i}].purpose: the purpose exactly as in the list of purposes`);
      const problem = activity ? processingActivityProblem(`processingActivities[${i}].activity`, activity) : `processingActivities[${i}].activity: the URI of the processing activity is required`;
      if (problem) errors.push(problem);
      else if (PURPOSE_RE.test(purpose)) processingActivities[purpose] = activity;
    });
  }

  if (errors.length) return { ok: false, errors };
  return { ok: true, config: { methodNodeIds, ...(idContactNodeId ? { idContactNodeId } : {}), attributeKeys, purposes, purpose: { type, value }, demoMethods, button: def.button !== false && def.button !== 'false', processingActivities } };
}
