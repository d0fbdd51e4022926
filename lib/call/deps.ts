import type { AppointmentStore } from '../appointments/store';
import type { Services } from '../services';

export { linkServiceOf } from '../access/links';

/** The appointments repository of the services' store (SQLite or PostgreSQL). */
export function appointmentStoreOf(services: Pick<Services, 'store'>): AppointmentStore {
  return services.store.appointments;
}
