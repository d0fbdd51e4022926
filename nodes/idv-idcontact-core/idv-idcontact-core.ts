import { coreFromEditor } from '../../lib/idcontact/config';
import { getServices } from '../../lib/services';
import type { IdContactCoreNode } from '../common/config-nodes';
import type { NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

/**
 * Config node: one ID Contact core (URL, purpose tag, attribute mapping, algorithms) with our private decryption key,
 * the auth plugins' public signing keys and the start_communication secret as credentials (never exported, never in
 * a message or log). The editor checks its fields with the runtime's own rules (lib/idcontact/core-fields.ts through
 * resources/editor.js).
 */
export = function register(RED: NodeAPI): void {
  function IdvIdContactCore(this: IdContactCoreNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    // As for idv-auth-method: plain http to the core (even on loopback) is for demo mode and tests only.
    const production = getServices(RED).config.mode === 'production';
    const current = currentSettings(this, def);
    const result = coreFromEditor(production ? { ...current, allowInsecureLoopback: false } : current, this.credentials ?? {});
    if (result.ok) {
      this.core = result.core;
      this.problems = [];
    } else {
      // A config node stays quiet: the nodes that use it report its problems (an import waits for its keys).
      this.problems = result.errors;
    }
  }
  RED.nodes.registerType('idv-idcontact-core', IdvIdContactCore, {
    credentials: { decryptionKey: { type: 'password' }, signingKeys: { type: 'password' }, startSecret: { type: 'password' } },
  });
};
