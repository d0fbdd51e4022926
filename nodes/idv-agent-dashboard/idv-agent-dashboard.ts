import { validateDashboardConfig } from '../../lib/call/dashboard-config';
import { callEventMessage, type CallEvent } from '../../lib/call/presence';
import { outcomeMessage, outcomesOf } from '../../lib/outcomes/runtime';
import type { Outcome } from '../../lib/outcomes/types';
import { callRoutes } from '../../lib/call/routes';
import { getCallService, runningCallService, type CallService } from '../../lib/call/service';
import { getServices } from '../../lib/services';
import { MediaWorkerMissingError } from '../../media-server/mediasoup-loader';
import { publicBase } from '../../lib/access/public-base';
import type { DocumentInfo } from '../../lib/documents/service';
import { mailHost } from '../../lib/mail-service';
import type { InstanceSettings } from '../../lib/settings-node';
import { settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

/**
 * Serves the agents' dashboard (/agent, /agent/call/<id>) and the residents' call page (/call), hooks /ws into the
 * runtime's HTTP server (once per process; the media server lives as long as the runtime), and sends one message per
 * call event. All logic is in lib/call, lib/agent-pages and lib/call-pages.
 */
export = function register(RED: NodeAPI): void {
  function IdvAgentDashboard(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    let closed = false;
    let unmount: (() => void) | undefined;
    let call: CallService | undefined;
    let detach: (() => void) | undefined;
    let detachOutcomes: (() => void) | undefined;

    const showStatus = (): void => {
      if (!call) return;
      const live = call.presence.live().filter((id) => {
        const p = call!.presence.get(id);
        return p.resident && p.agent;
      }).length;
      // A number, not words: the status reaches every editor, each in its own language.
      this.status({ fill: 'green', shape: live ? 'dot' : 'ring', text: live ? `☎ ${live}` : 'idv-agent-dashboard.status.ready' });
    };

    try {
      const checked = validateDashboardConfig(currentSettings(this, def));
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const { days } = checked;
      // A selected but invalid settings node is an error here too.
      const instance: InstanceSettings | undefined = settingsOf(RED, def.settings);
      const services = getServices(RED);
      const outcomes = outcomesOf(services);
      // How every appointment ended, as a message with ids and codes only.
      const onOutcome = (o: Outcome): void => {
        this.send(outcomeMessage(o));
      };
      outcomes.on('outcome', onOutcome);
      detachOutcomes = () => outcomes.off('outcome', onOutcome);
      // /agent and /call are one UI per runtime: a second dashboard node (an imported example) shares the pages of
      // the first instead of mounting a copy nobody reaches, and reports the call events as well.
      unmount = services.mountShared('agent-dashboard', () => {
        const presence = () => {
          const c = runningCallService(services);
          return c && ((id: string) => c.presence.get(id));
        };
        return callRoutes(services, { days, presence, log: (m) => services.log.warn(m) });
      });
      this.status({ fill: 'yellow', shape: 'ring', text: 'idv-agent-dashboard.status.starting' });

      getCallService(services)
        .then((c) => {
          if (closed) return;
          call = c;
          // /ws sits beside the pages, under httpNodeRoot.
          const root = RED.settings.httpNodeRoot;
          if (RED.server) c.attach(RED.server, typeof root === 'string' && root ? root : '/');
          else this.warn('no HTTP server to attach /ws to: calls cannot connect');
          const onCall = (e: CallEvent): void => {
            this.send(callEventMessage(e));
          };
          const onPresence = (): void => showStatus();
          // A shared document: references only (id, kind, size), never bytes; idv-fetch-document gets the bytes once.
          const onDocument = (d: DocumentInfo): void => {
            this.send({ topic: 'documentShared', event: 'documentShared', appointment: { id: d.appointmentId }, documentId: d.documentId, kind: d.kind, size: d.size });
          };
          // Outcomes: call ends from this presence, no-shows decided after the end + grace (lib/outcomes).
          outcomes.attach(c.presence);
          c.presence.on('call', onCall);
          c.presence.on('presence', onPresence);
          c.documents.on('shared', onDocument);
          // Invitations of a third participant go out with this node's settings (sender, public address).
          if (instance) {
            const base = publicBase(services.config, instance.publicUrl);
            c.guests.configure({ base, host: mailHost(base), municipality: instance.municipality, fromAddress: instance.fromAddress });
          }
          detach = () => {
            c.presence.off('call', onCall);
            c.presence.off('presence', onPresence);
            c.documents.off('shared', onDocument);
          };
          showStatus();
        })
        .catch((e: unknown) => {
          if (closed) return;
          this.error(`idv-agent-dashboard: ${(e as Error).message}`);
          // A missing worker is an installation step, not an outage: the status says which command to run.
          const missing = e instanceof MediaWorkerMissingError;
          const text = !missing ? 'idv-agent-dashboard.status.mediaDown' : e.command.startsWith('npx') ? 'idv-agent-dashboard.status.workerMissing' : 'idv-agent-dashboard.status.workerMissingCheckout';
          this.status({ fill: 'red', shape: 'ring', text });
        });
    } catch (e) {
      this.error(`idv-agent-dashboard: ${(e as Error).message}`);
      this.status({ fill: 'red', shape: 'ring', text: 'idv-agent-dashboard.status.invalid' });
    }

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      detach?.();
      detachOutcomes?.();
      unmount?.();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-agent-dashboard', IdvAgentDashboard);
};
