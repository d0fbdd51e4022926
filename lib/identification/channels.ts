import { agentPushOf, getCallService } from '../call/service';
import type { Services } from '../services';

/**
 * How identification reaches people: the resident's call page connection (media signaling), the agent's dashboard
 * (live hub), and the news that a call ended. An interface so the service does not care whether the call machinery
 * runs in this process; the default below uses lib/call.
 */
export interface IdentificationChannels {
  /** Pushes to the resident's call page of that appointment only; resolves to the number of connections reached. */
  toResident(appointmentId: string, method: string, data: unknown): Promise<number>;
  /** Pushes to that agent's dashboards only, on every instance; resolves to this instance's dashboards reached. */
  toAgent(username: string, message: { type: string; [k: string]: unknown }): Promise<number>;
  /** Calls fn with the appointment id whenever a call really ended (not a media worker restart); returns the unsubscribe. */
  onCallEnded(fn: (appointmentId: string) => void): () => void;
}

/**
 * The call service's media server and agent hub. The call service starts on first use; when it cannot start (no media
 * worker) nothing is pushed and the pages still find the open request by polling (GET /auth/pending).
 */
export function callServiceChannels(services: Services): IdentificationChannels {
  const call = () => getCallService(services);
  return {
    async toResident(appointmentId, method, data) {
      try {
        return (await call()).media.publish(appointmentId, 'resident', { method, data });
      } catch {
        return 0;
      }
    },
    async toAgent(username, message) {
      try {
        // Started here so this instance's dashboards are served; the push itself goes to every instance.
        await call();
        return await agentPushOf(services).publish(username, message);
      } catch {
        return 0;
      }
    },
    onCallEnded(fn) {
      let off = () => undefined as void;
      let stopped = false;
      call()
        .then((cs) => {
          if (stopped) return;
          const listener = (e: { event: string; appointmentId: string }) => {
            if (e.event === 'callEnded') fn(e.appointmentId);
          };
          // The media room lingers up to a minute after the last participant left (for a quick rejoin); verified
          // values should not: they go as soon as nobody is in the call any more.
          const everyoneLeft = (appointmentId: string, p: { resident: boolean; agent: boolean }) => {
            if (!p.resident && !p.agent) fn(appointmentId);
          };
          cs.presence.on('call', listener);
          cs.presence.on('presence', everyoneLeft);
          off = () => {
            cs.presence.off('call', listener);
            cs.presence.off('presence', everyoneLeft);
          };
        })
        .catch(() => undefined);
      return () => {
        stopped = true;
        off();
      };
    },
  };
}
