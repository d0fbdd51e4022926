import { getServices } from '../../lib/services';
import { validateInstanceSettings } from '../../lib/settings-node';
import type { SettingsNode } from '../common/config-nodes';
import type { NodeAPI, NodeDef } from '../common/node-red';

/** Config node: the instance's public URL, branding, SMTP (password as credential), sender and attribute TTL. */
export = function register(RED: NodeAPI): void {
  function IdvSettings(this: SettingsNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = validateInstanceSettings(def, this.credentials ?? {});
    if (result.ok) {
      this.settings = result.settings;
      this.problems = [];
      const services = getServices(RED);
      services.setBranding({ municipality: result.settings.municipality, logoUrl: result.settings.logoUrl, themeCssUrl: result.settings.themeCssUrl });
    } else {
      this.problems = result.errors;
      this.error(`idv-settings: ${result.errors.join('; ')}`);
    }
  }
  RED.nodes.registerType('idv-settings', IdvSettings, {
    credentials: { smtpUser: { type: 'text' }, smtpPassword: { type: 'password' } },
  });
};
