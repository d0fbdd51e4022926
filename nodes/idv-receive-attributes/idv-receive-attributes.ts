import { acquireIdentificationRoutes } from '../../lib/identification/routes';
import { identificationServiceOf } from '../../lib/identification/service';
import type { FailedEvent, VerifiedEvent } from '../../lib/identification/types';
import { getServices } from '../../lib/services';
import { settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';

/**
 * The OIDC callback (GET /auth/callback): checked by lib/auth, values into the attribute cache for the TTL of
 * idv-settings. Output 1 on success: msg.attributeSetId, msg.method, msg.attributeKeys, msg.acr, msg.appointment.id —
 * never values. Output 2 on failure: msg.reason (a code) and msg.appointment.id. The agent is told in plain words either way.
 */
export = function register(RED: NodeAPI): void {
  function IdvReceiveAttributes(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's idiom: the handlers below refer to the node by name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const services = getServices(RED);
    const service = identificationServiceOf(services);
    let release: (() => void) | undefined;
    const counts = { verified: 0, failed: 0 };
    const onVerified = (e: VerifiedEvent) => {
      counts.verified++;
      node.status({ fill: 'green', shape: 'dot', text: `✓ ${counts.verified} · ✗ ${counts.failed}` });
      node.send([
        {
          topic: 'verified',
          attributeSetId: e.attributeSetId,
          requestId: e.requestId,
          method: e.methodId,
          attributeKeys: [...e.attributeKeys],
          acr: e.acr ?? null,
          purpose: e.purpose,
          appointment: { id: e.appointmentId },
        },
        null,
      ]);
    };
    const onFailed = (e: FailedEvent) => {
      counts.failed++;
      node.status({ fill: 'green', shape: 'dot', text: `✓ ${counts.verified} · ✗ ${counts.failed}` });
      node.send([null, { topic: 'failed', reason: e.reason, requestId: e.requestId ?? null, method: e.methodId ?? null, appointment: { id: e.appointmentId ?? null } }]);
    };
    try {
      const settings = settingsOf(RED, def.settings);
      service.setPublicUrl(settings?.publicUrl);
      service.setAttributeTtlMinutes(settings?.attributeTtlMinutes ?? 15);
      service.on('verified', onVerified);
      service.on('failed', onFailed);
      release = acquireIdentificationRoutes(services, service);
      node.status({ fill: 'green', shape: 'dot', text: 'idv-receive-attributes.status.ready' });
    } catch (e) {
      node.error(`idv-receive-attributes: ${(e as Error).message}`);
      node.status({ fill: 'red', shape: 'ring', text: 'idv-receive-attributes.status.invalid' });
    }
    node.on('close', (_removed: boolean, done: () => void) => {
      service.off('verified', onVerified);
      service.off('failed', onFailed);
      release?.();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-receive-attributes', IdvReceiveAttributes);
};
