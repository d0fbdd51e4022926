import { methodFromEditor, type AuthMethodNode as MethodView } from '../../lib/identification/method-config';
import { getServices } from '../../lib/services';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

type AuthMethodNode = Node & MethodView;

/** Config node: one OpenID Connect provider the resident can choose in the call (secrets and keys as credentials). */
export = function register(RED: NodeAPI): void {
  function IdvAuthMethod(this: AuthMethodNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    // Plain http to a provider (even on loopback) is for demo mode and tests: in production the method must use https,
    // whatever the imported flow says, so the code, the tokens and the resident's data never travel unencrypted.
    const production = getServices(RED).config.mode === 'production';
    const current = currentSettings(this, def);
    const result = methodFromEditor(production ? { ...current, allowInsecureLoopback: false } : current, this.credentials ?? {});
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
    // The editor offers "http on loopback" only where the runtime would accept it (RED.settings.idvAuthMethodLoopbackHttp).
    settings: { idvAuthMethodLoopbackHttp: { value: (process.env.IDV_MODE || 'demo') !== 'production', exportable: true } },
  });
};
