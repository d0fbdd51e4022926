import express, { type Application, type ErrorRequestHandler, type Router } from 'express';

interface Layer {
  handle: unknown;
}

/**
 * Mounts a router on an express app and returns a function that takes it out again. Node-RED redeploys stop and
 * recreate nodes inside one process; a node that did not remove its routes would leave the old handler answering.
 *
 * `onError` (our errorHandler) is put right behind the router, so whatever the router or a library in it throws
 * (a malformed percent-encoding in a parameter, a body-parser error) ends in our error handling even when the app is
 * a plain Node-RED's httpNode, whose own last handler would print a stack outside NODE_ENV=production.
 */
export function mountRouter(app: Application, router: Router, onError?: ErrorRequestHandler): () => void {
  let mounted: Router = router;
  if (onError) {
    mounted = express.Router();
    mounted.use(router, onError);
  }
  app.use(mounted);
  return () => {
    const stack = (app as unknown as { _router?: { stack: Layer[] } })._router?.stack;
    if (!stack) return;
    const i = stack.findIndex((l) => l.handle === mounted);
    if (i >= 0) stack.splice(i, 1);
  };
}
