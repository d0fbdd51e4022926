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
 * How long nobody may be connected to a call before it counts as ended for identification (verified values and open
 * requests are deleted), in milliseconds. Long enough for a reload or a reconnect (a few seconds, more on a busy
 * machine), short against the retention time of minutes. The agent's "Ophangen" and a closed media room end it at once.
 */
export const EVERYONE_LEFT_GRACE_MS = 10_000;

/**
 * The call service's media server and agent hub. The call service starts on first use; when it cannot start (no media
 * worker) nothing is pushed and the pages still find the open request by polling (GET /auth/pending).
 */
export function callServiceChannels(services: Services, o: { everyoneLeftGraceMs?: number } = {}): IdentificationChannels {
  const everyoneLeftGraceMs = o.everyoneLeftGraceMs ?? EVERYONE_LEFT_GRACE_MS;
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
          // Appointments nobody is connected to, with the timer that ends their call unless someone comes back.
          const empty = new Map<string, NodeJS.Timeout>();
          const forget = (appointmentId: string) => {
            clearTimeout(empty.get(appointmentId));
            empty.delete(appointmentId);
          };
          const listener = (e: { event: string; appointmentId: string }) => {
            if (e.event !== 'callEnded') return;
            forget(e.appointmentId);
            fn(e.appointmentId);
          };
          // The media room lingers up to a minute after the last participant left (for a quick rejoin); verified
          // values should not: they go once nobody has been in the call for EVERYONE_LEFT_GRACE_MS. Not at the very
          // moment both are out: a reload or a reconnect of one side while the other is briefly away (at DigiD, or
          // its own connection blipping) is not the end of the call, and ending it there deleted the values and the
          // open request under the people still in it (seen under load in runtime-call.test.ts).
          const presence = (appointmentId: string, p: { resident: boolean; agent: boolean }) => {
            if (p.resident || p.agent) return forget(appointmentId);
            if (empty.has(appointmentId)) return;
            const timer = setTimeout(() => {
              empty.delete(appointmentId);
              const now = cs.presence.get(appointmentId);
              if (!now.resident && !now.agent) fn(appointmentId);
            }, everyoneLeftGraceMs);
            timer.unref();
            empty.set(appointmentId, timer);
          };
          cs.presence.on('call', listener);
          cs.presence.on('presence', presence);
          off = () => {
            cs.presence.off('call', listener);
            cs.presence.off('presence', presence);
            for (const id of [...empty.keys()]) forget(id);
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
