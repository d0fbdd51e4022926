import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Guards of the test runner itself (issue 18): nothing may let the suite pass while hiding something. A committed
 * `.only` must fail the run (mocha's forbid-only), and `--exit` / `exit: true` must be refused, since it ends mocha
 * with servers, sockets or timers still open and so hides the open handles a close handler should have released.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runner = require(path.join(ROOT, 'scripts', 'test-files.js')) as {
  runnerConfigProblems(dir: string): string[];
  refusedArgs(args: string[]): string[];
};

describe('test runner guards (scripts/test-files.js, .mocharc.json)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-runner-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));

  it("the project's own configuration passes the guards", () => {
    assert.deepEqual(runner.runnerConfigProblems(ROOT), []);
  });

  it('refuses a configuration that sets exit, lacks forbid-only, or that mocha would read instead of .mocharc.json', () => {
    write('.mocharc.json', { 'forbid-only': true, exit: true });
    assert.match(runner.runnerConfigProblems(dir).join('\n'), /sets "exit"/);
    write('.mocharc.json', { timeout: 1000 });
    assert.match(runner.runnerConfigProblems(dir).join('\n'), /"forbid-only": true/);
    write('.mocharc.json', { 'forbid-only': true, exit: false });
    assert.deepEqual(runner.runnerConfigProblems(dir), [], 'exit: false is mocha’s default and harmless');
    write('.mocharc.yml', 'exit: true\n');
    assert.match(runner.runnerConfigProblems(dir).join('\n'), /\.mocharc\.yml exists/);
    fs.rmSync(path.join(dir, '.mocharc.yml'));
    write('package.json', { name: 'x', mocha: { exit: true } });
    assert.match(runner.runnerConfigProblems(dir).join('\n'), /"mocha" key/);
  });

  it('refuses --exit in every spelling mocha takes, and --no-forbid-only; other options pass', () => {
    for (const a of ['--exit', '--exit=true']) assert.match(runner.refusedArgs([a]).join(), /hides open handles/, a);
    assert.match(runner.refusedArgs(['--no-forbid-only']).join(), /\.only/);
    assert.deepEqual(runner.refusedArgs(['--no-exit', '--grep', 'exit', '--bail']), []);
  });

  it('npm test with --exit stops before any test runs, exit code 2, saying why', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'test-files.js'), '--exit', 'dist/test/unit/text'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--exit is refused/);
    assert.doesNotMatch(r.stdout, /passing|failing/, 'mocha never started');
  });

  it('a committed .only fails the run under the project configuration (forbid-only)', () => {
    const spec = path.join(dir, 'only.test.js');
    fs.writeFileSync(spec, "it.only('the one test that would run', () => {});\nit('the rest', () => {});\n");
    const r = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), '--config', path.join(ROOT, '.mocharc.json'), '--reporter', 'dot', spec], { cwd: ROOT, encoding: 'utf8' });
    assert.notEqual(r.status, 0, `mocha passed with .only: ${r.stdout}`);
    assert.match(r.stdout + r.stderr, /\.only forbidden|forbid.?only/i);
  });
});
