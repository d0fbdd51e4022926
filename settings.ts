/**
 * The embedded runtime: `npm start` runs this file. Node-RED runs inside our own HTTP server: the editor and admin API
 * at /admin behind adminAuth (staff accounts with the admin role), our public pages and APIs under /, flows from
 * flows/flows.json on first start, data in IDV_DATA_DIR. Configuration comes from the environment (see README).
 */
import { nodeEnvWasSet } from './lib/runtime/production-env';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import { loadConfig, type RuntimeConfig } from './lib/config';
import { isUserError } from './lib/errors';
import { editorGuard, stripCorsHeaders } from './lib/editor/guard';
import { errorHandler, rejectHostilePath, sendNotFound } from './lib/http/errors';
import { strictTransportSecurity } from './lib/http/security';
import { prepareFlowsFile } from './lib/runtime/flows-file';
import { nodeRedLogHandler, shortenConsoleStacks } from './lib/runtime/log-handler';
import { seedDemoAccounts } from './lib/runtime/demo-accounts';
import { initServices, type Services } from './lib/services';
import { StoreError } from './lib/store/store-error';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require('node-red') as {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: express.Application;
  httpNode: express.Application;
  events: NodeJS.EventEmitter;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
};

const PROJECT_ROOT = path.resolve(__dirname, '..');

function fail(message: string): never {
  // Straight to stderr: a start-up failure keeps its whole message (shortenConsoleStacks only tames request noise).
  process.stderr.write(`\nID Video did not start:\n${message}\n\n`);
  process.exit(1);
}

/** Node-RED settings (https://nodered.org/docs/user-guide/runtime/settings-file) for the embedded runtime. */
function nodeRedSettings(config: RuntimeConfig, services: Services, flowFile: string): Record<string, unknown> {
  return {
    userDir: config.dataDir,
    flowFile: path.basename(flowFile),
    flowFilePretty: true,
    credentialSecret: services.secret,
    httpAdminRoot: '/admin',
    httpNodeRoot: '/',
    // Our own nodes are loaded as the npm package this folder is (package.json "node-red" section), so their
    // locales and examples are found as for any installed module.
    nodesDir: [PROJECT_ROOT],
    // The editor's sign-in and tokens are ours (lib/editor): POST /admin/auth/token is answered by editorGuard before
    // Node-RED sees it, and Node-RED checks every bearer token through `tokens`, so a password change or a disabled
    // account ends editor access at once. `authenticate` returns null: Node-RED never issues (plain-text) tokens.
    adminAuth: {
      type: 'credentials',
      users: async (username: string) => {
        const u = await services.staffStore.getUser(username);
        return u && u.roles.includes('admin') && !u.disabled ? { username: u.username, permissions: '*' } : null;
      },
      authenticate: async () => null,
      tokens: (token: string) => services.editorSessions.validate(token),
      sessionExpiryTime: services.editorSessions.lifetimeSec,
    },
    // Node-RED's admin app answers every request with Access-Control-Allow-Origin: *; this runs after that and
    // takes it away (preflights never get there: editorGuard refuses them). httpAdminCors/httpNodeCors stay unset.
    httpAdminMiddleware: stripCorsHeaders,
    // Node-RED's format, but errors and warnings as one short, throttled line without a stack (lib/runtime/log-handler).
    logging: { console: { level: 'info', metrics: false, audit: false, handler: nodeRedLogHandler() } },
    editorTheme: {
      page: { title: 'ID Video – flows' },
      header: { title: 'ID Video' },
      projects: { enabled: false },
      tours: false,
    },
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    // Production: no palette installs, uploads or updates from the editor (Node-RED then mounts no POST /admin/nodes and
    // the palette manager has no Install tab); a module is added by the operator with npm, like the package itself.
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: config.mode === 'demo', allowUpload: config.mode === 'demo', allowUpdate: config.mode === 'demo' },
      modules: { allowInstall: false },
    },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
    idv: { services },
  };
}

