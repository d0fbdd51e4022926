import { getServices } from '../../lib/services';
import { validateInstanceSettings } from '../../lib/settings-node';
import type { SettingsNode } from '../common/config-nodes';
import { currentSettings } from '../common/settings';
import type { NodeAPI, NodeDef } from '../common/node-red';

/** Config node: the instance's public URL, branding, SMTP (password as credential), sender and attribute TTL. */
export = function register(RED: NodeAPI): void {
  function IdvSettings(this: SettingsNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = validateInstanceSettings(currentSettings(this, def), this.credentials ?? {});
    if (result.ok) {
      this.settings = result.settings;
      this.problems = [];
      const services = getServices(RED);
      const { municipality, logoUrl, themeCssUrl, themeClass } = result.settings;
      services.setBranding({ municipality, logoUrl, themeCssUrl, themeClass });
    } else {
      // A config node stays quiet: the nodes that use it report its problems (an unused one bothers nobody).
      this.problems = result.errors;
    }
  }
  RED.nodes.registerType('idv-settings', IdvSettings, {
    credentials: { smtpUser: { type: 'text' }, smtpPassword: { type: 'password' } },
  });
};
