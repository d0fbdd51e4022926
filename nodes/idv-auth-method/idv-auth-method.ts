import { methodFromEditor, type AuthMethodNode as MethodView } from '../../lib/identification/method-config';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

type AuthMethodNode = Node & MethodView;

/** Config node: one OpenID Connect provider the resident can choose in the call (secrets and keys as credentials). */
export = function register(RED: NodeAPI): void {
  function IdvAuthMethod(this: AuthMethodNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = methodFromEditor(currentSettings(this, def), this.credentials ?? {});
    if (result.ok) {
      this.method = result.method;
      this.problems = [];
    } else {
      // A config node stays quiet: the nodes that use it report its problems. An imported method waits for its
      // client secret (imports carry no credentials); that is news only where the method is offered.
      this.problems = result.errors;
    }
  }
  RED.nodes.registerType('idv-auth-method', IdvAuthMethod, {
    credentials: { clientSecret: { type: 'password' }, privateKey: { type: 'password' }, privateKeyId: { type: 'text' } },
  });
};
