import { isUserError } from '../../lib/errors';
import { acquireIdentificationRoutes } from '../../lib/identification/routes';
import { identificationServiceOf } from '../../lib/identification/service';
import { getServices } from '../../lib/services';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/node-red';

/**
 * Shows a verified attribute set on the screen of that appointment's agent only: the dashboard is told the set's id
 * and fetches the values itself over an authenticated GET, so values never travel in a message. Input: the message of
 * idv-receive-attributes (msg.attributeSetId, msg.appointment.id); sends it on with msg.shown (dashboards reached).
 */
export = function register(RED: NodeAPI): void {
  function IdvShowToAgent(this: Node, _def: NodeDef): void {
    RED.nodes.createNode(this, _def);
    // Node-RED's idiom: the handlers below refer to the node by name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const services = getServices(RED);
    const service = identificationServiceOf(services);
    const release = acquireIdentificationRoutes(services, service);
    node.status({ fill: 'green', shape: 'dot', text: 'idv-show-to-agent.status.ready' });
    node.on('input', (msg: NodeMessage, send, done) => {
      const appointment = msg.appointment as { id?: unknown } | undefined;
      service
        .showToAgent(msg.attributeSetId, appointment?.id)
        .then((reached) => {
          node.status({ fill: reached ? 'green' : 'yellow', shape: 'dot', text: reached ? 'idv-show-to-agent.status.shown' : 'idv-show-to-agent.status.offline' });
          send({ ...msg, shown: reached });
          done();
        })
        .catch((e: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'idv-show-to-agent.status.failed' });
          done(new Error(isUserError(e) ? e.message : `showing the attributes failed: ${(e as Error).message}`));
        });
    });
    node.on('close', (_removed: boolean, done: () => void) => {
      release();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-show-to-agent', IdvShowToAgent);
};
