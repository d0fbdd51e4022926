import { publicBase } from '../../lib/access/public-base';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { runningCallService } from '../../lib/call/service';
import { eventsOf } from '../../lib/events/runtime';
import { startCommunicationRouter } from '../../lib/idcontact/routes';
import { settleAbandonedStarts, validateUnplannedSettings, type StartedSession } from '../../lib/idcontact/start-communication';
import { identificationServiceOf } from '../../lib/identification/service';
import { startPeriodic } from '../../lib/runtime/periodic';
import { getServices } from '../../lib/services';
import { toPublicIso } from '../../lib/time';
import { idContactCoreOf, settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';

const PATH_RE = /^(\/[a-z0-9][a-z0-9_-]{0,40}){0,3}$/;

/**
 * ID Video as the video channel of an ID Contact core: serves `POST <path>/start_communication` for the configured
 * core only. Each call makes an unplanned appointment that starts now (topic and agent group of this node) and
 * answers the resident's link into the waiting room; with an auth_result the verified attributes wait for the agent.
 * Output: one message per started session — msg.eventId, msg.appointment {id, start, end, topic, agent, channel},
 * msg.purpose and, when attributes came, msg.attributeSetId and msg.attributeKeys. Never values, links or tokens.
 */
export = function register(RED: NodeAPI): void {
  function IdvIdContactSession(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const releases: (() => void)[] = [];
    const counts = { started: 0, refused: 0 };
    try {
      const path = typeof def.path === 'string' ? def.path.trim().replace(/\/+$/, '') : '';
      if (!PATH_RE.test(path)) throw new Error('path: empty, or up to three /segments of lowercase letters, digits, - and _');
      const core = idContactCoreOf(RED, def.core);
      const settings = validateUnplannedSettings({ topic: def.topic, agents: def.agents, durationMinutes: def.durationMinutes }, this.id);
      const instance = settingsOf(RED, def.settings);
      const services = getServices(RED);
      const identification = identificationServiceOf(services);
      identification.setPublicUrl(instance?.publicUrl);
      if (instance?.attributeTtlMinutes) identification.setAttributeTtlMinutes(instance.attributeTtlMinutes);
      const events = eventsOf(services);
      const status = () => this.status({ fill: 'green', shape: 'dot', text: RED._('idv-idcontact-session.status.counts', counts) });
      const router = startCommunicationRouter({
        services,
        path,
        core,
        settings,
        deps: {
          appointments: appointmentStoreOf(services),
          events: events.store,
          links: linkServiceOf(services),
          identification,
          instanceId: events.instanceId,
          publicBase: () => publicBase(services.config, instance?.publicUrl),
        },
        onStarted: (s: StartedSession) => {
          counts.started++;
          status();
          const a = s.appointment;
          this.send({
            topic: 'started',
            eventId: s.eventId,
            appointment: { id: a.id, start: toPublicIso(a.startUtc), end: toPublicIso(a.endUtc), topic: a.topic, agent: a.agent, channel: 'idcontact' },
            purpose: core.purpose,
            ...(s.identification?.attributeSetId ? { attributeSetId: s.identification.attributeSetId, attributeKeys: s.identification.attributeKeys ?? [] } : {}),
          });
          // The agent's open dashboard shows the new session at once.
          runningCallService(services)?.hub.publish(a.agent, { type: 'appointments' });
        },
        onRefused: (code) => {
          counts.refused++;
          status();
          this.warn(RED._('idv-idcontact-session.warn.refused', { code }));
        },
      });
      releases.push(services.mount(router));
      // The resident's client_url is an access link (/v/<token>): served here too, also in a flow without idv-session-link.
      releases.push(acquireAccessRoutes(services));
      // Sessions whose answer never went out (a stop between the appointment and its link) are closed, not left open.
      const sweep = startPeriodic({
        name: `idv-idcontact-session ${this.id}: unanswered sessions`,
        everyMs: 5 * 60_000,
        log: { warn: (m) => this.warn(m), info: (m) => this.log(m) },
        run: async () => {
          await events.ready;
          const n = await settleAbandonedStarts({ events: events.store, instanceId: events.instanceId }, this.id);
          if (n > 0) this.log(RED._('idv-idcontact-session.log.abandoned', { n }));
        },
      });
      releases.push(() => void sweep.stop());
      this.status({ fill: 'green', shape: 'dot', text: 'idv-idcontact-session.status.ready' });
    } catch (e) {
      const problem = (e as Error).message;
      this.error(`idv-idcontact-session: ${problem}`);
      this.status({ fill: 'red', shape: 'ring', text: problem.slice(0, 60) });
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      for (const release of releases.splice(0)) release();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-idcontact-session', IdvIdContactSession);
};
