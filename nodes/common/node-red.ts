/**
 * The slice of the Node-RED runtime API our nodes use. Written out here instead of depending on @types/node-red so
 * the contract our adapters rely on is visible in one place.
 */
import type { Application } from 'express';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type NodeMessage = Record<string, unknown> & { _msgid?: string };
export type SendFn = (msg: NodeMessage | (NodeMessage | null)[] | null) => void;
export type DoneFn = (err?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | (NodeMessage | null)[] | null): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string | Error, msg2?: NodeMessage): void;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType<N extends Node>(type: string, ctor: (this: N, def: NodeDef) => void, opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, { value: unknown; exportable?: boolean }> }): void;
    getNode(id: string): (Node & Record<string, unknown>) | null;
    /** Every node of the deployed flows as configured (type, wires, links…), not the running instances. */
    eachNode?(cb: (def: NodeDef) => void): void;
  };
  /** Runtime events; 'flows:started' fires when a (re)deploy has started every node. */
  events?: { on(event: string, fn: (...args: unknown[]) => void): void; off?(event: string, fn: (...args: unknown[]) => void): void; removeListener(event: string, fn: (...args: unknown[]) => void): void };
  settings: Record<string, unknown>;
  httpNode: Application;
  httpAdmin: Application;
  server?: import('node:http').Server;
  auth: { needsPermission(permission: string): import('express').RequestHandler };
  log: { info(m: string): void; warn(m: string): void; error(m: string): void; debug?(m: string): void };
  _: (key: string, subs?: Record<string, unknown>) => string;
  util: {
    /** Reads a typedInput value (msg property, fixed text, …) for one message. */
    evaluateNodeProperty(value: unknown, type: string, node: Node, msg: NodeMessage): unknown;
  };
}