async function main(): Promise<void> {
  let config: RuntimeConfig;
  try {
    config = loadConfig();
  } catch (e) {
    fail((e as Error).message);
  }
  let flowFile: string;
  try {
    flowFile = prepareFlowsFile(config.dataDir, path.join(PROJECT_ROOT, 'flows', 'flows.json')).file;
  } catch (e) {
    fail((e as Error).message);
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(strictTransportSecurity(config));
  const server = http.createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;

  let services: Services;
  try {
    services = initServices({ config });
    // PostgreSQL connects and migrates here (SQLite did so while opening): a database that cannot be reached, signed
    // in to, or was written by a newer version stops the start with the reason.
    await services.store.ready;
  } catch (e) {
    fail(e instanceof StoreError || isUserError(e) ? (e as Error).message : `${(e as Error).message}`);
  }

  if (config.mode === 'demo') {
    const { generatedPassword } = await seedDemoAccounts(services.staffStore, config.demoPassword);
    if (generatedPassword) {
      console.log(
        `\n  Demo mode. Staff accounts agent1, agent2, kcc1 and admin share this generated password (shown once):\n\n` +
          `      ${generatedPassword}\n\n  Set IDV_DEMO_PASSWORD to choose one.\n`,
      );
    }
  }
  // Production has no demo accounts; an empty account table means nobody can sign in, which start-up says plainly.
  if (config.mode === 'production' && (await services.staffStore.listUsers()).length === 0) {
    console.warn('[idv] no staff accounts exist yet: create them with `node dist/scripts/staff-account.js` (see README)');
  }

  // Node-RED's own token store (plain tokens) is not used any more; an old file could still hold live tokens.
  const oldSessions = path.join(config.dataDir, '.sessions.json');
  if (fs.existsSync(oldSessions)) {
    fs.rmSync(oldSessions, { force: true });
    console.log('[idv] removed the old editor sessions file (.sessions.json); administrators sign in to the editor again');
  }
  if (nodeEnvWasSet && process.env.NODE_ENV !== 'production') {
    console.warn(`[idv] NODE_ENV is "${process.env.NODE_ENV}"; the runtime is meant to run with NODE_ENV=production`);
  }

  shortenConsoleStacks();
  let flowsRunning = false;
  RED.init(server, nodeRedSettings(config, services, flowFile));
  RED.events.on('flows:started', () => (flowsRunning = true));
  RED.events.on('flows:stopped', () => (flowsRunning = false));
  services.registerHealth('runtime', () => ({ ok: flowsRunning, detail: flowsRunning ? undefined : 'flows not running' }));
  services.attachApp(RED.httpNode);

  app.use(rejectHostilePath({ log: (m) => services.log.warn(m), branding: () => services.branding() }));
  app.get('/healthz', (_req, res) => {
    void services.health().then((h) => {
      res.status(h.ok ? 200 : 503).setHeader('Cache-Control', 'no-store');
      res.json({ status: h.ok ? 'ok' : 'unavailable', ...h.checks });
    });
  });
  app.use(
    '/admin',
    editorGuard({
      sessions: services.editorSessions,
      staff: services.staff,
      signInLimiter: services.signInLimiter,
      publicUrl: () => config.publicUrl,
      // Demo mode may install from the palette manager, which reads Node-RED's public catalogue.
      catalogues: config.mode === 'demo' ? ['https://catalogue.nodered.org'] : [],
      log: (m) => services.log.info(m),
    }),
    RED.httpAdmin,
  );
  app.use('/', RED.httpNode);
  // Last: what nobody answered is a 404, and every error that reached here (Node-RED's admin app, a library inside
  // it, anything mounted without our handler) gets our page, our status rules and one throttled log line.
  app.use((req, res) => sendNotFound(req, res, services.branding()));
  app.use(errorHandler({ log: (m) => services.log.warn(m), branding: () => services.branding() }));

  await new Promise<void>((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(`Port ${config.port} on ${config.host} is already in use. Set PORT to another port.`);
      if (e.code === 'EACCES') fail(`Not allowed to listen on ${config.host}:${config.port}.`);
      fail(`Cannot listen on ${config.host}:${config.port}: ${e.message}`);
    });
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // Started on port 0 (tests, a second local instance): links must carry the port we really listen on.
  if (!config.publicUrlFromEnv && config.port === 0) {
    (config as { publicUrl: string }).publicUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  }
  await RED.start();
  console.log(`[idv] ID Video (${config.mode} mode) listening on http://${config.host}:${port}  editor: /admin  data: ${config.dataDir}  store: ${services.store.describe()}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[idv] ${signal}: stopping`);
    const force = setTimeout(() => {
      console.error('[idv] stop took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    server.close();
    server.closeAllConnections?.();
    try {
      await RED.stop();
    } catch (e) {
      console.error(`[idv] error while stopping flows: ${(e as Error).message}`);
    }
    // Every write is its own committed transaction; closing checkpoints SQLite's WAL or ends the PostgreSQL pool.
    await services.close();
    console.log('[idv] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main().catch((e) => fail((e as Error).stack ?? String(e)));
