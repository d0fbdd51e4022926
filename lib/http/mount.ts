import type { Application, Router } from 'express';

interface Layer {
  handle: unknown;
}

/**
 * Mounts a router on an express app and returns a function that takes it out again. Node-RED redeploys stop and
 * recreate nodes inside one process; a node that did not remove its routes would leave the old handler answering.
 */
export function mountRouter(app: Application, router: Router): () => void {
  app.use(router);
  return () => {
    const stack = (app as unknown as { _router?: { stack: Layer[] } })._router?.stack;
    if (!stack) return;
    const i = stack.findIndex((l) => l.handle === router);
    if (i >= 0) stack.splice(i, 1);
  };
}
