import { EventEmitter } from 'node:events';

/**
 * Messages between the instances that share one store: a push for an agent's dashboard made on one instance reaches
 * the dashboard wherever it is connected. Fire and forget, at most once: a message sent while an instance's listener
 * is reconnecting is lost for that instance (dashboards also poll, so they catch up). Never for personal data: the
 * messages are small JSON references ({type, appointmentId, …}), never contact details, tokens or attribute values.
 *
 * Two implementations with the same behaviour: in-process (one instance, SQLite; lib/store/pubsub.ts) and
 * PostgreSQL LISTEN/NOTIFY (lib/store/postgres/pubsub.ts). In both, a publisher receives its own messages (through
 * the same path as everyone else), and delivery is asynchronous: never inside publish().
 */
export interface PubSub {
  /** Sends to every subscriber of the topic on every instance. Resolves when the message was handed over. */
  publish(topic: PubSubTopic, message: PubSubMessage): Promise<void>;
  /** Calls `handler` for each message of the topic; returns the unsubscribe function. */
  subscribe(topic: PubSubTopic, handler: (message: PubSubMessage) => void): () => void;
  /** Resolves once every subscription made so far receives messages (PostgreSQL: its LISTEN is active). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

/** Topics are a fixed set: each is a LISTEN channel (`idv_<topic>`) on PostgreSQL. */
export type PubSubTopic = 'agent';
export const PUBSUB_TOPICS: readonly PubSubTopic[] = ['agent'];

export type PubSubMessage = Record<string, unknown>;

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; we stay far below it and refuse larger messages everywhere. */
export const MAX_PUBSUB_BYTES = 4000;

/** The message as JSON, checked for size and topic (the same on both engines). */
export function encodeMessage(topic: string, message: PubSubMessage): string {
  if (!(PUBSUB_TOPICS as readonly string[]).includes(topic)) throw new Error(`unknown pub/sub topic ${String(topic).slice(0, 40)}`);
  const text = JSON.stringify(message);
  if (typeof text !== 'string' || Buffer.byteLength(text) > MAX_PUBSUB_BYTES) throw new Error('pub/sub messages are small JSON objects (at most 4000 bytes)');
  return text;
}

/** One instance: an event emitter, with the same asynchronous delivery and JSON round trip as the PostgreSQL one. */
export function createLocalPubSub(): PubSub {
  const emitter = new EventEmitter().setMaxListeners(0);
  let closed = false;
  return {
    async publish(topic, message) {
      if (closed) throw new Error('pub/sub closed');
      const text = encodeMessage(topic, message);
      setImmediate(() => emitter.emit(topic, text));
    },
    subscribe(topic, handler) {
      const listener = (text: string) => {
        try {
          handler(JSON.parse(text) as PubSubMessage);
        } catch {
          /* a handler's failure is its own; other subscribers still get the message */
        }
      };
      emitter.on(topic, listener);
      return () => void emitter.off(topic, listener);
    },
    async listening() {
      /* subscriptions are active at once */
    },
    async close() {
      closed = true;
      emitter.removeAllListeners();
    },
  };
}
