import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** A server push to one agent's dashboard: `{type, ...}` as JSON. Never contains tokens or attribute values. */
export interface HubMessage {
  readonly type: string;
}

export interface AgentHubOptions {
  /** Open dashboards per agent; a newer one beyond this closes the oldest (4001). Default 5. */
  maxPerAgent?: number;
  /** Keep-alive ping interval; a connection that missed the previous pong is dropped. Default 30 s. */
  pingIntervalMs?: number;
}

export interface AgentHub {
  /** Completes an upgrade that the caller already authenticated as `username` (an agent). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, username: string): void;
  /** Sends to that agent's connections only, never to anyone else. Returns how many were reached. */
  publish<M extends HubMessage>(username: string, message: M): number;
  connectionCount(username?: string): number;
  close(): void;
}

/** The dashboard only listens; a client that talks this much is broken or hostile. */
const MAX_INBOUND_PER_MINUTE = 30;
export const CLOSE_TOO_MANY = 4001;

interface Conn {
  ws: WebSocket;
  alive: boolean;
  inbound: number;
  windowStart: number;
}

/**
 * The live channel of the agent dashboard (`/ws?channel=agent`): one-way pushes (resident waiting, call state,
 * identification results) addressed to one employee by username. There is deliberately no broadcast: what one agent
 * sees about their residents must never reach another agent's screen.
 */
export function createAgentHub(opts: AgentHubOptions = {}): AgentHub {
  const maxPerAgent = opts.maxPerAgent ?? 5;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false, clientTracking: false });
  const byAgent = new Map<string, Conn[]>();
  let closed = false;

  const remove = (username: string, conn: Conn): void => {
    const list = byAgent.get(username);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) byAgent.delete(username);
  };

  const pingTimer = setInterval(() => {
    for (const list of byAgent.values()) {
      for (const c of list) {
        if (!c.alive) {
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }
  }, opts.pingIntervalMs ?? 30_000);
  pingTimer.unref();

  return {
    accept(req, socket, head, username) {
      if (closed) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn: Conn = { ws, alive: true, inbound: 0, windowStart: Date.now() };
        ws.on('pong', () => {
          conn.alive = true;
        });
        ws.on('message', () => {
          const now = Date.now();
          if (now - conn.windowStart > 60_000) {
            conn.windowStart = now;
            conn.inbound = 0;
          }
          if (++conn.inbound > MAX_INBOUND_PER_MINUTE) ws.close(1008, 'this channel only sends');
        });
        ws.on('error', () => ws.terminate());
        ws.on('close', () => remove(username, conn));
        let list = byAgent.get(username);
        if (!list) byAgent.set(username, (list = []));
        list.push(conn);
        while (list.length > maxPerAgent) list.shift()?.ws.close(CLOSE_TOO_MANY, 'too many dashboards open');
        ws.send(JSON.stringify({ type: 'hello' }));
      });
    },
    publish(username, message) {
      if (typeof message?.type !== 'string' || !message.type) throw new Error('hub message needs a type');
      const text = JSON.stringify(message);
      let sent = 0;
      for (const c of byAgent.get(username) ?? []) {
        if (c.ws.readyState !== c.ws.OPEN) continue;
        c.ws.send(text);
        sent++;
      }
      return sent;
    },
    connectionCount(username) {
      if (username !== undefined) return byAgent.get(username)?.length ?? 0;
      let n = 0;
      for (const list of byAgent.values()) n += list.length;
      return n;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(pingTimer);
      for (const list of byAgent.values()) for (const c of list) c.ws.close(1001, 'server shutting down');
      byAgent.clear();
      wss.close();
    },
  };
}
