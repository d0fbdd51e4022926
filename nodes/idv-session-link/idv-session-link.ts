import { acquireAccessRoutes } from '../../lib/access/routes';
import { parseBookingMessage, parseEventId } from '../../lib/access/booking-message';
import { HandOff, type HandOffResult } from '../../lib/access/handoff';
import { linkServiceOf } from '../../lib/access/links';
import type { NotifyContext, Skipped } from '../../lib/access/notifier';
import { publicBase } from '../../lib/access/public-base';
import { DASHBOARD_PLACEHOLDER, validateSessionLinkConfig, type SessionLinkConfig } from '../../lib/access/session-link-config';
import { cancelRoutesOf } from '../../lib/booking-pages/cancel-routes';
import { appointmentStoreOf } from '../../lib/call/deps';
import { UserError } from '../../lib/errors';
import { eventsOf } from '../../lib/events/runtime';
import { mailHost, mailServiceOf } from '../../lib/mail-service';
import type { FailedEvent, RetryingEvent, SentEvent } from '../../lib/mail/outbox';
import { DEFAULT_TEMPLATES, PLACEHOLDERS } from '../../lib/mail/templates';
import { startPeriodic } from '../../lib/runtime/periodic';
import { getServices } from '../../lib/services';
import type { InstanceSettings } from '../../lib/settings-node';
import { faultCode } from '../../lib/store/faults';
import { storeProbeOf } from '../../lib/store/health';
import { smsServiceOf, type DeliveryFailure, type SmsService } from '../../lib/sms/service';
import { settingsOf, smsGatewayOf, type SmsGatewayNode } from '../common/config-nodes';
import { upstreamOf } from '../common/flow-graph';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../common/node-red';
import { currentSettings } from '../common/settings';

/** What output 2 carries: identifiers and codes of a mail or SMS delivery problem, never an address, number or content. */
interface MailProblem {
  id: string;
  kind: string;
  appointmentId?: string;
  attempt: number;
  /** 'expired': a reminder whose moment passed while nothing could send it (runtime down, clock jump), dropped unsent. */
  status: 'retrying' | 'failed' | 'delivered' | 'expired' | 'undelivered';
  errorCode?: string;
  /** No further attempts will be made (failed for good, or delivered after earlier problems). */
  final: boolean;
  nextAttemptAt?: string;
}

const WARNINGS: Record<Skipped, string | undefined> = {
  'resident-mail-off': undefined,
  'resident-address-unknown': undefined,
  'agent-mail-off': undefined,
  'agent-address-unknown': 'idv-session-link.status.noAgentAddress',
  'cancel-page-unserved': 'idv-session-link.status.noCancelPage',
  'sms-unconfigured': 'idv-session-link.status.noSmsGateway',
};

/** Events handed off per sweep pass; a backlog is worked through in passes, oldest first. */
const SWEEP_BATCH = 20;
const SWEEP_BATCHES_PER_RUN = 25;

