export { callCookieName, callSessionFrom, requireCallSession, setCallCookie, type RequireCallSessionOptions } from './call-session';
export { acquireAccessRoutes } from './routes';
export { linkServiceOf } from './links';
export { publicBase } from './public-base';
export { parseBookingMessage, parseEventId, type AppointmentNotice } from './booking-message';
export { validateSessionLinkConfig, type SessionLinkConfig } from './session-link-config';
export { planBooked, planCancelled, type PlanDeps, type NotifyContext } from './notifier';
export { HandOff, type HandOffResult } from './handoff';
