import type { PubSub, PubSubMessage } from '../store/pubsub';
import type { AgentHub, HubMessage } from './agent-hub';

/**
 * Pushes to one agent's dashboards on every instance (../shared/DESIGN.md, "Several instances"): a new booking made on
 * instance 1, a resident waiting in a room on instance 2, an identification notice — each reaches the agent's open
 * dashboard wherever its live channel is connected. It goes through the store's pub/sub (LISTEN/NOTIFY on PostgreSQL,
 * in-process on SQLite) and each instance's relay hands it to its own hub, which sends to that agent only.
 *
 * Messages are references ({type, appointmentId, state, …}), never contact details, tokens or attribute values.
 */
export interface AgentPush {
  /**
   * Sends to the agent's dashboards everywhere. Resolves to the number of this instance's open dashboards of that
   * agent (dashboards on other instances are reached but not counted; with one instance the count is exact).
   */
  publish<M extends HubMessage>(username: string, message: M): Promise<number>;
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function createAgentPush(pubsub: PubSub, localCount: (username: string) => number): AgentPush {
  return {
    async publish(username, message) {
      if (!USERNAME.test(username)) throw new Error('agent push needs a staff username');
      if (typeof message?.type !== 'string' || !message.type) throw new Error('hub message needs a type');
      await pubsub.publish('agent', { username, message: message as unknown as PubSubMessage });
      return localCount(username);
    },
  };
}

/** This instance's relay: agent pushes from any instance to the local hub. Returns the stop function. */
export function relayAgentPushes(pubsub: PubSub, hub: Pick<AgentHub, 'publish'>): () => void {
  return pubsub.subscribe('agent', (m) => {
    const { username, message } = m as { username?: unknown; message?: unknown };
    if (typeof username !== 'string' || !USERNAME.test(username)) return;
    if (!message || typeof message !== 'object' || typeof (message as HubMessage).type !== 'string') return;
    hub.publish(username, message as HubMessage);
  });
}
