import { createBookingService } from '../../lib/appointments/booking-service';
import type { AppointmentStore } from '../../lib/appointments/store';
import type { BookingEvent } from '../../lib/booking-pages/events';
import { validateBookingPageConfig } from '../../lib/booking-pages/options';
import { createBookingRouter } from '../../lib/booking-pages/router';
import { getServices } from '../../lib/services';
import { publicBase } from '../../lib/access/public-base';
import { createSqliteAppointmentStore } from '../../lib/store/sqlite/appointments';
import { describeOwner, routeRegistryOf } from '../../lib/http/route-registry';
import { scheduleOf, settingsOf } from '../common/config-nodes';
import type { Node, NodeAPI, NodeDef } from '../common/node-red';
import { currentSettings } from '../common/settings';
import { runningCallService } from '../../lib/call/service';

/** The store is shared by every node that reads or books appointments (one set of prepared statements per db). */
const APPOINTMENT_STORE_KEY = 'appointments.store';

/**
 * Serves the booking form and its JSON API (resident mode, or KCC mode behind staff sign-in) and sends one message
 * per booking or cancellation. All logic lives in lib/booking-pages and lib/appointments; this adapts it to Node-RED.
 */
export = function register(RED: NodeAPI): void {
  function IdvBookAppointment(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const counts = { booked: 0, cancelled: 0 };
    let unmount: (() => void) | undefined;
    let releasePath: (() => void) | undefined;
    let status = 'idv-book-appointment.status.invalid';
    try {
      const checked = validateBookingPageConfig(currentSettings(this, def));
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const config = checked.config;
      const schedule = scheduleOf(RED, def.schedule);
      const settings = settingsOf(RED, def.settings);
      if (!config.privacyUrl && settings?.privacyUrl) config.privacyUrl = settings.privacyUrl;
      const services = getServices(RED);
      // A second node on the same path would look ready and never be used: the first one keeps it, this one says so.
      const claim = routeRegistryOf(services).claim([config.path], { id: this.id, name: this.name, type: 'idv-book-appointment' });
      if (!claim.ok) {
        status = 'idv-book-appointment.status.routeTaken';
        throw new Error(`the path ${config.path} is already served by ${describeOwner(claim.owner)} (${claim.other}); give this node a path of its own`);
      }
      releasePath = claim.release;
      // Embedding follows the runtime's IDV_FRAME_ANCESTORS unless this node sets its own.
      config.frameAncestors ??= services.config.frameAncestors;
      const store = services.memo<AppointmentStore>(APPOINTMENT_STORE_KEY, () => createSqliteAppointmentStore(services.db));
      const service = createBookingService({ store, getSchedule: () => schedule });
      const router = createBookingRouter({
        config,
        service,
        schedule: () => schedule,
        csrf: services.csrf,
        hmacKey: services.hmacKey,
        secure: services.secure,
        publicUrl: () => publicBase(services.config, settings?.publicUrl),
        branding: () => services.branding(),
        requireStaff: config.mode === 'kcc' ? services.staff.requireStaff('kcc') : undefined,
        log: (m) => this.warn(m),
        onEvent: (e: BookingEvent) => {
          counts[e.event]++;
          this.send({ topic: e.event, event: e.event, appointment: e.appointment, resident: e.resident, ...(e.links ? { links: e.links } : {}) });
          // The assigned agent's open dashboard refreshes at once instead of at its next poll.
          runningCallService(services)?.hub.publish(e.appointment.agent, { type: 'appointments' });
          // Numbers only: a status text in words would be in the runtime's language, not the editor user's.
          this.status({ fill: 'green', shape: 'dot', text: `+${counts.booked} −${counts.cancelled}` });
        },
      });
      unmount = services.mount(router);
      this.status({ fill: 'green', shape: 'dot', text: 'idv-book-appointment.status.ready' });
    } catch (e) {
      this.error(`idv-book-appointment: ${(e as Error).message}`);
      releasePath?.();
      releasePath = undefined;
      this.status({ fill: 'red', shape: 'ring', text: status });
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      unmount?.();
      releasePath?.();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('idv-book-appointment', IdvBookAppointment);
};
