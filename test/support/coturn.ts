import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir } from './runtime';

/**
 * A real coturn (Debian's `turnserver`) for tests, started from the shipped deploy/coturn/turnserver.conf with only the
 * lines an operator changes replaced, and a test CA for TURNS. It can run inside a network namespace.
 */
export interface TestCa {
  dir: string;
  caCert: string;
  /** PEM text of the CA certificate, for Node's TLS `ca` option. */
  caPem: string;
  cert: string;
  key: string;
  /** base64 SHA-256 of the server certificate's public key, for Chromium's --ignore-certificate-errors-spki-list. */
  spki: string;
}

/** A CA and a server certificate for `ip` (IP SAN) and `name` (DNS SAN), made with openssl in a temp dir. */
export function makeTestCa(ip: string, name = 'turn.idv.test'): TestCa {
  const dir = tempDir('idv-test-ca-');
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ID Video test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${name}`);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=IP:${ip},DNS:${name}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  const serverPem = fs.readFileSync(path.join(dir, 'server.pem'), 'utf8');
  const spkiDer = new X509Certificate(serverPem).publicKey.export({ type: 'spki', format: 'der' });
  // coturn runs as root here, but a chain file keeps the TLS handshake complete for clients that want it.
  fs.writeFileSync(path.join(dir, 'fullchain.pem'), serverPem + fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
  return {
    dir,
    caCert: path.join(dir, 'ca.pem'),
    caPem: fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    cert: path.join(dir, 'fullchain.pem'),
    key: path.join(dir, 'server.key'),
    spki: createHash('sha256').update(spkiDer).digest('base64'),
  };
}

/**
 * The shipped configuration with `key=value` lines replaced (every line of a key that appears in `set`, commented or
 * not, gives way to the given value(s)) and `add` lines appended.
 */
export function coturnConfig(set: Record<string, string | string[] | null>, add: string[] = []): string {
  const shipped = fs.readFileSync(path.join(ROOT, 'deploy', 'coturn', 'turnserver.conf'), 'utf8');
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const line of shipped.split('\n')) {
    const m = /^#?([a-z0-9-]+)(?:=|$)/.exec(line.trim());
    const key = m?.[1];
    if (key && Object.prototype.hasOwnProperty.call(set, key)) {
      if (!seen.has(key)) {
        seen.add(key);
        const v = set[key];
        if (v === null) continue;
        for (const one of Array.isArray(v) ? v : [v]) lines.push(one === '' ? key : `${key}=${one}`);
      }
      continue;
    }
    lines.push(line);
  }
  for (const [key, v] of Object.entries(set)) {
    if (seen.has(key) || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push(one === '' ? key : `${key}=${one}`);
  }
  return [...lines, ...add].join('\n') + '\n';
}

export interface Coturn {
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts turnserver with `config` (written to a temp file), in network namespace `netns` when given, and resolves once
 * `ready()` (e.g. a TURN probe of its TLS port) says it answers. Stopped with SIGTERM (SIGKILL after 3 s).
 */
export async function startCoturn(config: string, ready: () => Promise<boolean>, netns?: string, timeoutMs = 15_000): Promise<Coturn> {
  const dir = tempDir('idv-coturn-');
  const confFile = path.join(dir, 'turnserver.conf');
  const logFile = path.join(dir, 'turn.log');
  fs.writeFileSync(confFile, config + `log-file=${logFile}\npidfile=${path.join(dir, 'turn.pid')}\nuserdb=${path.join(dir, 'turndb')}\n`, { mode: 0o600 });
  const argv = ['-c', confFile, '--no-stdout-log'];
  const proc = netns ? spawn('ip', ['netns', 'exec', netns, 'turnserver', ...argv], { stdio: 'ignore' }) : spawn('turnserver', argv, { stdio: 'ignore' });
  // coturn appends a date to the log file name it is given.
  const readLog = (): string => {
    let out = '';
    for (const f of fs.readdirSync(dir)) if (f.startsWith('turn') && f.endsWith('.log')) out += fs.readFileSync(path.join(dir, f), 'utf8');
    return out;
  };
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`turnserver exited with ${proc.exitCode}:\n${readLog().slice(-2000)}`);
    if (await ready().catch(() => false)) return { proc, log: readLog, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = readLog();
  await stop();
  throw new Error(`turnserver did not open its listeners within ${timeoutMs} ms:\n${log.slice(-2000)}`);
}
