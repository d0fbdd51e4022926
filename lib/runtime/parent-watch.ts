/**
 * `npm start` runs the runtime as npm's child (package.json's start script `exec`s node, so npm forwards SIGTERM and
 * SIGINT straight to it). A service manager that kills only npm's process with SIGKILL, or npm dying otherwise, would
 * leave the runtime running on its own: still listening, still sending mail, while its operator believes it stopped.
 * So when npm started us and npm goes away, we stop as if signalled. Under systemd the unit runs node directly
 * (deploy/systemd/idvideo.service) and this does nothing.
 *
 * Returns a function that ends the watch.
 */
export function stopWhenNpmExits(stop: (reason: string) => void, o: { env?: NodeJS.ProcessEnv; intervalMs?: number } = {}): () => void {
  const env = o.env ?? process.env;
  if (!env.npm_lifecycle_event) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    // Linux reparents an orphan (to init or a subreaper), so our parent pid changes when npm is gone.
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop('npm, which started the runtime, has exited');
    }
  }, o.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
