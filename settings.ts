/**
 * The embedded runtime: `npm start` runs this file. Node-RED runs inside our own HTTP server: the editor and admin API
 * at /admin behind adminAuth (staff accounts with the admin role), our public pages and APIs under /, flows from
 * flows/flows.json on first start, data in IDV_DATA_DIR. Configuration comes from the environment (see README).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import { loadConfig, type RuntimeConfig } from './lib/config';
import { isUserError } from './lib/errors';
import { sendErrorPage } from './lib/http/errors';
import { prepareFlowsFile } from './lib/runtime/flows-file';
import { seedDemoAccounts } from './lib/runtime/demo-accounts';
import { initServices, type Services } from './lib/services';
import { checkTurn } from './lib/call/turn-check';
import { StoreError } from './lib/store/db';

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
  console.error(`\nID Video did not start:\n${message}\n`);
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
    adminAuth: {
      type: 'credentials',
      users: async (username: string) => {
        const u = await services.staffStore.getUser(username);
        return u && u.roles.includes('admin') && !u.disabled ? { username: u.username, permissions: '*' } : null;
      },
      authenticate: async (username: string, password: string) => {
        const result = await services.staff.login(username, password);
        if (!result.ok || !result.user.roles.includes('admin')) return null;
        return { username: result.user.username, permissions: '*' };
      },
      sessionExpiryTime: 8 * 3600,
    },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: {
      page: { title: 'ID Video – flows' },
      header: { title: 'ID Video' },
      projects: { enabled: false },
      tours: false,
    },
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: config.mode === 'demo' }, modules: { allowInstall: false } },
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
  if (config.media.turn) {
    // A wrong TURN secret is an operator error: say so now, not through a resident's black screen.
    const turn = await checkTurn(config.media.turn);
    for (const w of turn.warnings) console.warn(`[idv] ${w}`);
    if (turn.fatal.length) fail(turn.fatal.join('\n'));
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
  const server = http.createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;

  let services: Services;
  try {
    services = initServices({ config });
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

  let flowsRunning = false;
  RED.init(server, nodeRedSettings(config, services, flowFile));
  RED.events.on('flows:started', () => (flowsRunning = true));
  RED.events.on('flows:stopped', () => (flowsRunning = false));
  services.registerHealth('runtime', () => ({ ok: flowsRunning, detail: flowsRunning ? undefined : 'flows not running' }));
  services.attachApp(RED.httpNode);

  app.get('/healthz', (_req, res) => {
    void services.health().then((h) => {
      res.status(h.ok ? 200 : 503).setHeader('Cache-Control', 'no-store');
      res.json({ status: h.ok ? 'ok' : 'unavailable', ...h.checks });
    });
  });
  app.use('/admin', RED.httpAdmin);
  app.use('/', RED.httpNode);
  app.use((req, res) => {
    const nl = !String(req.headers['accept-language'] ?? '').startsWith('en');
    sendErrorPage(req, res, 404, nl ? 'Pagina niet gevonden' : 'Page not found', nl ? 'Deze pagina bestaat niet.' : 'This page does not exist.', services.branding());
  });

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
  console.log(`[idv] ID Video (${config.mode} mode) listening on http://${config.host}:${port}  editor: /admin  data: ${config.dataDir}`);

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
    // Every write is its own committed SQLite transaction; closing checkpoints the WAL.
    await services.close();
    console.log('[idv] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main().catch((e) => fail((e as Error).stack ?? String(e)));
