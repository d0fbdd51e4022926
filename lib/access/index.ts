export { callCookieName, callSessionFrom, requireCallSession, setCallCookie, type RequireCallSessionOptions } from './call-session';
export { acquireAccessRoutes } from './routes';
export { linkServiceOf } from './links';
export { publicBase } from './public-base';
export { parseBookingMessage, type AppointmentNotice } from './booking-message';
export { validateSessionLinkConfig, type SessionLinkConfig } from './session-link-config';
export { notifyBooked, notifyCancelled, type NotifierDeps, type NotifyContext } from './notifier';
