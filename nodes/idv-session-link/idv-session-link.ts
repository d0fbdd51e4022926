import { acquireAccessRoutes } from '../../lib/access/routes';
import { parseBookingMessage } from '../../lib/access/booking-message';
import { linkServiceOf } from '../../lib/access/links';
import { notifyBooked, notifyCancelled, type NotifierDeps, type Skipped } from '../../lib/access/notifier';
import { publicBase } from '../../lib/access/public-base';
import { DASHBOARD_PLACEHOLDER, validateSessionLinkConfig, type SessionLinkConfig } from '../../lib/access/session-link-config';
import { mailHost, mailServiceOf } from '../../lib/mail-service';
import type { FailedEvent, RetryingEvent, SentEvent } from '../../lib/mail/outbox';
import { DEFAULT_TEMPLATES, PLACEHOLDERS } from '../../lib/mail/templates';
import { getServices } from '../../lib/services';
import type { InstanceSettings } from '../../lib/settings-node';
import { settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/node-red';
import { currentSettings } from '../common/settings';

/** What output 2 carries: identifiers and codes of a mail delivery problem, never an address or content. */
interface MailProblem {
  id: string;
  kind: string;
  appointmentId?: string;
  attempt: number;
  status: 'retrying' | 'failed' | 'delivered';
  errorCode?: string;
  /** No further attempts will be made (failed for good, or delivered after earlier problems). */
  final: boolean;
  nextAttemptAt?: string;
}

const WARNINGS: Record<Skipped, string | undefined> = {
  'resident-mail-off': undefined,
  'agent-mail-off': undefined,
  'agent-address-unknown': 'idv-session-link.status.noAgentAddress',
};

/**
 * idv-session-link: on 'booked' issues the resident's and the agent's access links and queues the confirmation and
 * the announcement; on 'cancelled' revokes them and queues the cancellations. Output 1: the message with
 * msg.links.resident / msg.links.agent added. Output 2: mail delivery problems from the shared outbox.
 */
export = function register(RED: NodeAPI): void {
  // The editor shows the default texts as the starting point for overrides.
  RED.httpAdmin.get('/idv-session-link/templates', RED.auth.needsPermission('idv-session-link.read'), (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ templates: DEFAULT_TEMPLATES, placeholders: [...PLACEHOLDERS, DASHBOARD_PLACEHOLDER] });
  });

  function IdvSessionLink(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const services = getServices(RED);
    const problems: string[] = [];
    let settings: InstanceSettings | undefined;
    try {
      settings = settingsOf(RED, def.settings);
      if (!settings) problems.push('no idv-settings configuration selected');
    } catch (e) {
      problems.push((e as Error).message);
    }
    const validated = validateSessionLinkConfig(currentSettings(this, def));
    if (!validated.ok) problems.push(...validated.errors);
    if (problems.length || !settings || !validated.ok) {
      const message = `idv-session-link: ${problems.join('; ')}`;
      this.error(message);
      this.status({ fill: 'red', shape: 'ring', text: 'idv-session-link.status.invalid' });
      // Messages are refused with the reason, so a Catch node sees why nothing was sent.
      this.on('input', (_msg, _send, done) => done(new Error(message)));
      return;
    }
    const config: SessionLinkConfig = validated.config;
    const instance: InstanceSettings = settings;
    const mail = mailServiceOf(services);
    const s = instance.smtp;
    mail.configure(s ? { host: s.host, port: s.port, secure: s.secure, user: s.user, pass: s.pass, rejectUnauthorized: s.rejectUnauthorized } : undefined);
    const links = linkServiceOf(services);
    const release = acquireAccessRoutes(services);
    const deps: NotifierDeps = {
      links,
      outbox: mail.outbox,
      agentName: async (username) => (await services.staffStore.getUser(username.toLowerCase()))?.displayName,
    };

    let warning: string | undefined;
    let retrying = false;
    let closed = false;
    const refresh = () => {
      mail.outbox
        .counts()
        .then((c) => {
          if (closed) return;
          const waiting = c.pending + c.sending;
          if (waiting === 0) retrying = false;
          const fill = c.failed > 0 ? 'red' : retrying || warning ? 'yellow' : 'green';
          // Numbers and symbols, or one message key: the editor translates a key into its user's language, while
          // words made here would be in the runtime's.
          const text = warning && c.failed === 0 ? warning : waiting || c.failed ? `✉ ${waiting} · ✗ ${c.failed}` : 'idv-session-link.status.ready';
          this.status({ fill, shape: fill === 'green' ? 'dot' : 'ring', text });
        })
        .catch(() => this.status({ fill: 'red', shape: 'ring', text: 'idv-session-link.status.storeError' }));
    };
    const problem = (p: MailProblem) => {
      this.send([null, { topic: p.kind, mail: p }]);
      refresh();
    };
    const ids = (e: SentEvent) => ({ id: e.id, kind: e.kind, ...(e.appointmentId ? { appointmentId: e.appointmentId } : {}), attempt: e.attempt });
    const onRetrying = (e: RetryingEvent) => {
      retrying = true;
      problem({ ...ids(e), status: 'retrying', errorCode: e.errorCode, final: false, nextAttemptAt: e.nextAttemptAt });
    };
    const onFailed = (e: FailedEvent) => problem({ ...ids(e), status: 'failed', errorCode: e.errorCode, final: true });
    const onSent = (e: SentEvent) => {
      // A first-time delivery is no news for the alerting output; a delivery after problems closes the alert.
      if (e.attempt > 1) problem({ ...ids(e), status: 'delivered', final: true });
      else refresh();
    };
    mail.outbox.on('retrying', onRetrying);
    mail.outbox.on('failed', onFailed);
    mail.outbox.on('sent', onSent);
    refresh();

    this.on('input', (msg: NodeMessage, send, done) => {
      let event;
      try {
        event = parseBookingMessage(msg);
      } catch (e) {
        done(e as Error);
        return;
      }
      const base = publicBase(services.config, instance.publicUrl);
      const ctx = { base, host: mailHost(base), municipality: instance.municipality, fromAddress: instance.fromAddress, config };
      const work =
        event.event === 'booked'
          ? notifyBooked(deps, ctx, event).then((r) => {
              const existing = typeof msg.links === 'object' && msg.links !== null ? (msg.links as Record<string, unknown>) : {};
              msg.links = { ...existing, resident: r.links.resident, agent: r.links.agent };
              return r.skipped;
            })
          : notifyCancelled(deps, ctx, event).then((r) => r.skipped);
      work.then(
        (skipped) => {
          warning = skipped.map((k) => WARNINGS[k]).find((w) => w !== undefined);
          // The username only: the agent's address and the links stay out of logs.
          if (skipped.includes('agent-address-unknown')) this.warn(RED._('idv-session-link.warn.noAgentAddress', { agent: event.appointment.agent }));
          send([msg, null]);
          refresh();
          done();
        },
        (e: Error) => {
          refresh();
          done(e);
        },
      );
    });

    this.on('close', (_removed, done) => {
      closed = true;
      mail.outbox.off('retrying', onRetrying);
      mail.outbox.off('failed', onFailed);
      mail.outbox.off('sent', onSent);
      release();
      this.status({});
      done();
    });
  }

  RED.nodes.registerType('idv-session-link', IdvSessionLink);
};
