import * as path from 'node:path';
import express, { type Application, type Router } from 'express';
import { loadConfig, usesHttps, type RuntimeConfig } from './config';
import { createCsrf, type Csrf } from './http/csrf';
import { DEFAULT_BRANDING, STATIC_PREFIX, type Branding } from './http/layout';
import { errorHandler } from './http/errors';
import { mountRouter } from './http/mount';
import { createRateLimiter, useClientKeySecret, type LimiterFactory, type RateLimiter } from './http/rate-limit';
import { createEditorSessions, type EditorSessions } from './editor/sessions';
import { allowBrandingOrigins, securityHeaders } from './http/security';
import { staticFiles } from './http/static';
import { deriveKey, loadOrCreateSecret } from './secrets';
import { createStaffAuth, type StaffAuth } from './staff/auth';
import { staffLoginRouter } from './staff/login-page';
import { pendingFlowsOf } from './identification/pending-store';
import { createStaffSso, type StaffSso } from './staff/sso';
import type { StaffSsoSettings } from './staff/sso-config';
import type { FlowStaffSso } from './staff/sso-node-config';
import type { StaffStore } from './staff/types';
import { openStore } from './store/open';
import type { HealthState, Store } from './store/store';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type { HealthState } from './store/store';

export interface Services {
  readonly config: RuntimeConfig;
  /**
   * The store (SQLite or PostgreSQL, chosen once from the config): domains take their repository from it
   * (`store.appointments`, `store.links`, …); nothing outside lib/store/ sees a database handle.
   */
  readonly store: Store;
  readonly log: Logger;
  /** Cookies carry Secure and the __Host- prefix. */
  readonly secure: boolean;
  readonly secret: string;
  readonly hmacKey: Buffer;
  readonly staffStore: StaffStore;
  readonly staff: StaffAuth;
  /** The one sign-in limit per client network, for every sign-in door (/login, the editor's auth/token). */
  readonly signInLimiter: RateLimiter;
  /**
   * A rate limit whose counters every instance shares when the store can hold them (PostgreSQL), else this process's
   * memory. `name` keeps limits apart; the same name and budget give the same counters.
   */
  readonly limiter: LimiterFactory;
  /** The flow editor's tokens (hashed, in the staff session table). */
  readonly editorSessions: EditorSessions;
  /** Staff sign-in through the gemeente's OpenID provider (IDV_STAFF_OIDC_*), when configured. */
  readonly staffSso?: StaffSso;
  /**
   * The sign-in through a provider of the staff pages now: the environment's (`staffSso`), else the one an enabled
   * idv-staff-sso node put in place, else none.
   */
  pagesSso(): StaffSso | undefined;
  /**
   * Puts an idv-staff-sso node's settings in place for the staff pages (the node calls `release` on close). Refused
   * with a sentence when the environment configures staff SSO or another node already does.
   */
  useFlowStaffSso(owner: string, settings: FlowStaffSso): { ok: true; release: () => void } | { ok: false; problem: string };
  readonly csrf: Csrf;
  /** Branding from the idv-settings node (set when the flows start). */
  branding(): Branding;
  setBranding(b: Branding | undefined): void;
  /** One instance per key for the lifetime of the process (domain services shared by several nodes). */
  memo<T>(key: string, factory: () => T): T;
  registerHealth(name: string, check: () => HealthState | Promise<HealthState>): void;
  /** Runs the registered checks (only those named in `only`, when given; unregistered names are skipped). */
  health(only?: readonly string[]): Promise<{ ok: boolean; checks: Record<string, HealthState> }>;
  /** Mounts a router on the public app; returns its unmount function (routes go away when a node closes). */
  mount(router: Router): () => void;
  /**
   * Routes several nodes share (e.g. /v/<token>, /auth/*): mounted by the first node that needs them, unmounted when
   * the last one closes, so a redeploy never leaves a stale handler answering. Returns that node's release function.
   */
  mountShared(key: string, build: () => Router): () => void;
  /** The public express app routes are mounted on (Node-RED's httpNode). */
  app(): Application | undefined;
  /** Gives the services the public app once it exists (Node-RED creates httpNode during init). */
  attachApp(app: Application): void;
  onClose(fn: () => unknown): void;
  close(): Promise<void>;
}

export interface ServicesOptions {
  config: RuntimeConfig;
  log?: Logger;
  /** The public express app (Node-RED's httpNode). Global routes (/login, static files) are installed on it. */
  app?: Application;
  /** A store made by the caller (tests); default: openStore from the config. Closed with the services. */
  store?: Store;
}

const consoleLogger: Logger = {
  info: (m) => console.log(`[idv] ${m}`),
  warn: (m) => console.warn(`[idv] ${m}`),
  error: (m) => console.error(`[idv] ${m}`),
};

let current: Services | undefined;

