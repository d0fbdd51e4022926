import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './runtime';

/**
 * The shipped nginx site (deploy/nginx/idvideo.conf) run for real, as a foreground nginx on loopback in front of a
 * runtime under test. The site file is used as shipped except for what differs between a server and a test: listen
 * addresses and ports, the runtime's port, the certificate, the log folder and the package path. Every replacement
 * must match, so a change to the shipped file that the test no longer covers fails here rather than going unnoticed.
 */

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) ?? 'nginx';
export const SITE_FILE = path.join(ROOT, 'deploy', 'nginx', 'idvideo.conf');

export interface TestCert {
  cert: string;
  key: string;
  /** The certificate itself (self-signed), to trust as a CA. */
  pem: string;
}

/** A self-signed EC certificate for `host` and 127.0.0.1 (openssl, valid two days). */
export function makeTestCert(dir: string, host: string): TestCert {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', key, '-out', cert, '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host},IP:127.0.0.1`,
  ], { stdio: 'pipe' });
  return { cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

function hasIpv6Loopback(): boolean {
  return Object.values(os.networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));
}

export interface SiteOptions {
  tlsPort: number;
  httpPort: number;
  runtimePort: number;
  cert: TestCert;
  logDir: string;
}

/** The shipped site with only the deployment-specific values replaced (each replacement must apply). */
export function siteFromShipped(o: SiteOptions): string {
  let text = fs.readFileSync(SITE_FILE, 'utf8');
  const v6 = hasIpv6Loopback();
  const replace = (from: string | RegExp, to: string, what: string) => {
    const before = text;
    text = typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
    if (text === before) throw new Error(`the shipped nginx site no longer has ${what}`);
  };
  replace('listen 80;', `listen 127.0.0.1:${o.httpPort};`, 'listen 80');
  replace('listen [::]:80;', v6 ? `listen [::1]:${o.httpPort};` : '', 'listen [::]:80');
  replace('listen 443 ssl http2;', `listen 127.0.0.1:${o.tlsPort} ssl http2;`, 'listen 443');
  replace('listen [::]:443 ssl http2;', v6 ? `listen [::1]:${o.tlsPort} ssl http2;` : '', 'listen [::]:443');
  replace('server 127.0.0.1:1880;', `server 127.0.0.1:${o.runtimePort};`, 'the runtime upstream');
  replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${o.cert.cert};`, 'ssl_certificate');
  replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${o.cert.key};`, 'ssl_certificate_key');
  replace('/var/log/nginx/', `${o.logDir}/`, 'the log folder');
  replace('root /opt/idvideo/deploy/nginx;', `root ${path.join(ROOT, 'deploy', 'nginx')};`, 'the maintenance page folder');
  replace('root /var/www/html;', `root ${o.logDir};`, 'the ACME webroot');
  return text;
}

export interface NginxHandle {
  dir: string;
  accessLog(): string;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Writes a main configuration around the site (as Debian's nginx.conf includes sites-enabled/ inside http {}) and
 * runs nginx in the foreground; resolves once the TLS port accepts connections. `nginx -t` runs first so a broken
 * site fails with nginx's own message.
 */
export async function startNginx(dir: string, site: string, tlsPort: number): Promise<NginxHandle> {
  fs.writeFileSync(path.join(dir, 'idvideo.conf'), site);
  const temp = (name: string) => path.join(dir, name);
  fs.writeFileSync(
    temp('nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${temp('nginx.pid')};`,
      `error_log ${temp('main-error.log')} warn;`,
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'events { worker_connections 256; }',
      'http {',
      '  include /etc/nginx/mime.types;',
      '  default_type application/octet-stream;',
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      '  access_log off;',
      `  include ${temp('idvideo.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', `${dir}/`, '-e', temp('main-error.log'), '-c', temp('nginx.conf')];
  const check = spawnSync(NGINX, ['-t', ...args], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the site:\n${check.stderr}`);
  const proc: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const end = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited at start:\n${out}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(tlsPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > end) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${tlsPort} within 10 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  return {
    dir,
    accessLog: () => read(temp('idvideo.access.log')),
    errorLog: () => read(temp('idvideo.error.log')),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request through the proxy as the named host, from a chosen loopback source address (127.0.0.2 and
 * 127.0.0.3 act as two residents), trusting the test certificate.
 */
export function proxyRequest(
  o: { port: number; host: string; ca: string; localAddress?: string },
  pathname: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: o.port,
        servername: o.host,
        ca: o.ca,
        localAddress: o.localAddress ?? '127.0.0.1',
        method: init.method ?? 'GET',
        path: pathname,
        headers: { host: `${o.host}:${o.port}`, ...(init.body ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}), ...init.headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
