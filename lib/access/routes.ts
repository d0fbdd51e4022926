import express from 'express';
import { mailServiceOf } from '../mail-service';
import type { Services } from '../services';
import { devMailRouter } from './dev-mail';
import { visitRouter } from './visit-route';

const KEY = 'idv.access-routes';

interface RouteState {
  users: number;
  unmount?: () => void;
}

/**
 * Mounts /v/<token> (and in demo mode /dev/mail) once for all idv-session-link nodes: the first node that starts
 * mounts, the last one that closes unmounts, so a redeploy never leaves two handlers or a stale one behind.
 * Returns the release function for the node's close handler (calling it twice is harmless).
 */
export function acquireAccessRoutes(services: Services): () => void {
  const state = services.memo<RouteState>(KEY, () => ({ users: 0 }));
  if (state.users === 0) {
    const router = express.Router();
    router.use(visitRouter({ services }));
    // Never in production: the route does not exist there (the runtime's 404).
    if (services.config.mode === 'demo') router.use(devMailRouter(services, mailServiceOf(services)));
    state.unmount = services.mount(router);
  }
  state.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    state.users--;
    if (state.users === 0) {
      state.unmount?.();
      state.unmount = undefined;
    }
  };
}
