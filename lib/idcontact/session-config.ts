/**
 * The settings of an idv-idcontact-session node, checked by the node and by the editor (resources/editor.js through
 * lib/node-config/validate.ts). Problems start with the setting's name.
 */
export interface SessionNodeConfig {
  /** The idv-idcontact-core config node. */
  coreNodeId: string;
  /** Path prefix the core is given as this plugin's `start` URL ('' or e.g. '/idcontact'). */
  path: string;
  topic: string;
  /** Staff usernames, lowercase, each once. */
  agents: string[];
  durationMinutes: number;
}

const PATH_RE = /^(\/[a-z0-9][a-z0-9_-]{0,40}){0,3}$/;
const TOPIC_RE = /^[^\u0000-\u001f\u007f<>]{1,100}$/;
const USERNAME_RE = /^[a-z0-9._@-]{1,64}$/;

export function validateSessionNodeConfig(def: Record<string, unknown>): { ok: true; config: SessionNodeConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const coreNodeId = typeof def.core === 'string' && def.core !== '' && def.core !== '_ADD_' ? def.core : '';
  if (!coreNodeId) errors.push('core: select an ID Contact core');
  const path = typeof def.path === 'string' ? def.path.trim().replace(/\/+$/, '') : '';
  if (!PATH_RE.test(path)) errors.push('path: empty, or up to three /segments of lowercase letters, digits, - and _');
  const topic = typeof def.topic === 'string' ? def.topic.trim() : '';
  if (!TOPIC_RE.test(topic)) errors.push('topic: 1 to 100 characters without < > or control characters');
  const raw = Array.isArray(def.agents) ? (def.agents as unknown[]) : typeof def.agents === 'string' ? def.agents.split(/[\s,]+/) : [];
  const agents = [...new Set(raw.map((a) => String(a ?? '').trim().toLowerCase()).filter(Boolean))];
  if (agents.length === 0 || agents.length > 50) errors.push('agents: 1 to 50 staff usernames');
  else if (!agents.every((a) => USERNAME_RE.test(a))) errors.push('agents: staff usernames (letters, digits, . _ @ -)');
  const duration = def.durationMinutes === undefined || def.durationMinutes === '' ? 30 : Number(def.durationMinutes);
  if (!Number.isInteger(duration) || duration < 5 || duration > 240) errors.push('durationMinutes: 5 to 240');
  if (errors.length) return { ok: false, errors };
  return { ok: true, config: { coreNodeId, path, topic, agents, durationMinutes: duration } };
}
