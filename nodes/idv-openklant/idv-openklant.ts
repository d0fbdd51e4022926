import { validateOpenKlantConfig } from '../../lib/openklant/config';
import type { OpenKlantNode } from '../common/config-nodes';
import { startContactRegistrar } from '../../lib/openklant/runtime';
import { getServices } from '../../lib/services';
import type { NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

/**
 * Config node: one Open Klant (Klantinteracties API) — base URL, timeout, processing activity id; the API token is a
 * credential. It owns the durable registration queue of that Open Klant (lib/openklant): started here, stopped on close,
 * so pending registrations continue after a restart or a deploy.
 */
export = function register(RED: NodeAPI): void {
  function IdvOpenKlant(this: OpenKlantNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const creds = (this.credentials ?? {}) as Record<string, string | undefined>;
    const result = validateOpenKlantConfig(currentSettings(this, def), creds);
    let stop: (() => Promise<void>) | undefined;
    if (result.ok) {
      try {
        const started = startContactRegistrar(getServices(RED), { source: this.id, settings: result.settings, token: String(creds.token).trim() });
        this.registrar = started.registrar;
        stop = started.stop;
        this.problems = [];
      } catch (e) {
        this.problems = [(e as Error).message];
      }
    } else {
      // A config node stays quiet: the nodes that use it report its problems.
      this.problems = result.errors;
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      this.registrar = undefined;
      void (stop ? stop() : Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType('idv-openklant', IdvOpenKlant, { credentials: { token: { type: 'password' } } });
};
