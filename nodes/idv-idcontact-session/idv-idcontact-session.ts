import { publicBase } from '../../lib/access/public-base';
import { acquireAccessRoutes } from '../../lib/access/routes';
import { appointmentStoreOf, linkServiceOf } from '../../lib/call/deps';
import { runningCallService } from '../../lib/call/service';
import { eventsOf } from '../../lib/events/runtime';
import { startCommunicationRouter } from '../../lib/idcontact/routes';
import { validateSessionNodeConfig } from '../../lib/idcontact/session-config';
import { settleAbandonedStarts, type StartedSession } from '../../lib/idcontact/start-communication';
import { describeOwner, routeRegistryOf } from '../../lib/http/route-registry';
import { identificationServiceOf } from '../../lib/identification/service';
import { startPeriodic } from '../../lib/runtime/periodic';
import { getServices } from '../../lib/services';
import { toPublicIso } from '../../lib/time';
import { idContactCoreOf, settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

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
    let status = 'idv-idcontact-session.status.invalid';
    try {
      const checked = validateSessionNodeConfig(currentSettings(this, def));
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const { path, coreNodeId, topic, agents, durationMinutes } = checked.config;
      let core;
      try {
        core = idContactCoreOf(RED, coreNodeId);
      } catch (e) {
        status = 'idv-idcontact-session.status.coreIncomplete';
        throw e;
      }
      const settings = { topic, agents, durationMinutes, source: this.id };
      const instance = settingsOf(RED, def.settings);
      const services = getServices(RED);
      // Another node serving the same path would never be reached: the first keeps it, this one says so.
      const claim = routeRegistryOf(services).claim([`${path}/start_communication`], { id: this.id, name: this.name, type: 'idv-idcontact-session' });
      if (!claim.ok) {
        status = 'idv-idcontact-session.status.routeTaken';
        throw new Error(`the path ${path}/start_communication is already served by ${describeOwner(claim.owner)}; give this node a path prefix of its own`);
      }
      releases.push(claim.release);
      const identification = identificationServiceOf(services);
      identification.idContact().knowCore(core);
      identification.setPublicUrl(instance?.publicUrl);
      if (instance?.attributeTtlMinutes) identification.setAttributeTtlMinutes(instance.attributeTtlMinutes);
      const events = eventsOf(services);
      // Language-free counts: sessions started, calls refused.
      const showCounts = () => this.status({ fill: 'green', shape: 'dot', text: `▶ ${counts.started} · ✗ ${counts.refused}` });
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
          showCounts();
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
          showCounts();
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
      for (const release of releases.splice(0)) release();
      this.error(`idv-idcontact-session: ${(e as Error).message}`);
      this.status({ fill: 'red', shape: 'ring', text: status });
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      for (const release of releases.splice(0)) release();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-idcontact-session', IdvIdContactSession);
};
