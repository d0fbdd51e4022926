import { methodFromEditor, type AuthMethodNode as MethodView } from '../../lib/identification/method-config';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';

type AuthMethodNode = Node & MethodView;

/** Config node: one OpenID Connect provider the resident can choose in the call (secrets and keys as credentials). */
export = function register(RED: NodeAPI): void {
  function IdvAuthMethod(this: AuthMethodNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = methodFromEditor(def, this.credentials ?? {});
    if (result.ok) {
      this.method = result.method;
      this.problems = [];
    } else {
      this.problems = result.errors;
      this.error(`idv-auth-method: ${result.errors.join('; ')}`);
    }
  }
  RED.nodes.registerType('idv-auth-method', IdvAuthMethod, {
    credentials: { clientSecret: { type: 'password' }, privateKey: { type: 'password' }, privateKeyId: { type: 'text' } },
  });
};
