import type { AppointmentStore } from '../appointments/store';
import type { Services } from '../services';
import { createSqliteAppointmentStore } from '../store/sqlite/appointments';

export { linkServiceOf } from '../access/links';

/** Same memo key as nodes/idv-book-appointment: one set of prepared statements per database. */
export const APPOINTMENT_STORE_KEY = 'appointments.store';

export function appointmentStoreOf(services: Services): AppointmentStore {
  return services.memo<AppointmentStore>(APPOINTMENT_STORE_KEY, () => createSqliteAppointmentStore(services.db));
}
