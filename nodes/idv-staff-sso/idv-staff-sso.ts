import { getServices } from '../../lib/services';
import { validateStaffSsoConfig } from '../../lib/staff/sso-node-config';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';

/**
 * Config node: the staff pages' sign-in through the gemeente's OpenID provider (lib/staff/sso-node-config.ts for the
 * split with IDV_STAFF_OIDC_*, which also guards the flow editor). Put in place while deployed and enabled, removed
 * on close. No flow node uses it, so it speaks for itself: one log line when it is invalid or stands aside.
 */
export = function register(RED: NodeAPI): void {
  function IdvStaffSso(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const services = getServices(RED);
    const creds = (this.credentials ?? {}) as Record<string, string | undefined>;
    const result = validateStaffSsoConfig(currentSettings(this, def), creds, services.config.mode === 'demo');
    let release: (() => void) | undefined;
    if (!result.ok) {
      this.error(`the staff sign-in "${this.name || this.id}" is invalid: ${result.errors.join('; ')}`);
    } else if (result.settings) {
      const used = services.useFlowStaffSso(this.id, result.settings);
      if (used.ok) {
        release = used.release;
        this.log(`staff pages sign in through ${result.settings.sso.client.issuer}${result.settings.localAccounts ? ' (and local accounts)' : ' only (local accounts off on the pages)'}`);
      } else {
        this.warn(`the staff sign-in "${this.name || this.id}" stands aside: ${used.problem}`);
      }
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      release?.();
      done();
    });
  }
  RED.nodes.registerType('idv-staff-sso', IdvStaffSso, {
    credentials: { clientSecret: { type: 'password' }, privateKey: { type: 'password' }, privateKeyId: { type: 'text' }, certificate: { type: 'text' } },
  });
};
