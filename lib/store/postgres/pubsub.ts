import type { Client } from 'pg';
import { encodeMessage, PUBSUB_TOPICS, type PubSub, type PubSubMessage, type PubSubTopic } from '../pubsub';
import { faultCode } from '../faults';
import type { Pg } from './client';

export interface PostgresPubSubOptions {
  log?: { warn(m: string): void; info(m: string): void };
  /** First pause before reconnecting the listener; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Pub/sub over PostgreSQL LISTEN/NOTIFY (https://www.postgresql.org/docs/15/sql-notify.html). One dedicated connection
 * per instance LISTENs (a pooled connection cannot: it goes back to the pool); publishing is `pg_notify` on any pooled
 * connection. Channels are `idv_<topic>_<schema>`, so several deployments (or test schemas) in one database do not
 * hear each other. When the listening connection breaks it is re-established with backoff; what was sent meanwhile
 * is lost for this instance (at most once, see lib/store/pubsub.ts).
 */
export function createPostgresPubSub(pg: Pg, o: PostgresPubSubOptions = {}): PubSub {
  const handlers = new Map<PubSubTopic, Set<(m: PubSubMessage) => void>>();
  let schema: Promise<string> | undefined;
  let client: Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let backoff = o.backoffMs ?? 500;
  let retryTimer: NodeJS.Timeout | undefined;
  let warned = false;
  /** LISTENs for topics subscribed after the connection was up. */
  let added: Promise<unknown> = Promise.resolve();

  const schemaName = () => {
    schema ??= pg.query<{ s: string }>('SELECT current_schema() AS s').then(([r]) => r.s.replace(/[^a-z0-9_]/gi, '_').slice(0, 40));
    return schema;
  };
  const channelOf = async (topic: PubSubTopic) => `idv_${topic}_${await schemaName()}`;

  const dispatch = (channel: string, payload: string | undefined) => {
    void (async () => {
      for (const topic of PUBSUB_TOPICS) {
        if ((await channelOf(topic)) !== channel) continue;
        let message: PubSubMessage;
        try {
          message = JSON.parse(payload ?? '') as PubSubMessage;
        } catch {
          return;
        }
        for (const h of handlers.get(topic) ?? []) {
          try {
            h(message);
          } catch {
            /* a handler's failure is its own */
          }
        }
      }
    })();
  };

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect().catch(() => scheduleReconnect());
    }, backoff);
    retryTimer.unref();
    backoff = Math.min(backoff * 2, o.maxBackoffMs ?? 30_000);
  };

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      try {
        const c = await pg.dedicated();
        c.on('notification', (n) => dispatch(n.channel, n.payload));
        const lost = (e?: Error) => {
          if (client !== c) return;
          client = undefined;
          c.removeAllListeners('notification');
          c.end().catch(() => undefined);
          if (closed) return;
          if (!warned) o.log?.warn(`live updates between instances interrupted (${e ? faultCode(e) : 'connection ended'}); reconnecting`);
          warned = true;
          scheduleReconnect();
        };
        c.on('error', lost);
        c.on('end', () => lost());
        for (const topic of handlers.keys()) await c.query(`LISTEN "${await channelOf(topic)}"`);
        if (closed) {
          await c.end();
          return;
        }
        client = c;
        if (warned) o.log?.info('live updates between instances work again');
        warned = false;
        backoff = o.backoffMs ?? 500;
      } catch (e) {
        if (!warned) o.log?.warn(`live updates between instances cannot listen (${faultCode(e)}); retrying`);
        warned = true;
        throw e;
      } finally {
        connecting = undefined;
      }
    })();
    return connecting;
  };

  return {
    async publish(topic, message) {
      if (closed) throw new Error('pub/sub closed');
      const text = encodeMessage(topic, message);
      await pg.query('SELECT pg_notify($1, $2)', [await channelOf(topic), text]);
    },
    subscribe(topic, handler) {
      encodeMessage(topic, {});
      let set = handlers.get(topic);
      const fresh = !set;
      if (!set) handlers.set(topic, (set = new Set()));
      set.add(handler);
      if (fresh) {
        if (client) {
          const c = client;
          added = added.then(() => channelOf(topic)).then((ch) => c.query(`LISTEN "${ch}"`)).catch(() => undefined);
        } else void connect().catch(() => scheduleReconnect());
      }
      return () => void set.delete(handler);
    },
    async listening() {
      if (handlers.size === 0) return;
      if (!client) await (connecting ?? connect());
      await added;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      handlers.clear();
      const c = client;
      client = undefined;
      await connecting?.catch(() => undefined);
      await c?.end().catch(() => undefined);
    },
  };
}
