import { validateGatewayFields } from '../../lib/sms/gateway-config';
import { createGatewayClient } from '../../lib/sms/gateway';
import { REPORT_TOKEN } from '../../lib/sms/delivery-route';
import { smsCatcherOf, smsServiceOf } from '../../lib/sms/service';
import { getServices } from '../../lib/services';
import type { SmsGatewayNode } from '../common/config-nodes';
import { currentSettings } from '../common/settings';
import type { NodeAPI, NodeDef } from '../common/node-red';

/**
 * Config node: an HTTP SMS gateway (URL, request format preset or own body template, the credential for its auth
 * header, sender, own texts). When valid it offers its gateway to the process-wide SMS outbox under its node id
 * (lib/sms/service.ts); the booking form offers SMS and idv-session-link queues the confirmation SMS when they
 * refer to it. The credential lives in Node-RED's encrypted credentials, never in the flow.
 */
export = function register(RED: NodeAPI): void {
  function IdvSmsGateway(this: SmsGatewayNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const result = validateGatewayFields(currentSettings(this, def));
    if (!result.ok) {
      // A config node stays quiet: the nodes that use it report its problems (an unused one bothers nobody).
      this.problems = result.errors;
      return;
    }
    const services = getServices(RED);
    if (result.config.preset === 'demo' && services.config.mode !== 'demo') {
      // The demo catcher is refused outside demo mode, as /dev/mail is: nothing is offered, SMS stays off.
      this.demoOff = true;
      this.problems = [];
      return;
    }
    this.gateway = result.config;
    this.problems = [];
    const sender = result.config.preset === 'demo' ? smsCatcherOf(services).sender : undefined;
    const credential = () => {
      const v = (this.credentials as Record<string, unknown> | undefined)?.authValue;
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    // Delivery reports only with a secret of the right shape; a wrong one is said once, never quoted.
    const reportToken = (this.credentials as Record<string, unknown> | undefined)?.reportToken;
    const reports = typeof reportToken === 'string' && REPORT_TOKEN.test(reportToken) ? { preset: result.config.preset, token: reportToken } : undefined;
    if (typeof reportToken === 'string' && reportToken !== '' && !reports) this.warn(RED._('idv-sms-gateway.warn.reportToken'));
    const withdraw = smsServiceOf(services).offer(this.id, sender ?? createGatewayClient(result.config, credential), reports);
    this.on('close', (_removed: boolean, done: () => void) => {
      withdraw();
      done();
    });
  }
  RED.nodes.registerType('idv-sms-gateway', IdvSmsGateway, {
    credentials: { authValue: { type: 'password' }, reportToken: { type: 'password' } },
  });
};
