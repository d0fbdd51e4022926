import { createBookingService } from '../../lib/appointments/booking-service';
import { cancelRoutesOf } from '../../lib/booking-pages/cancel-routes';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { createBookingRouter } from '../../lib/booking-pages/router';
import { appointmentStoreOf } from '../../lib/call/deps';
import type { AppointmentMessage } from '../../lib/events/message';
import { getServices } from '../../lib/services';
import { metricsOf } from '../../lib/runtime/metrics';
import { publicBase } from '../../lib/access/public-base';
import { describeOwner, routeRegistryOf } from '../../lib/http/route-registry';
import { scheduleOf, settingsOf, smsGatewayOf, type SmsGatewayNode } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { agentPushOf, runningCallService } from '../../lib/call/service';
import { guestServiceFor } from '../../lib/call/guests';
import { mailHost } from '../../lib/mail-service';
import { faultCode } from '../../lib/store/faults';
import { currentSettings } from '../common/settings';

/**
 * Serves the booking form and its JSON API (resident mode, or KCC mode behind staff sign-in) and sends one message
 * per booking or cancellation. Each change is committed together with its event (lib/events); the message carries
 * msg.eventId and no secret: idv-session-link issues the links and carries out the effects, also when this message
 * never reaches it. A resident node registers the path of its cancel pages; a KCC node whose residentPath no
 * resident node serves goes red, because its bookings' cancel links would lead nowhere.
 */
export = function register(RED: NodeAPI): void {
  function IdvBookAppointment(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const counts = { booked: 0, cancelled: 0, rescheduled: 0 };
    const releases: (() => void)[] = [];
    let status = 'idv-book-appointment.status.invalid';
    try {
      const checked = validateBookingPageConfig(currentSettings(this, def));
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const config = checked.config;
      const schedule = scheduleOf(RED, def.schedule);
      const settings = settingsOf(RED, def.settings);
      if (!config.privacyUrl && settings?.privacyUrl) config.privacyUrl = settings.privacyUrl;
      // SMS is offered only with a valid gateway; a broken one is said in the log and the form simply offers no SMS.
      let gateway: SmsGatewayNode | undefined;
      try {
        gateway = smsGatewayOf(RED, def.sms);
      } catch (e) {
        this.warn(`idv-book-appointment: ${(e as Error).message}; the form offers no SMS`);
      }
      const services = getServices(RED);
      // A second node on the same path would look ready and never be used: the first one keeps it, this one says so.
      const claim = routeRegistryOf(services).claim([config.path], { id: this.id, name: this.name, type: 'idv-book-appointment' });
      if (!claim.ok) {
        status = 'idv-book-appointment.status.routeTaken';
        throw new Error(`the path ${config.path} is already served by ${describeOwner(claim.owner)} (${claim.other}); give this node a path of its own`);
      }
      releases.push(claim.release);
      // Embedding follows the runtime's IDV_FRAME_ANCESTORS unless this node sets its own.
      config.frameAncestors ??= services.config.frameAncestors;
      const service = createBookingService({
        store: appointmentStoreOf(services),
        getSchedule: () => schedule,
        onBooked: (channel) => metricsOf(services).booked(channel),
      });
      const routes = cancelRoutesOf(services);
      let residentRouteMissing = false;
      const showStatus = () => {
        if (residentRouteMissing) {
          // A message key (the editor shows it in its user's language); the log names the path.
          this.status({ fill: 'red', shape: 'ring', text: 'idv-book-appointment.status.noResidentRoute' });
        } else if (counts.booked + counts.cancelled + counts.rescheduled > 0) {
          // Numbers only: a status text in words would be in the runtime's language, not the editor user's.
          this.status({ fill: 'green', shape: 'dot', text: `+${counts.booked} −${counts.cancelled}${counts.rescheduled ? ` ↻${counts.rescheduled}` : ''}` });
        } else this.status({ fill: 'green', shape: 'dot', text: 'idv-book-appointment.status.ready' });
      };
      // KCC: a third participant is invited with the agent's GuestService, sent with this node's idv-settings.
      let guests;
      if (config.mode === 'kcc') {
        guests = guestServiceFor(services, (entry) =>
          services.store.processingLog.record(entry).catch((e: unknown) => this.warn(`processing log write failed (${entry.action}): ${faultCode(e)}`)),
        );
        if (settings) {
          const base = publicBase(services.config, settings.publicUrl);
          guests.configure({ base, host: mailHost(base), municipality: settings.municipality, fromAddress: settings.fromAddress });
        }
      }
      const router = createBookingRouter({
        config,
        service,
        schedule: () => schedule,
        csrf: services.csrf,
        hmacKey: services.hmacKey,
        limiter: services.limiter,
        secure: services.secure,
        publicUrl: () => publicBase(services.config, settings?.publicUrl),
        branding: () => services.branding(),
        requireStaff: config.mode === 'kcc' ? services.staff.requireStaff('kcc') : undefined,
        source: this.id,
        offerSms: () => gateway?.gateway !== undefined,
        ...(guests ? { guests: { get: (id: string) => guests.get(id), invite: guests.invite.bind(guests), removeLive: (id: string) => void runningCallService(services)?.media.removeGuest(id) } } : {}),
        log: (m) => this.warn(m),
        onEvent: (e: AppointmentMessage) => {
          counts[e.event]++;
          this.send({ ...e });
          // The assigned agent's open dashboard refreshes at once instead of at its next poll, on whichever instance
          // (after a move to another agent, the previous agent's too).
          const push = agentPushOf(services);
          for (const agent of new Set([e.appointment.agent, e.appointment.previous?.agent].filter((x): x is string => !!x))) {
            push
              .publish(agent, { type: 'appointments' })
              .catch((err: unknown) => this.warn(`live update to the dashboard failed (${faultCode(err)}); it refreshes at its next poll`));
          }
          showStatus();
        },
      });
      releases.push(services.mount(router));
      if (config.mode === 'resident') {
        releases.push(routes.register(this.id, config.path));
        showStatus();
      } else {
        // The resident node may start after this one, or be redeployed on another path: follow the registry, and
        // say it once in the log when a deploy ends with nobody serving the cancel pages this node's links name.
        const check = () => {
          residentRouteMissing = !routes.serves(config.residentPath);
          showStatus();
        };
        const afterDeploy = () => {
          check();
          if (residentRouteMissing) {
            const served = routes.paths();
            this.warn(RED._('idv-book-appointment.warn.noResidentRoute', { path: config.residentPath, served: served.length ? served.join(', ') : '—' }));
          }
        };
        routes.on('change', check);
        RED.events?.on('flows:started', afterDeploy);
        releases.push(() => {
          routes.off('change', check);
          RED.events?.removeListener('flows:started', afterDeploy);
        });
        check();
      }
    } catch (e) {
      this.error(`idv-book-appointment: ${(e as Error).message}`);
      for (const release of releases.splice(0)) release();
      this.status({ fill: 'red', shape: 'ring', text: status });
    } finally {
      this.on('close', (_removed: boolean, done: () => void) => {
        for (const release of releases.splice(0)) release();
        this.status({});
        done();
      });
    }
  }
  RED.nodes.registerType('idv-book-appointment', IdvBookAppointment);
};
