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
import { deployCheck } from './lib/editor/deploy-check';
import { editorGuard, stripCorsHeaders } from './lib/editor/guard';
import { errorHandler, rejectHostilePath, sendNotFound } from './lib/http/errors';
import { forwardedHeaderWatch } from './lib/http/forwarded-watch';
import { strictTransportSecurity } from './lib/http/security';
import { tightenDataDir, usePrivateFileModes } from './lib/runtime/file-modes';
import { createFlowGuard } from './lib/runtime/flow-guard';
import { prepareFlowsFile } from './lib/runtime/flows-file';
import { healthRoute, readyRoute } from './lib/runtime/health-route';
import { drainStateOf } from './lib/runtime/drain';
import { metricsOf, metricsRoute } from './lib/runtime/metrics';
import { ownerForward } from './lib/call/owner-forward';
import { stopWhenNpmExits } from './lib/runtime/parent-watch';
import { nodeRedLogHandler, shortenConsoleStacks } from './lib/runtime/log-handler';
import { seedDemoAccounts } from './lib/runtime/demo-accounts';
import { retentionOf } from './lib/retention/runtime';
import { initServices, type Services } from './lib/services';
import { checkTurn } from './lib/call/turn-check';
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
  // Before anything is written: the data dir holds personal data and secrets (lib/runtime/file-modes.ts).
  usePrivateFileModes();
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
  const tightened = tightenDataDir(config.dataDir);
  if (tightened.changed.length) console.log(`[idv] made private to this user (0600/0700) in ${config.dataDir}: ${tightened.changed.join(', ')}`);
  if (tightened.failed.length) console.warn(`[idv] could not make private (another owner?) in ${config.dataDir}: ${tightened.failed.join(', ')}`);

  const app = express();
  app.disable('x-powered-by');
  // Express believes X-Forwarded-* for exactly this many proxies; 0 (the default) believes none of it.
  app.set('trust proxy', config.trustProxy);
  app.use(forwardedHeaderWatch({ trustProxy: config.trustProxy, log: (m) => console.warn(`[idv] ${m}`) }));
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

  if (config.mode === 'demo' && config.staff.localAccounts) {
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
  // Production runs no demo set-up: flows that still hold it stay stopped (the editor stays open to change them).
  const flowGuard = createFlowGuard({ accounts: () => services.staffStore.listAccounts(), log: services.log });
  const demoSetUp = config.mode === 'production' && (await flowGuard.checkFile(flowFile)).length > 0;
  if (config.mode === 'production') services.registerHealth('flows', () => flowGuard.health());
  // The resident's details are erased IDV_RETENTION_DAYS after the appointment, whatever the flows do (lib/retention).
  retentionOf(services);

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
  // Node-RED's safe mode: the editor runs, the flows do not (until a deploy). Read through a getter by Node-RED.
  const redSettings = { ...nodeRedSettings(config, services, flowFile), safeMode: demoSetUp };
  RED.init(server, redSettings);
  RED.events.on('flows:started', (e: { config?: { flows?: unknown } }) => {
    flowsRunning = true;
    if (config.mode === 'production') void flowGuard.started(e?.config?.flows ?? []).catch(() => undefined);
  });
  RED.events.on('flows:stopped', () => (flowsRunning = false));
  services.registerHealth('runtime', () => ({ ok: flowsRunning, detail: flowsRunning ? undefined : 'flows not running' }));
  // Credentials that do not decrypt (a restore with another IDV_CREDENTIAL_SECRET): Node-RED warns "Failed to decrypt
  // credentials" and would run every node without its secrets, and the next deploy would overwrite them.
  // Node-RED loads them after RED.start() has resolved; production then stops (refuseCredentials, once stop exists).
  let credentialsBroken = false;
  let refuseCredentials: (() => void) | undefined = undefined;
  RED.events.on('runtime-event', (e: { payload?: { error?: string } }) => {
    if (e?.payload?.error !== 'credentials_load_failed' || credentialsBroken) return;
    credentialsBroken = true;
    if (config.mode !== 'production') {
      console.warn('[idv] flows_cred.json cannot be decrypted with this credential secret: nodes run without their secrets (health is red)');
      return;
    }
    // Checked by Node-RED right after this event: the flows do not start with empty credentials.
    redSettings.safeMode = true;
    refuseCredentials?.();
  });
  services.registerHealth('credentials', () =>
    credentialsBroken ? { ok: false, detail: 'flows_cred.json cannot be decrypted with this credential secret' } : { ok: true },
  );
  services.attachApp(RED.httpNode);

  app.use(rejectHostilePath({ log: (m) => services.log.warn(m), branding: () => services.branding() }));
  app.get('/healthz', healthRoute({ health: () => services.health(), identify: (req) => services.staff.identify(req) }));
  const drain = drainStateOf(services);
  app.get('/readyz', readyRoute({ health: (only) => services.health(only), draining: () => drain.draining, identify: (req) => services.staff.identify(req) }));
  app.get('/metrics', metricsRoute({ metrics: metricsOf(services), identify: (req) => services.staff.identify(req) }));
  if (config.mode === 'production') {
    app.use('/admin', deployCheck({ sessions: services.editorSessions, problems: (flows) => flowGuard.problemsOf(flows), log: (m) => services.log.warn(m) }));
  }
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
      sso: services.staffSso,
      branding: () => services.branding(),
    }),
    RED.httpAdmin,
  );
  // Several instances: a request about a call goes to the instance holding its room (lib/call/owner-forward.ts).
  app.use(ownerForward(services));
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
  // Other instances reach this one at IDV_INSTANCE_URL, by default the address it really listens on.
  if (config.instances && !config.instances.url) {
    const h = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    config.instances.url = `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  }
  await RED.start();
  console.log(`[idv] ID Video (${config.mode} mode) listening on http://${config.host}:${port}  editor: /admin  data: ${config.dataDir}  store: ${services.store.describe()}`);
  if (services.staffSso) {
    const sso = services.staffSso;
    console.log(
      `[idv] staff sign-in through ${sso.settings.client.issuer}${config.staff.localAccounts ? ' (and local accounts)' : ' only (local accounts off)'}; ` +
        `redirect URI ${sso.redirectUri()}, post-logout redirect URI ${sso.postLogoutRedirectUri()}, back-channel logout URI ${sso.backchannelLogoutUri()}`,
    );
    // Not fatal: the provider may be down for a moment; staff sign-in then fails with a page saying so.
    void sso.check().then((problem) => problem && console.warn(`[idv] ${problem}`));
  }

  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    const drainMs = signal === 'SIGTERM' ? (config.drainSeconds ?? 0) * 1000 : 0;
    if (drainMs > 0) {
      // Not ready any more: the load balancer sends new visitors elsewhere, the room directory gives this instance
      // no new rooms; calls already here go on for the drain period.
      console.log(`[idv] ${signal}: draining for ${config.drainSeconds} s, then stopping`);
      drain.begin();
      await new Promise((r) => setTimeout(r, drainMs));
    } else console.log(`[idv] ${signal}: stopping`);
    drain.begin();
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
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  stopWhenNpmExits((why) => void stop(why));

  refuseCredentials = () => {
    process.stderr.write(
      `\nID Video did not start:\nThe credentials in ${path.join(config.dataDir, 'flows_cred.json')} cannot be decrypted with this ` +
        `IDV_CREDENTIAL_SECRET (restored with another secret?). Nothing was changed and no flow ran. Start with the secret ` +
        `the backup was made with. If that secret is lost: move flows_cred.json away, start, and enter every secret again ` +
        `in the editor (SMTP, identification client secrets and keys).\n\n`,
    );
    void stop('credentials', 1);
  };
  if (credentialsBroken && config.mode === 'production') refuseCredentials();
  if (demoSetUp) console.warn('[idv] production: the editor is open at /admin; the flows start after a deploy without the demo set-up');
}

void main().catch((e) => fail((e as Error).stack ?? String(e)));
