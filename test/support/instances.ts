/**
 * Several instances behind one address in tests (issue 12): Debian's nginx in front of the runtimes, round-robin on
 * loopback, and the instances' own metrics. Used by test/e2e/instances*.test.ts.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, NGINX } from './nginx';
import { startRuntime, tempDir, waitHealthy } from './runtime';
import type { RuntimeHandle } from './runtime';
import { waitFor } from './call-media';

/** A metric's value on one instance (a scrape straight to its socket, as Prometheus on the machine does). */
export async function metric(rt: RuntimeHandle, line: RegExp): Promise<number> {
  const text = await (await fetch(`${rt.url}/metrics`)).text();
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Debian's nginx, round-robin over the runtimes, WebSocket upgrade, as a load balancer in front of instances. */
export interface Balancer {
  stop(): Promise<void>;
  log(): string;
  /** Rewrites the config so the identification callback always goes to the runtime on `port`, and reloads nginx. */
  callbackTo(port: number): Promise<void>;
  /** Rewrites the config so requests under `location` (an nginx location, e.g. `/idv/documents/`) go to `port`. */
  pin(location: string, port: number): Promise<void>;
}

export async function startBalancer(dir: string, port: number, upstreams: number[]): Promise<Balancer> {
  const conf = path.join(dir, 'nginx.conf');
  const pins = new Map<string, number>();
  const write = () => fs.writeFileSync(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log notice;`,
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'events { worker_connections 256; }',
      'http {',
      `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
      `  log_format up '$request_method $uri $status $upstream_addr';`,
      `  access_log ${dir}/access.log up;`,
      `  upstream idvideo { ${upstreams.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join(' ')} }`,
      "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
      '  server {',
      `    listen 127.0.0.1:${port};`,
      ...[...pins].flatMap(([location, p]) => [
        `    location ${location} {`,
        `      proxy_pass http://127.0.0.1:${p};`,
        '      proxy_set_header Host $http_host;',
        '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '    }',
      ]),
      '    location / {',
      '      proxy_pass http://idvideo;',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Upgrade $http_upgrade;',
      '      proxy_set_header Connection $connection_upgrade;',
      '      proxy_set_header Host $http_host;',
      '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      '      proxy_set_header X-Forwarded-Proto $scheme;',
      '      proxy_read_timeout 1h;',
      '      proxy_connect_timeout 2s;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  write();
  const args = ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', conf];
  const check = spawnSync(NGINX, ['-t', ...args], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the config:\n${check.stderr}`);
  const proc: ChildProcess = spawn(NGINX, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await waitFor('nginx listening', () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  }), 10_000, 50);
  const pin = async (location: string, p: number): Promise<void> => {
    pins.set(location, p);
    write();
    const t = spawnSync(NGINX, ['-t', ...args], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nginx -t refused the config:\n${t.stderr}`);
    const count = (what: RegExp) => (fs.readFileSync(`${dir}/error.log`, 'utf8').match(what) ?? []).length;
    const started = count(/start worker process/g);
    const stopping = count(/gracefully shutting down/g);
    const reloaded = spawnSync(NGINX, ['-s', 'reload', ...args], { encoding: 'utf8' });
    if (reloaded.status !== 0) throw new Error(`nginx reload failed:\n${reloaded.stderr}`);
    // The new worker runs, and the old one stopped taking connections (it keeps its open ones, WebSockets included):
    // from here every new connection gets the new config.
    await waitFor('nginx runs the new config', async () => count(/start worker process/g) > started && count(/gracefully shutting down/g) > stopping, 10_000, 50);
  };
  return {
    pin,
    callbackTo: (p) => pin('= /auth/callback', p),
    log: () => (fs.existsSync(`${dir}/access.log`) ? fs.readFileSync(`${dir}/access.log`, 'utf8') : ''),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}


/** Two (or more) runtimes on one PostgreSQL database behind one nginx, as an installation runs them. */
export interface Instances {
  /** The balancer's address: what residents and employees use. */
  base: string;
  runtimes: RuntimeHandle[];
  ports: number[];
  lb: Balancer;
  /** Stops nginx and every runtime still running (SIGKILL), removes the temp dirs. */
  stop(): Promise<void>;
}

/** The instance link's shared secret and the credential secret every instance of the tests' installation holds. */
export const INSTANCE_SECRET = 'instance-link-secret-for-the-tests-0123456789';
export const CREDENTIAL_SECRET = 'credential-secret-shared-by-both-instances-42';

/**
 * Starts `count` runtimes (`node dist/settings.js`) with the given flows on the PostgreSQL database `dbUrl`, each in
 * its own data dir (own instance id), then nginx in front. Room lease 6 s, drain 2 s, behind the proxy (trusted).
 */
export async function startInstances(o: { dbUrl: string; smtpUrl: string; flows: unknown; count?: number; env?: Record<string, string>; nodeArgs?: string[] }): Promise<Instances> {
  const dirs: string[] = [];
  const runtimes: RuntimeHandle[] = [];
  let lb: Balancer | undefined;
  const stop = async () => {
    await lb?.stop();
    for (const rt of runtimes) if (rt && rt.proc.exitCode === null && rt.proc.signalCode === null) await rt.stop('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  try {
    const lbPort = await freePort();
    const base = `http://127.0.0.1:${lbPort}`;
    const ports: number[] = [];
    for (let i = 0; i < (o.count ?? 2); i++) ports.push(await freePort());
    await Promise.all(
      ports.map(async (port, i) => {
        const dataDir = tempDir(`idv-instances-${i}-`);
        dirs.push(dataDir);
        fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(o.flows, null, 2));
        runtimes[i] = await startRuntime({
          dataDir,
          timeoutMs: 60_000,
          ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
          env: {
            PORT: String(port),
            IDV_DATABASE_URL: o.dbUrl,
            IDV_MEDIA_WORKERS: '1',
            IDV_PUBLIC_URL: base,
            IDV_CREDENTIAL_SECRET: CREDENTIAL_SECRET,
            IDV_INSTANCE_SECRET: INSTANCE_SECRET,
            IDV_ROOM_LEASE_SECONDS: '6',
            IDV_DRAIN_SECONDS: '2',
            // Behind the test's nginx, as in production: the balancer's X-Forwarded-For names the client.
            IDV_TRUST_PROXY: '1',
            SMTP_URL: o.smtpUrl,
            ...o.env,
          },
        });
      }),
    );
    for (const rt of runtimes) {
      const r = await waitHealthy(rt.url);
      if (r.status !== 200) throw new Error(`instance ${rt.url} not healthy: ${r.status}`);
    }
    const lbDir = tempDir('idv-instances-nginx-');
    dirs.push(lbDir);
    lb = await startBalancer(lbDir, lbPort, ports);
    return { base, runtimes, ports, lb, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
