import type { AuthMethod } from '../../lib/auth/method';
import { isUserError } from '../../lib/errors';
import { demoMethods } from '../../lib/identification/demo';
import type { AuthMethodNode } from '../../lib/identification/method-config';
import type { IdContactCore } from '../../lib/idcontact/config';
import { validateRequestAuthConfig } from '../../lib/identification/request-config';
import { acquireIdentificationRoutes } from '../../lib/identification/routes';
import { identificationServiceOf } from '../../lib/identification/service';
import type { AskedEvent } from '../../lib/identification/types';
import { getServices } from '../../lib/services';
import { configNode, idContactCoreOf, settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/node-red';
import { currentSettings } from '../common/settings';

/**
 * The agent asks the resident to identify: input msg.appointment.id, the purpose (msg.purpose, or where the node's
 * "purpose" typed input says), msg.agent and optionally msg.methods
 * (a subset of the offered method ids). The methods are the selected idv-auth-method nodes (OpenID Connect) and, with
 * an idv-idcontact-core selected, the auth methods that core offers for its purpose (asked at each request). Pushes
 * the method-choice pop-up into that appointment's call and sends the msg
 * on with msg.requestId. An agent asking in someone else's appointment gets an error here and a plain message on
 * their own dashboard.
 */
export = function register(RED: NodeAPI): void {
  function IdvRequestAuth(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's idiom: the handlers below refer to the node by name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    let release: (() => void) | undefined;
    let problem: string | undefined;
    const configured: AuthMethod[] = [];
    let idContact: IdContactCore | undefined;
    let attributeKeys: string[] = [];
    let purposeFrom = { type: 'msg', value: 'purpose' };
    let status = 'idv-request-auth.status.invalid';
    const services = getServices(RED);
    const service = identificationServiceOf(services);
    try {
      const checked = validateRequestAuthConfig(currentSettings(node, def));
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const config = checked.config;
      const settings = settingsOf(RED, def.settings);
      service.setPublicUrl(settings?.publicUrl);
      for (const id of config.methodNodeIds) {
        const n = configNode<Node & AuthMethodNode>(RED, id, 'idv-auth-method');
        if (!n.method) {
          status = 'idv-request-auth.status.methodIncomplete';
          throw new Error(`the method "${n.name || n.id}" is invalid: ${n.problems.join('; ')}`);
        }
        configured.push(n.method);
      }
      if (config.idContactNodeId) {
        try {
          idContact = idContactCoreOf(RED, config.idContactNodeId);
          // Results of attempts another instance started may land here: this instance knows the core by its prefix.
          service.idContact().knowCore(idContact);
        } catch (e) {
          status = 'idv-request-auth.status.methodIncomplete';
          throw e;
        }
      }
      attributeKeys = config.attributeKeys;
      purposeFrom = config.purpose;
      const demo = config.demoMethods && services.config.mode === 'demo';
      if (config.demoMethods && !demo) node.warn('idv-request-auth: the demo methods exist in demo mode only; they are not offered');
      if (configured.length === 0 && !demo && !idContact) throw new Error('select at least one authentication method or an ID Contact core');
      service.setPurposes(config.purposes);
      service.setProcessingActivities(config.processingActivities);
      if (config.button) service.on('asked', onAsked);
      release = acquireIdentificationRoutes(services, service);
      node.status({ fill: 'green', shape: 'dot', text: 'idv-request-auth.status.ready' });
    } catch (e) {
      problem = (e as Error).message;
      node.error(`idv-request-auth: ${problem}`);
      node.status({ fill: 'red', shape: 'ring', text: status });
    }

    service.reportOffer(node.id, problem);

    const offered = async (): Promise<AuthMethod[]> => {
      if (def.demoMethods !== true || services.config.mode !== 'demo') return configured;
      const demo = await demoMethods(services, service.callbackUrl());
      return [...configured, ...demo.methods.filter((m) => !configured.some((c) => c.id === m.id))];
    };

    // A callback may land here for a request another instance started: this instance knows the methods by id.
    if (!problem) offered().then((ms) => service.rememberMethodNames(ms), () => undefined);

    const handle = (msg: NodeMessage, purpose: unknown, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      if (problem) return done(new Error(`idv-request-auth is not configured: ${problem}`));
      const appointment = msg.appointment as { id?: unknown } | undefined;
      void (async () => {
        const { request, delivered } = await service.request({
          appointmentId: appointment?.id,
          agent: msg.agent,
          purpose,
          methods: await offered(),
          onlyMethodIds: msg.methods,
          attributeKeys,
          ...(idContact ? { idContact } : {}),
          ...(msg.traceparent !== undefined ? { traceparent: msg.traceparent } : {}),
        });
        node.status({ fill: delivered ? 'green' : 'yellow', shape: 'dot', text: delivered ? 'idv-request-auth.status.shown' : 'idv-request-auth.status.waiting' });
        send({ ...msg, requestId: request.requestId, methods: request.methodIds, attributeKeys: request.attributeKeys, delivered: delivered > 0 });
        done();
      })().catch((e: unknown) => {
        const text = isUserError(e) ? e.message : `identification request failed: ${(e as Error).message}`;
        node.status({ fill: 'red', shape: 'ring', text: 'idv-request-auth.status.failed' });
        done(new Error(text));
      });
    };
    node.on('input', (msg, send, done) => {
      let purpose: unknown;
      try {
        purpose = RED.util.evaluateNodeProperty(purposeFrom.value, purposeFrom.type, node, msg);
      } catch (e) {
        return done(e as Error);
      }
      handle(msg, purpose, send, done);
    });
    // The panel's "Vraag identificatie" button, as if the dashboard had sent the message to this node's input.
    function onAsked(e: AskedEvent): void {
      const msg: NodeMessage = { topic: 'identification', appointment: { id: e.appointmentId }, agent: e.agent, purpose: e.purpose, ...(e.traceparent ? { traceparent: e.traceparent } : {}) };
      handle(msg, e.purpose, (m) => node.send(m), (err) => {
        if (err) node.error(err, msg);
      });
    }
    node.on('close', (_removed: boolean, done: () => void) => {
      service.off('asked', onAsked);
      service.withdrawOffer(node.id);
      release?.();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-request-auth', IdvRequestAuth);
};
