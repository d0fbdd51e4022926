import type { Schedule } from '../../lib/appointments/schedule';
import type { IdContactCore } from '../../lib/idcontact/config';
import type { ContactRegistrar } from '../../lib/openklant/registrar';
import type { InstanceSettings } from '../../lib/settings-node';
import type { GatewayConfig } from '../../lib/sms/gateway-config';
import type { Node, NodeAPI } from './node-red';

export interface SettingsNode extends Node {
  settings?: InstanceSettings;
  problems: string[];
}

/** idv-openklant: the registration queue of one Open Klant (lib/openklant), undefined while its settings are invalid. */
export interface OpenKlantNode extends Node {
  registrar?: ContactRegistrar;
  problems: string[];
}

export interface ScheduleNode extends Node {
  schedule?: Schedule;
  problems: string[];
}

/** An idv-sms-gateway config node as the nodes that use it see it. */
export interface SmsGatewayNode extends Node {
  gateway?: GatewayConfig;
  problems: string[];
  /** The demo catcher (preset `demo`) outside demo mode: valid, but it offers nothing and SMS is off. */
  demoOff?: boolean;
}

/**
 * The SMS gateway a node refers to: undefined when none is selected or it is the demo catcher outside demo mode (SMS
 * off), the node when it is valid, or an error naming what is wrong.
 */
export function smsGatewayOf(RED: NodeAPI, id: unknown): SmsGatewayNode | undefined {
  if (!id) return undefined;
  const n = configNode<SmsGatewayNode>(RED, id, 'idv-sms-gateway');
  if (n.demoOff) return undefined;
  if (!n.gateway) throw new Error(`the SMS gateway "${n.name || n.id}" is invalid: ${n.problems.join('; ')}`);
  return n;
}

/** An idv-idcontact-core config node as the nodes that use it see it. */
export interface IdContactCoreNode extends Node {
  core?: IdContactCore;
  problems: string[];
}

/** The ID Contact core a node refers to (validated), or an error naming what is wrong. */
export function idContactCoreOf(RED: NodeAPI, id: unknown): IdContactCore {
  const n = configNode<IdContactCoreNode>(RED, id, 'idv-idcontact-core');
  if (!n.core) throw new Error(`the ID Contact core "${n.name || n.id}" is invalid: ${n.problems.join('; ')}`);
  return n.core;
}

/** The config node a node refers to, or an error naming what is wrong (missing, wrong type, invalid values). */
export function configNode<T extends Node>(RED: NodeAPI, id: unknown, type: string): T {
  const n = typeof id === 'string' && id ? RED.nodes.getNode(id) : null;
  if (!n) throw new Error(`no ${type} configuration selected`);
  if (n.type !== type) throw new Error(`configuration ${String(id)} is a ${n.type}, not a ${type}`);
  return n as unknown as T;
}

export function scheduleOf(RED: NodeAPI, id: unknown): Schedule {
  const n = configNode<ScheduleNode>(RED, id, 'idv-schedule');
  if (!n.schedule) throw new Error(`the schedule "${n.name || n.id}" is invalid: ${n.problems.join('; ')}`);
  return n.schedule;
}

export function settingsOf(RED: NodeAPI, id: unknown): InstanceSettings | undefined {
  if (!id) return undefined;
  const n = configNode<SettingsNode>(RED, id, 'idv-settings');
  if (!n.settings) throw new Error(`the settings "${n.name || n.id}" are invalid: ${n.problems.join('; ')}`);
  return n.settings;
}