export function createServices(o: ServicesOptions): Services {
  const { config } = o;
  const log = o.log ?? consoleLogger;
  const { secret } = loadOrCreateSecret(config.dataDir, config.credentialSecret);
  const store = o.store ?? openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePool, log });
  const secure = usesHttps(config);
  const hmacKey = deriveKey(secret, 'hmac');
  useClientKeySecret(deriveKey(secret, 'client-network'));
  const staffStore = store.staff;
  const { localAccounts } = config.staff;
  let flowSso: { owner: string; sso: StaffSso; localAccounts: boolean } | undefined;
  const staff = createStaffAuth({ store: staffStore, secure, localAccounts, pagesLocalAccounts: () => flowSso?.localAccounts ?? true });
  const csrf = createCsrf(hmacKey, secure);
  const limiter: LimiterFactory = (name, l) => createRateLimiter({ ...l, store: store.rateLimits(name, l) });
  const signInLimiter = limiter('sign-in', { windowMs: 15 * 60_000, max: 30 });
  const editorSessions = createEditorSessions({ store: staffStore, localAccounts });
  // Started sign-ins wait in the store, so the provider's callback may land on any instance.
  const staffPending = pendingFlowsOf(store.pendingIdentifications, 'staff-oidc');
  const ssoOf = (settings: StaffSsoSettings) =>
    createStaffSso({ settings, store: staffStore, auth: staff, publicUrl: () => config.publicUrl, log: (m) => log.info(m), pending: staffPending,
      once: (key, expiresAt, nowMs) => store.pendingIdentifications.once('staff-logout', key, expiresAt, nowMs) });
  const staffSso = config.staff.sso ? ssoOf(config.staff.sso) : undefined;
  const memos = new Map<string, unknown>();
  const checks = new Map<string, () => HealthState | Promise<HealthState>>();
  const closers: (() => unknown)[] = [];
  let branding: Branding | undefined;
  let app = o.app;
  let closed = false;

  // A real, bounded write: a store that can read but not write is down for bookings (lib/store/health.ts).
  checks.set('store', () => store.probe.check());

  const purgeTimer = setInterval(() => void staff.purge().catch(() => undefined), 10 * 60_000);
  purgeTimer.unref();

  const services: Services = {
    config,
    store,
    log,
    secure,
    secret,
    hmacKey,
    staffStore,
    staff,
    signInLimiter,
    limiter,
    editorSessions,
    ...(staffSso ? { staffSso } : {}),
    pagesSso: () => staffSso ?? flowSso?.sso,
    useFlowStaffSso(owner, settings) {
      if (staffSso) return { ok: false, problem: `the environment configures the staff sign-in (IDV_STAFF_OIDC_ISSUER ${staffSso.settings.client.issuer}); this node is not used` };
      if (flowSso && flowSso.owner !== owner) return { ok: false, problem: `another idv-staff-sso node (${flowSso.owner}) is in use; enable only one` };
      const mine = { owner, sso: ssoOf(settings.sso), localAccounts: settings.localAccounts };
      flowSso = mine;
      return {
        ok: true,
        release: () => {
          if (flowSso === mine) flowSso = undefined;
        },
      };
    },
    csrf,
    branding: () => branding ?? DEFAULT_BRANDING,
    setBranding: (b) => {
      branding = b;
      allowBrandingOrigins(b ?? {});
    },
    memo<T>(key: string, factory: () => T): T {
      if (!memos.has(key)) memos.set(key, factory());
      return memos.get(key) as T;
    },
    registerHealth: (name, check) => {
      checks.set(name, check);
    },
    async health(only) {
      const out: Record<string, HealthState> = {};
      for (const [name, check] of checks) {
        if (only && !only.includes(name)) continue;
        try {
          out[name] = await check();
        } catch (e) {
          out[name] = { ok: false, detail: (e as Error).message };
        }
      }
      return { ok: Object.values(out).every((c) => c.ok), checks: out };
    },
    mount(router) {
      if (!app) throw new Error('no public HTTP app to mount on');
      return mountRouter(app, router, errorHandler({ log: (m) => log.warn(m), branding: () => services.branding() }));
    },
    app: () => app,
    attachApp(a) {
      if (app === a) return;
      app = a;
      installGlobalRoutes(services, a);
    },
    mountShared(key, build) {
      const state = services.memo(`mount:${key}`, () => ({ users: 0, unmount: undefined as (() => void) | undefined }));
      if (state.users === 0) state.unmount = services.mount(build());
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
    },
    onClose: (fn) => {
      closers.push(fn);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(purgeTimer);
      for (const fn of closers.reverse()) {
        try {
          await fn();
        } catch (e) {
          log.warn(`error while closing: ${(e as Error).message}`);
        }
      }
      await store.close();
      if (current === services) current = undefined;
    },
  };

  if (app) installGlobalRoutes(services, app);
  return services;
}

function installGlobalRoutes(s: Services, app: Application): void {
  const r = express.Router();
  r.use(STATIC_PREFIX, staticFiles((m) => s.log.warn(m)));
  const pages = express.Router();
  pages.use(securityHeaders({ frameAncestors: "'none'" }));
  pages.use(
    staffLoginRouter({ auth: s.staff, csrf: s.csrf, secure: s.secure, limiter: s.signInLimiter, branding: () => s.branding(), log: (m) => s.log.info(m), sso: () => s.pagesSso() }),
  );
  r.use(pages);
  mountRouter(app, r, errorHandler({ log: (m) => s.log.warn(m), branding: () => s.branding() }));
}

/** Sets the process-wide services (settings.ts does this before Node-RED starts). */
export function initServices(o: ServicesOptions): Services {
  if (current) throw new Error('services already initialised');
  current = createServices(o);
  return current;
}

/** What nodes call: the services settings.ts created, or (in a plain Node-RED) ones made from RED.settings. */
export function getServices(RED?: { settings: Record<string, unknown>; httpNode?: Application; log?: Logger }): Services {
  if (!current) {
    if (!RED) throw new Error('ID Video services are not initialised');
    const userDir = (RED.settings.userDir as string | undefined) ?? process.cwd();
    const config = loadConfig({ ...process.env, IDV_DATA_DIR: process.env.IDV_DATA_DIR || path.join(userDir, 'idvideo') });
    current = createServices({ config, log: RED.log, app: RED.httpNode });
  } else if (RED?.httpNode) {
    current.attachApp(RED.httpNode);
  }
  return current;
}

export function currentServices(): Services | undefined {
  return current;
}
