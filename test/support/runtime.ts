import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { watchNodeRedOutput, type WatchedLog } from './server-log';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DEMO_PASSWORD = 'test-demo-password-42';

export interface RuntimeHandle {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  /**
   * Its warn/error lines (Node-RED's `[warn]`/`[error]` lines and everything on stderr), checked after every test
   * (test/support/server-log.ts): a test that provokes one says so with `rt.log.allow(…)`/`expectLine(…)`.
   */
  log: WatchedLog;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDir(prefix = 'idv-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts the real embedded runtime (`node dist/settings.js`) as a child process on an ephemeral port, in its own data
 * dir, and resolves when it listens. Node-RED is a per-process singleton, so every runtime test gets its own process.
 */
export function startRuntime(
  opts: {
    env?: Record<string, string>;
    dataDir?: string;
    timeoutMs?: number;
    nodeArgs?: string[];
    /** The script as a unit file names it (relative to `cwd`); default dist/settings.js by its full path. */
    script?: string;
    cwd?: string;
    /** What the output must show besides "listening" (default "Started flows"; safe mode never shows that). */
    waitFor?: RegExp;
    /** Resolve once it listens, without waiting for "Started flows" (default true). */
    waitForFlows?: boolean;
  } = {},
): Promise<RuntimeHandle> {
  const dataDir = opts.dataDir ?? tempDir();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: '0',
    HOST: '127.0.0.1',
    IDV_DATA_DIR: dataDir,
    IDV_DEMO_PASSWORD: DEMO_PASSWORD,
    ...opts.env,
  };
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? path.join(ROOT, 'dist', 'settings.js')], { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const log = watchNodeRedOutput(`runtime in ${dataDir}`, proc, (text) => (out += text));
  // Node-RED's start-up notices, not faults: projects are off on purpose (settings.ts), and a new data dir has no
  // flows_cred.json before the first deploy with credentials.
  log.allow(/ - \[warn\] Projects disabled : editorTheme\.projects\.enabled=false$/, / - \[warn\] Encrypted credentials not found$/);
  // The demo identity provider (demo mode only) is oidc-provider with its in-memory store, on purpose; the library
  // also says it wants Node 22 (README: Node 20.19+; see the closing note of issue 18).
  log.allow(/^oidc-provider WARNING: (a quick start development-only in-memory adapter is used|Unsupported runtime\. Use Node\.js v22)/);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`runtime did not start within ${opts.timeoutMs ?? 30000} ms:\n${out}`));
    }, opts.timeoutMs ?? 30000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m && (opts.waitForFlows === false || (opts.waitFor ?? /Started flows/).test(out))) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          url: `http://127.0.0.1:${port}`,
          port,
          dataDir,
          proc,
          output: () => out,
          log,
          stop: async (signal = 'SIGTERM') => {
            if (proc.exitCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before listening:\n${out}`));
    });
  });
}

/** Runs the runtime expecting it to refuse to start; resolves with exit code and output. */
export function runRuntimeExpectingExit(env: Record<string, string>, timeoutMs = 30000): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'settings.js')], {
    env: { ...(process.env as Record<string, string>), PORT: '0', HOST: '127.0.0.1', IDV_DEMO_PASSWORD: DEMO_PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out });
    });
  });
}

/**
 * Polls /healthz until it answers 200 (bounded): right after "Started flows" the media workers may still be
 * starting, which /healthz rightly reports as 503.
 */
export async function waitHealthy(url: string, timeoutMs = 20_000): Promise<Response> {
  const end = Date.now() + timeoutMs;
  let res = await fetch(`${url}/healthz`);
  while (res.status !== 200 && Date.now() < end) {
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 250));
    res = await fetch(`${url}/healthz`);
  }
  return res;
}

/** The pids of a process's direct children, from /proc (a runtime's media workers are its children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked: not a child any more.
    }
  }
  return out;
}
