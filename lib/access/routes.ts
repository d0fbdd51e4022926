import express from 'express';
import { mailServiceOf } from '../mail-service';
import type { Services } from '../services';
import { smsDeliveryRouter } from '../sms/delivery-route';
import { qualityRouter } from '../statistics/quality-route';
import { devSmsRouter } from '../sms/dev-sms';
import { devMailRouter } from './dev-mail';
import { visitRouter } from './visit-route';

/**
 * Mounts /v/<token>, the SMS delivery reports (and in demo mode /dev/mail and /dev/sms) once for all idv-session-link nodes. Returns the release function
 * for the node's close handler (calling it twice is harmless).
 */
export function acquireAccessRoutes(services: Services): () => void {
  return services.mountShared('access', () => {
    const router = express.Router();
    router.use(visitRouter({ services }));
    router.use(smsDeliveryRouter(services));
    router.use(qualityRouter(services));
    // Never in production: the route does not exist there (the runtime's 404).
    if (services.config.mode === 'demo') {
      router.use(devMailRouter(services, mailServiceOf(services)));
      router.use(devSmsRouter(services));
    }
    return router;
  });
}
