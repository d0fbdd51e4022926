import { coreFromEditor, IDCONTACT_CORE_RULES } from '../../lib/idcontact/config';
import type { IdContactCoreNode } from '../common/config-nodes';
import type { NodeAPI, NodeDef } from '../common/node-red';

/**
 * Config node: one ID Contact core (URL, purpose tag, attribute mapping, algorithms) with our private decryption key,
 * the auth plugins' public signing keys and the start_communication secret as credentials (never exported, never in
 * a message or log). The editor checks its fields with the runtime's own rules (GET /admin/idv-idcontact-core/rules).
 */
export = function register(RED: NodeAPI): void {
  RED.httpAdmin.get('/idv-idcontact-core/rules', RED.auth.needsPermission('idv-idcontact-core.read'), (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(IDCONTACT_CORE_RULES);
  });

  function IdvIdContactCore(this: IdContactCoreNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = coreFromEditor(def, this.credentials ?? {});
    if (result.ok) {
      this.core = result.core;
      this.problems = [];
    } else {
      this.problems = result.errors;
      this.error(`idv-idcontact-core: ${result.errors.join('; ')}`);
    }
  }
  RED.nodes.registerType('idv-idcontact-core', IdvIdContactCore, {
    credentials: { decryptionKey: { type: 'password' }, signingKeys: { type: 'password' }, startSecret: { type: 'password' } },
  });
};
