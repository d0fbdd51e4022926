/**
 * `npm start` under a service manager: stopping npm must stop the runtime. npm 10/11 passes SIGTERM to the script's
 * process and exits; the start script `exec`s node so that process is the runtime itself (with `sh -c node …` the
 * signal hit the shell and the runtime ran on, still answering /healthz). And when npm is killed outright (SIGKILL,
 * nothing passed on), the runtime notices its parent is gone and stops too. One demo runtime per case.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { waitFor } from '../support/call-media';
import { TEST_RTC_ENV } from '../support/ports';
import { ROOT, tempDir } from '../support/runtime';

/** The pid of npm's only child (the runtime, after exec), from /proc. */
function childOf(pid: number): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.length === 1 ? children[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Running (a zombie waiting for a parent that does not reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('npm start under a service manager', function () {
  this.timeout(120_000);
  let npm: ChildProcess | undefined;
  let runtimePid: number | undefined;
  let dataDir: string;
  let out = '';

  async function start(): Promise<void> {
    dataDir = tempDir('idv-npm-start-');
    out = '';
    npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', IDV_DATA_DIR: dataDir, IDV_DEMO_PASSWORD: 'npm-start-test-password', ...TEST_RTC_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the runtime to listen', async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out) && /Started flows/.test(out), 60_000);
    runtimePid = childOf(npm.pid ?? 0);
    assert.ok(runtimePid, 'npm has one child: the runtime itself (the start script execs node)');
    assert.match(fs.readFileSync(`/proc/${runtimePid}/cmdline`, 'utf8'), /dist\/settings\.js/);
  }

  afterEach(() => {
    if (runtimePid && alive(runtimePid)) process.kill(runtimePid, 'SIGKILL');
    if (npm && npm.exitCode === null) npm.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM to npm stops the runtime gracefully', async () => {
    await start();
    npm?.kill('SIGTERM');
    await waitFor('the runtime to exit', async () => !alive(runtimePid ?? 0), 20_000);
    assert.match(out, /\[idv\] SIGTERM: stopping/);
    assert.match(out, /\[idv\] stopped/);
  });

  it('SIGKILL to npm: the runtime notices and stops by itself', async () => {
    await start();
    npm?.kill('SIGKILL');
    await waitFor('the runtime to exit', async () => !alive(runtimePid ?? 0), 20_000);
    assert.match(out, /npm, which started the runtime, has exited: stopping/);
    assert.match(out, /\[idv\] stopped/);
  });
});
