/**
 * Runs a Node-RED installation (the project's node-red 4.1, or Node-RED 5 from the test cache) on a user directory, as
 * Node-RED's own red.js does but on an ephemeral port of 127.0.0.1: prints "[host] listening <port>" once flows have
 * started, stops on SIGTERM. The package test runs this file with another Node binary (Node 24), so it uses nothing
 * but Node itself and the given Node-RED installation.
 *
 *   node node-red-host.js <node-red package dir> <user dir>
 */
import * as http from 'node:http';

interface Red {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
  version(): string;
}

const [nodeRedDir, userDir] = process.argv.slice(2);
if (!nodeRedDir || !userDir) {
  console.error('usage: node node-red-host.js <node-red package dir> <user dir>');
  process.exit(2);
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require(nodeRedDir) as Red;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express = require(require.resolve('express', { paths: [nodeRedDir] })) as () => {
  use(path: string, handler: http.RequestListener): void;
} & http.RequestListener;

const app = express();
const server = http.createServer(app);
RED.init(server, {
  userDir,
  flowFile: 'flows.json',
  credentialSecret: 'package-test-credential-secret-0123456789',
  httpAdminRoot: '/admin',
  httpNodeRoot: '/',
  uiHost: '127.0.0.1',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  telemetry: { enabled: false },
  diagnostics: { enabled: false, ui: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
});
app.use('/admin', RED.httpAdmin);
app.use('/', RED.httpNode);

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  RED.start().then(
    () => console.log(`[host] Node-RED ${RED.version()} on Node ${process.version} listening ${port}`),
    (e: Error) => {
      console.error(`[host] Node-RED did not start: ${e.message}`);
      process.exit(1);
    },
  );
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections?.();
  server.close();
  RED.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