/**
 * idv-session-link: carries out the effects of each booking and cancellation (lib/access/handoff.ts). On 'booked'
 * it issues the resident's and the agent's access links and the resident's cancel link, and queues the confirmation
 * and the announcement; on 'cancelled' it revokes them and queues the cancellations — each in one transaction with
 * marking the event done. It does so when the message with msg.eventId arrives, at start for every event left
 * unfinished, and for events whose message has not come after a grace period. Output 1: the message (with
 * msg.links.resident/agent for a booking; msg.duplicate for an event already handled); events handed off without a
 * message get a message of their own. Output 2: mail delivery problems from the shared outbox.
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
    let gatewayNode: SmsGatewayNode | undefined;
    try {
      gatewayNode = smsGatewayOf(RED, def.sms);
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
    const release = acquireAccessRoutes(services);
    const events = eventsOf(services);
    const routes = cancelRoutesOf(services);
    const probe = storeProbeOf(services);
    const sms: SmsService | undefined = gatewayNode ? smsServiceOf(services) : undefined;
    const smsChannel = gatewayNode?.gateway ? { gateway: gatewayNode.id, texts: gatewayNode.gateway.texts } : undefined;
    const context = (): NotifyContext => {
      const base = publicBase(services.config, instance.publicUrl);
      return { base, host: mailHost(base), municipality: instance.municipality, fromAddress: instance.fromAddress, config, ...(smsChannel ? { sms: smsChannel } : {}) };
    };
    const handOff = new HandOff(
      {
        events: events.store,
        appointments: appointmentStoreOf(services),
        plan: {
          links: linkServiceOf(services),
          outbox: mail.outbox,
          ...(sms ? { sms: sms.outbox } : {}),
          agentName: async (username) => (await services.staffStore.getUser(username.toLowerCase()))?.displayName,
        },
        cancelPath: (source, recorded) => routes.resolve(source, recorded),
        guests: services.store.guests,
        instanceId: events.instanceId,
        mailsQueued: () => {
          void mail.outbox.kick();
          if (sms) void sms.outbox.kick();
        },
      },
      context,
    );

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
    const problem = (p: MailProblem, channel: 'mail' | 'sms' = 'mail') => {
      this.send([null, { topic: p.kind, [channel]: p }]);
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
    const onExpired = (e: { id: string; kind: string; appointmentId?: string }) =>
      problem({ id: e.id, kind: e.kind, ...(e.appointmentId ? { appointmentId: e.appointmentId } : {}), attempt: 0, status: 'expired', final: true });
    mail.outbox.on('expired', onExpired);
    mail.outbox.on('retrying', onRetrying);
    mail.outbox.on('failed', onFailed);
    mail.outbox.on('sent', onSent);
    // SMS problems on the same output, as msg.sms: codes and ids only (the text holds the access link).
    const onSmsRetrying = (e: RetryingEvent) => problem({ ...ids(e), status: 'retrying', errorCode: e.errorCode, final: false, nextAttemptAt: e.nextAttemptAt }, 'sms');
    const onSmsFailed = (e: FailedEvent) => problem({ ...ids(e), status: 'failed', errorCode: e.errorCode, final: true }, 'sms');
    const onSmsSent = (e: SentEvent) => {
      if (e.attempt > 1) problem({ ...ids(e), status: 'delivered', final: true }, 'sms');
    };
    sms?.outbox.on('retrying', onSmsRetrying);
    sms?.outbox.on('failed', onSmsFailed);
    sms?.outbox.on('sent', onSmsSent);
    // The gateway's own later report that an SMS it accepted did not arrive (lib/sms/delivery-route.ts).
    const onUndelivered = (e: DeliveryFailure) => problem({ id: e.id, kind: e.kind, ...(e.appointmentId ? { appointmentId: e.appointmentId } : {}), attempt: 0, status: 'undelivered', ...(e.errorCode ? { errorCode: e.errorCode } : {}), final: true }, 'sms');
    sms?.reports.on('undelivered', onUndelivered);
    refresh();

    const noteSkipped = (skipped: Skipped[], agent: string) => {
      warning = skipped.map((k) => WARNINGS[k]).find((w) => w !== undefined);
      // The username only: the agent's address and the links stay out of logs.
      if (skipped.includes('agent-address-unknown')) this.warn(RED._('idv-session-link.warn.noAgentAddress', { agent }));
      if (skipped.includes('cancel-page-unserved')) this.warn(RED._('idv-session-link.warn.noCancelPage'));
      if (skipped.includes('sms-unconfigured')) this.warn(RED._('idv-session-link.warn.noSmsGateway'));
    };

    /** The message output 1 sends for an event that was handed off (or found handled) without its own message. */
    const sendResult = (r: HandOffResult) => {
      if (r.status === 'done') {
        noteSkipped(r.skipped, r.message.appointment.agent);
        this.send([{ ...r.message } as NodeMessage, null]);
      } else if (r.status === 'superseded') this.send([{ ...r.message, superseded: true } as NodeMessage, null]);
    };

    // Bookings whose message never came: all of them once at start (grace 0: nothing of this run is in flight yet),
    // then those older than the grace, from the booking nodes wired to this node (and from nodes no longer deployed).
    let firstSweep = true;
    const scope = () => {
      const defs: NodeDef[] = [];
      RED.nodes.eachNode?.((d) => defs.push(d));
      const { reaching, all } = upstreamOf(defs, this.id, 'idv-book-appointment');
      return { sources: reaching, orphansOf: all, includeSourceless: true };
    };
    const sweep = startPeriodic({
      name: `idv-session-link ${this.id}: unfinished bookings`,
      everyMs: config.sweepMs,
      backoff: { initialMs: Math.max(config.sweepMs, 1000), maxMs: Math.max(config.sweepMs, 60_000) },
      log: { warn: (m) => this.warn(m), info: (m) => this.log(m) },
      run: async () => {
        await events.ready;
        const grace = firstSweep ? 0 : config.graceMs;
        const createdBeforeIso = new Date(Date.now() - grace).toISOString();
        for (let i = 0; i < SWEEP_BATCHES_PER_RUN && !closed; i++) {
          const { results, failed } = await handOff.sweep({ createdBeforeIso, ...scope() }, SWEEP_BATCH);
          for (const r of results) sendResult(r);
          for (const f of failed) this.warn(RED._('idv-session-link.warn.handOffFailed', { event: f.event.id, code: faultCode(f.error) }));
          if (failed.length && failed.length === results.length + failed.length) throw failed[0].error;
          if (results.length + failed.length < SWEEP_BATCH) break;
        }
        firstSweep = false;
        refresh();
      },
    });
    const wake = () => sweep.failing && sweep.kick();
    probe.on('writable', wake);

    this.on('input', (msg: NodeMessage, send, done) => {
      let eventId: string | undefined;
      try {
        eventId = parseEventId(msg);
      } catch (e) {
        done(e as Error);
        return;
      }
      const work = eventId
        ? events.ready.then(() => handOff.byId(eventId as string)).then((r) => {
            if (r.status === 'unknown') throw new UserError(400, 'unknown_event', 'msg.eventId names no event of this runtime');
            if (r.status === 'done') {
              noteSkipped(r.skipped, r.message.appointment.agent);
              if (r.message.links) msg.links = { ...objectOr(msg.links), resident: r.message.links.resident, agent: r.message.links.agent };
            } else if (r.status === 'superseded') msg.superseded = true;
            // Handled before (a repeated message) or by another worker right now: nothing new, and the flow can tell.
            else msg.duplicate = true;
          })
        : Promise.resolve().then(async () => {
            const notice = parseBookingMessage(msg);
            const r = await handOff.foreign(notice);
            noteSkipped(r.skipped, notice.appointment.agent);
            if (r.links) msg.links = { ...objectOr(msg.links), resident: r.links.resident, agent: r.links.agent };
          });
      work.then(
        () => {
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
      probe.off('writable', wake);
      mail.outbox.off('expired', onExpired);
      mail.outbox.off('retrying', onRetrying);
      mail.outbox.off('failed', onFailed);
      mail.outbox.off('sent', onSent);
      sms?.outbox.off('retrying', onSmsRetrying);
      sms?.outbox.off('failed', onSmsFailed);
      sms?.outbox.off('sent', onSmsSent);
      sms?.reports.off('undelivered', onUndelivered);
      release();
      this.status({});
      // A hand-off in progress finishes (it is one transaction); the next start or another node picks up the rest.
      void sweep.stop().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('idv-session-link', IdvSessionLink);
};

/** The object a message property holds, or an empty one (a flow may have put anything there). */
function objectOr(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
